package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
)

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := auth.NewHasher(auth.FastParams(), 0)
	hash, err := h.Hash(ctx, "correct horse battery")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$"), hash)

	ok, err := h.Verify(ctx, hash, "correct horse battery")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = h.Verify(ctx, hash, "correct horse batterY")
	require.NoError(t, err)
	require.False(t, ok)

	again, err := h.Hash(ctx, "correct horse battery")
	require.NoError(t, err)
	require.NotEqual(t, hash, again, "a fresh salt every time")
	require.False(t, h.NeedsRehash(hash))
}

func TestDefaultParamsAreOWASPStrength(t *testing.T) {
	t.Parallel()
	p := auth.DefaultParams()
	require.GreaterOrEqual(t, p.Memory, uint32(19*1024))
	require.GreaterOrEqual(t, p.Time, uint32(2))
	require.GreaterOrEqual(t, p.SaltLen, uint32(16))
	require.GreaterOrEqual(t, p.KeyLen, uint32(32))
	h := auth.NewHasher(auth.Params{}, 1)
	require.Equal(t, p, h.Params(), "the zero value means the defaults")
}

func TestVerifyUsesTheHashsOwnParameters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := auth.NewHasher(auth.Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}, 1)
	hash, err := old.Hash(ctx, "an old password")
	require.NoError(t, err)

	current := auth.NewHasher(auth.FastParams(), 1)
	ok, err := current.Verify(ctx, hash, "an old password")
	require.NoError(t, err)
	require.True(t, ok, "old hashes keep verifying after the parameters change")
	require.True(t, current.NeedsRehash(hash))
}

func TestVerifyRefusesMalformedHashes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := auth.NewHasher(auth.FastParams(), 1)
	for _, bad := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		// Parameters that would make Verify allocate 4 TiB or loop forever.
		"$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=4000000000,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
	} {
		ok, err := h.Verify(ctx, bad, "whatever")
		require.ErrorIs(t, err, auth.ErrMalformedHash, bad)
		require.False(t, ok)
	}
}

func TestHashingRefusesUnboundedInput(t *testing.T) {
	t.Parallel()
	h := auth.NewHasher(auth.FastParams(), 1)
	hash, err := h.Hash(context.Background(), "0123456789")
	require.NoError(t, err)
	_, err = h.Hash(context.Background(), strings.Repeat("x", auth.MaxPasswordBytes+1))
	require.ErrorIs(t, err, auth.ErrWeakPassword)
	ok, err := h.Verify(context.Background(), hash, strings.Repeat("x", 1<<20))
	require.NoError(t, err)
	require.False(t, ok)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = h.Hash(ctx, "0123456789")
	require.ErrorIs(t, err, context.Canceled, "a request already gone does not start a hash")
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		password, email string
		ok              bool
	}{
		{"0123456789", "a@b.test", true},
		{"ünïcödé-ok", "a@b.test", true}, // 10 characters, more bytes
		{"012345678", "a@b.test", false},
		{strings.Repeat("x", auth.MaxPasswordBytes), "a@b.test", true},
		{strings.Repeat("x", auth.MaxPasswordBytes+1), "a@b.test", false},
		{"ada@example.test", "Ada@Example.TEST", false},
		{" ada@example.test ", "ada@example.test", false},
		{"0123456789\x00", "a@b.test", false},
		{"0123456789\xff", "a@b.test", false},
	} {
		err := auth.CheckPassword(tc.password, tc.email)
		if tc.ok {
			require.NoError(t, err, tc.password)
		} else {
			require.ErrorIs(t, err, auth.ErrWeakPassword, tc.password)
		}
	}
}

func TestCheckEmail(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"ada@example.test", "a.b+c@x.y", " ada@example.test "} {
		require.NoError(t, auth.CheckEmail(ok), ok)
	}
	for _, bad := range []string{
		"", "ada", "@example.test", "ada@", "Ada <ada@example.test>", "ada@example.test\r\nBcc: x@y.z",
		"ada@.example", "ada@example.", "a b@example.test", strings.Repeat("a", 250) + "@x.yz",
	} {
		require.ErrorIs(t, auth.CheckEmail(bad), auth.ErrInvalidEmail, bad)
	}
}

func FuzzCheckPasswordAndHash(f *testing.F) {
	for _, s := range []string{"", "0123456789", "ünïcödé-ok", "\x00\xff", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	h := auth.NewHasher(auth.FastParams(), 4)
	f.Fuzz(func(t *testing.T, password string) {
		if auth.CheckPassword(password, "a@b.test") != nil {
			return
		}
		hash, err := h.Hash(context.Background(), password)
		require.NoError(t, err)
		ok, err := h.Verify(context.Background(), hash, password)
		require.NoError(t, err)
		require.True(t, ok)
	})
}
