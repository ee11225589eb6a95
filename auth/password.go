package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password policy.
const (
	// MinPasswordChars is the shortest password accepted, in characters.
	MinPasswordChars = 10
	// MaxPasswordBytes is the longest password accepted, in bytes. It bounds
	// the work a single request can ask of the hasher.
	MaxPasswordBytes = 256
	// MaxEmailBytes is the longest email accepted (RFC 5321's path limit).
	MaxEmailBytes = 254
)

// ErrWeakPassword is returned, wrapped with the reason, for a password that
// breaks the policy.
var ErrWeakPassword = errors.New("auth: password does not meet the policy")

// ErrMalformedHash is returned by Verify for a stored hash it cannot read,
// or whose parameters are out of bounds.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// CheckPassword applies the password policy: at least MinPasswordChars
// characters, at most MaxPasswordBytes bytes, valid UTF-8 without NUL, and
// not the account's own email.
func CheckPassword(password, email string) error {
	switch {
	case len(password) > MaxPasswordBytes:
		return fmt.Errorf("%w: at most %d bytes", ErrWeakPassword, MaxPasswordBytes)
	case !utf8.ValidString(password) || strings.IndexByte(password, 0) >= 0:
		return fmt.Errorf("%w: not valid text", ErrWeakPassword)
	case utf8.RuneCountInString(password) < MinPasswordChars:
		return fmt.Errorf("%w: at least %d characters", ErrWeakPassword, MinPasswordChars)
	case email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		return fmt.Errorf("%w: must not be the email address", ErrWeakPassword)
	}
	return nil
}

// Params are argon2id's cost parameters.
type Params struct {
	// Memory is in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the parallelism.
	Threads uint8
	// SaltLen and KeyLen are in bytes.
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are OWASP's recommended argon2id minimums (19 MiB, 2
// passes, 1 thread): about 20-40 ms per hash on a current server core, which
// keeps a login flood from eating the machine while making offline guessing
// expensive.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// FastParams are cheap parameters for tests only: the hash format and every
// code path are the same, but a hash costs microseconds. Never use them for
// real passwords.
func FastParams() Params {
	return Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters read back from a stored hash, so a corrupt or hostile
// row cannot make Verify allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 32
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

func (p Params) valid() bool {
	return p.Memory >= 8*uint32(p.Threads) && p.Memory <= maxMemoryKiB &&
		p.Time >= 1 && p.Time <= maxTime && p.Threads >= 1 &&
		p.SaltLen >= minSaltLen && p.SaltLen <= maxSaltLen &&
		p.KeyLen >= minKeyLen && p.KeyLen <= maxKeyLen
}

// Hasher hashes and verifies passwords with argon2id. It is safe for
// concurrent use. At most a fixed number of hashes run at once; the others
// wait for a slot or for their context to end, so concurrent logins cannot
// allocate memory without bound.
type Hasher struct {
	params Params
	slots  chan struct{}
}

// DefaultMaxConcurrentHashes is how many hashes a Hasher runs at once when
// NewHasher is given 0: the number of CPUs, since each hash keeps one busy.
func DefaultMaxConcurrentHashes() int { return runtime.GOMAXPROCS(0) }

// NewHasher returns a Hasher using p (DefaultParams when p is the zero value)
// and running at most maxConcurrent hashes at once (0 means
// DefaultMaxConcurrentHashes). It panics on parameters out of bounds, a
// programming error.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	if p == (Params{}) {
		p = DefaultParams()
	}
	if !p.valid() {
		panic(fmt.Sprintf("auth: argon2id parameters out of bounds: %+v", p))
	}
	if maxConcurrent <= 0 {
		maxConcurrent = DefaultMaxConcurrentHashes()
	}
	return &Hasher{params: p, slots: make(chan struct{}, maxConcurrent)}
}

// Params returns the parameters new hashes use.
func (h *Hasher) Params() Params { return h.params }

// acquire waits for a hashing slot.
func (h *Hasher) acquire(ctx context.Context) error {
	// A request that is already gone does not start a hash, even when a
	// slot is free.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("auth: waiting to hash: %w", err)
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("auth: waiting to hash: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC-format argon2id hash of password with a fresh random
// salt. It does not apply the policy; call CheckPassword first.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("%w: at most %d bytes", ErrWeakPassword, MaxPasswordBytes)
	}
	salt := make([]byte, h.params.SaltLen)
	_, _ = rand.Read(salt) // never fails: crypto/rand crashes the program instead
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return encodeHash(h.params, salt, key), nil
}

// Verify reports whether password matches the encoded hash, comparing in
// constant time. The hash's own parameters are used, so hashes made with
// older parameters still verify. A malformed hash gives ErrMalformedHash.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordBytes {
		// Cannot match: no stored password is this long.
		return false, nil
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with other parameters than
// the Hasher's, so a successful login should store a fresh hash.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return true
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p != h.params
}

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

func encodeHash(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decodeHash(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: unsupported version", ErrMalformedHash)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("%w: parameters", ErrMalformedHash)
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrMalformedHash)
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: key", ErrMalformedHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if !p.valid() {
		return p, nil, nil, fmt.Errorf("%w: parameters out of bounds", ErrMalformedHash)
	}
	return p, salt, key, nil
}
