package storage_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// hash64 returns a sha256 hex digest, the shape of session ids and token
// hashes.
func hash64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSessions(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		exp := t0.Add(30 * 24 * time.Hour)

		sess, err := s.CreateSession(ctx, b.ws, storage.NewSession{ID: hash64("a"), UserID: b.admin.ID, CSRFToken: "csrf-a", ExpiresAt: exp})
		require.NoError(t, err)
		require.Equal(t, exp, sess.ExpiresAt)
		require.Nil(t, sess.RevokedAt)

		got, err := s.GetSessionByHash(ctx, hash64("a"))
		require.NoError(t, err)
		require.Equal(t, b.ws, got.WorkspaceID, "the hash identifies the tenant")
		require.Equal(t, b.admin.ID, got.UserID)
		require.Equal(t, "csrf-a", got.CSRFToken)
		require.Equal(t, exp, got.ExpiresAt)
		require.False(t, got.LastSeenAt.IsZero())

		_, err = s.GetSessionByHash(ctx, hash64("unknown"))
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.GetSessionByHash(ctx, "")
		require.ErrorIs(t, err, storage.ErrNotFound, "an empty hash matches nothing")

		_, err = s.CreateSession(ctx, b.ws, storage.NewSession{ID: hash64("a"), UserID: b.admin.ID, CSRFToken: "x", ExpiresAt: exp})
		require.ErrorIs(t, err, storage.ErrDuplicate)
		for name, in := range map[string]storage.NewSession{
			"short id":   {ID: "abc", UserID: b.admin.ID, CSRFToken: "x", ExpiresAt: exp},
			"no user":    {ID: hash64("b"), CSRFToken: "x", ExpiresAt: exp},
			"no csrf":    {ID: hash64("b"), UserID: b.admin.ID, ExpiresAt: exp},
			"no expiry":  {ID: hash64("b"), UserID: b.admin.ID, CSRFToken: "x"},
			"csrf w/NUL": {ID: hash64("b"), UserID: b.admin.ID, CSRFToken: "x\x00", ExpiresAt: exp},
		} {
			_, err := s.CreateSession(ctx, b.ws, in)
			require.ErrorIs(t, err, storage.ErrInvalid, name)
		}

		require.NoError(t, s.TouchSession(ctx, b.ws, sess.ID))

		// Revoking every session of a user but one.
		second, err := s.CreateSession(ctx, b.ws, storage.NewSession{ID: hash64("b"), UserID: b.admin.ID, CSRFToken: "x", ExpiresAt: exp})
		require.NoError(t, err)
		third, err := s.CreateSession(ctx, b.ws, storage.NewSession{ID: hash64("c"), UserID: b.admin.ID, CSRFToken: "x", ExpiresAt: exp})
		require.NoError(t, err)
		agents, err := s.CreateSession(ctx, b.ws, storage.NewSession{ID: hash64("d"), UserID: b.agent.ID, CSRFToken: "x", ExpiresAt: exp})
		require.NoError(t, err)
		n, err := s.RevokeUserSessions(ctx, b.ws, b.admin.ID, second.ID)
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
		for id, revoked := range map[string]bool{sess.ID: true, second.ID: false, third.ID: true, agents.ID: false} {
			got, err := s.GetSessionByHash(ctx, id)
			require.NoError(t, err)
			require.Equal(t, revoked, got.RevokedAt != nil, id)
		}
		require.ErrorIs(t, s.TouchSession(ctx, b.ws, sess.ID), storage.ErrNotFound, "a revoked session is not touched")

		// One session; revoking twice keeps the first time.
		require.NoError(t, s.RevokeSession(ctx, b.ws, second.ID))
		first, err := s.GetSessionByHash(ctx, second.ID)
		require.NoError(t, err)
		require.NoError(t, s.RevokeSession(ctx, b.ws, second.ID))
		again, err := s.GetSessionByHash(ctx, second.ID)
		require.NoError(t, err)
		require.Equal(t, first.RevokedAt, again.RevokedAt)
		require.ErrorIs(t, s.RevokeSession(ctx, b.ws, hash64("nope")), storage.ErrNotFound)

		// Cleanup deletes expired and long-revoked rows everywhere.
		n, err = s.DeleteExpiredSessions(ctx, exp.Add(time.Second))
		require.NoError(t, err)
		require.Equal(t, int64(4), n)
		_, err = s.GetSessionByHash(ctx, agents.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.DeleteExpiredSessions(ctx, time.Time{})
		require.ErrorIs(t, err, storage.ErrInvalid)
	})
}

func TestSessionsAreDeletedWithTheirUser(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		victim := b.user(t, "leaver@acme.test")
		_, err := s.CreateSession(ctx, b.ws, storage.NewSession{ID: hash64("x"), UserID: victim.ID, CSRFToken: "x", ExpiresAt: t0})
		require.NoError(t, err)
		_, err = s.DB().ExecContext(ctx, `DELETE FROM users WHERE id = '`+victim.ID+`'`)
		require.NoError(t, err)
		_, err = s.GetSessionByHash(ctx, hash64("x"))
		require.ErrorIs(t, err, storage.ErrNotFound, "ON DELETE CASCADE")
	})
}

func TestFindUsersByEmailCrossesWorkspaces(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a := setup(t, s)
		b := setup(t, s)
		users, err := s.FindUsersByEmail(ctx, " ADMIN@acme.test ")
		require.NoError(t, err)
		require.Len(t, users, 2)
		require.ElementsMatch(t, []string{a.ws, b.ws}, []string{users[0].WorkspaceID, users[1].WorkspaceID})

		users, err = s.FindUsersByEmail(ctx, "nobody@acme.test")
		require.NoError(t, err)
		require.Empty(t, users)
		for _, e := range []string{"", "   "} {
			_, err = s.FindUsersByEmail(ctx, e)
			require.ErrorIs(t, err, storage.ErrInvalid, "an empty email never lists every user")
		}
	})
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		other := setup(t, s)
		name, role, manage := "Robert", storage.RoleAdmin, true

		u, err := s.UpdateUser(ctx, b.ws, b.agent.ID, storage.UserUpdate{Name: &name})
		require.NoError(t, err)
		require.Equal(t, "Robert", u.Name)
		require.Equal(t, storage.RoleAgent, u.Role, "nil fields stay")
		require.False(t, u.ManageAssistants)

		u, err = s.UpdateUser(ctx, b.ws, b.agent.ID, storage.UserUpdate{Role: &role, ManageAssistants: &manage})
		require.NoError(t, err)
		require.Equal(t, storage.RoleAdmin, u.Role)
		require.True(t, u.ManageAssistants)
		require.Equal(t, "Robert", u.Name)

		u, err = s.UpdateUser(ctx, b.ws, b.agent.ID, storage.UserUpdate{})
		require.NoError(t, err, "an empty update reads the user")
		require.Equal(t, "Robert", u.Name)

		bad := storage.Role("root")
		_, err = s.UpdateUser(ctx, b.ws, b.agent.ID, storage.UserUpdate{Role: &bad})
		require.ErrorIs(t, err, storage.ErrInvalid)
		long := string(make([]byte, storage.MaxNameBytes+1))
		_, err = s.UpdateUser(ctx, b.ws, b.agent.ID, storage.UserUpdate{Name: &long})
		require.ErrorIs(t, err, storage.ErrInvalid)

		pwned := "pwned"
		_, err = s.UpdateUser(ctx, other.ws, b.agent.ID, storage.UserUpdate{Name: &pwned})
		require.ErrorIs(t, err, storage.ErrNotFound, "another workspace's user")
		_, err = s.UpdateUser(ctx, "", b.agent.ID, storage.UserUpdate{Name: &pwned})
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.UpdateUser(ctx, "", b.agent.ID, storage.UserUpdate{})
		require.ErrorIs(t, err, storage.ErrInvalid, "even an empty update checks the workspace")
		got, err := s.GetUser(ctx, b.ws, b.agent.ID)
		require.NoError(t, err)
		require.Equal(t, "Robert", got.Name)
	})
}

// TestAuthTenantIsolation calls every workspace-scoped auth method with
// another workspace's id (ErrNotFound, nothing changes) and with an empty
// one (ErrInvalid).
func TestAuthTenantIsolation(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a := setup(t, s)
		b := setup(t, s)
		sess, err := s.CreateSession(ctx, a.ws, storage.NewSession{ID: hash64("a"), UserID: a.admin.ID, CSRFToken: "x", ExpiresAt: t0})
		require.NoError(t, err)
		tok, err := s.CreateAPIToken(ctx, a.ws, storage.NewAPIToken{UserID: a.admin.ID, Name: "ci", TokenHash: hash64("tok")})
		require.NoError(t, err)

		calls := map[string]func(ws string) error{
			"CreateSession": func(ws string) error {
				_, err := s.CreateSession(ctx, ws, storage.NewSession{ID: hash64("forged"), UserID: a.admin.ID, CSRFToken: "x", ExpiresAt: t0})
				return err
			},
			"TouchSession":  func(ws string) error { return s.TouchSession(ctx, ws, sess.ID) },
			"RevokeSession": func(ws string) error { return s.RevokeSession(ctx, ws, sess.ID) },
			"CreateAPIToken": func(ws string) error {
				_, err := s.CreateAPIToken(ctx, ws, storage.NewAPIToken{UserID: a.admin.ID, Name: "forged", TokenHash: hash64("forged")})
				return err
			},
			"GetAPIToken":    func(ws string) error { _, err := s.GetAPIToken(ctx, ws, tok.ID); return err },
			"RevokeAPIToken": func(ws string) error { return s.RevokeAPIToken(ctx, ws, tok.ID) },
			"UpdateUser": func(ws string) error {
				role := storage.RoleOwner
				_, err := s.UpdateUser(ctx, ws, a.agent.ID, storage.UserUpdate{Role: &role})
				return err
			},
		}
		for name, call := range calls {
			require.ErrorIs(t, call(b.ws), storage.ErrNotFound, "%s with another workspace's id", name)
			require.ErrorIs(t, call(""), storage.ErrInvalid, "%s with an empty workspace id", name)
		}
		for name, call := range map[string]func() error{
			"RevokeUserSessions": func() error { _, err := s.RevokeUserSessions(ctx, "", a.admin.ID, ""); return err },
			"ListAPITokens":      func() error { _, err := s.ListAPITokens(ctx, "", 0); return err },
			"TouchAPIToken":      func() error { return s.TouchAPIToken(ctx, "", tok.ID, 0) },
		} {
			require.ErrorIs(t, call(), storage.ErrInvalid, name)
		}

		// b's views show none of a's rows, and a's rows are intact.
		n, err := s.RevokeUserSessions(ctx, b.ws, a.admin.ID, "")
		require.NoError(t, err)
		require.Zero(t, n, "another workspace cannot revoke a's sessions")
		toks, err := s.ListAPITokens(ctx, b.ws, 0)
		require.NoError(t, err)
		require.Empty(t, toks)
		got, err := s.GetSessionByHash(ctx, sess.ID)
		require.NoError(t, err)
		require.Nil(t, got.RevokedAt)
		gotTok, err := s.GetAPITokenByHash(ctx, hash64("tok"))
		require.NoError(t, err)
		require.Nil(t, gotTok.RevokedAt)
		agent, err := s.GetUser(ctx, a.ws, a.agent.ID)
		require.NoError(t, err)
		require.Equal(t, storage.RoleAgent, agent.Role)
	})
}
