package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestSetUserDeactivated(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		require.Nil(t, b.agent.DeactivatedAt, "new users are active")
		require.True(t, b.agent.Active())

		u, err := s.SetUserDeactivated(ctx, b.ws, b.agent.ID, true)
		require.NoError(t, err)
		require.NotNil(t, u.DeactivatedAt)
		require.False(t, u.Active())
		first := *u.DeactivatedAt
		require.WithinDuration(t, time.Now(), first, time.Minute)

		// Every read carries the field: get, by email, the list, and the
		// cross-workspace lookup of login.
		got, err := s.GetUser(ctx, b.ws, b.agent.ID)
		require.NoError(t, err)
		require.Equal(t, first, *got.DeactivatedAt)
		got, err = s.GetUserByEmail(ctx, b.ws, "agent@acme.test")
		require.NoError(t, err)
		require.NotNil(t, got.DeactivatedAt)
		list, err := s.ListUsers(ctx, b.ws, 0)
		require.NoError(t, err)
		require.Len(t, list, 2, "a deactivated user is still listed")
		for _, l := range list {
			require.Equal(t, l.ID == b.agent.ID, l.DeactivatedAt != nil, l.Email)
		}
		found, err := s.FindUsersByEmail(ctx, "agent@acme.test")
		require.NoError(t, err)
		require.Len(t, found, 1)
		require.NotNil(t, found[0].DeactivatedAt)

		// Again: the first time stands.
		u, err = s.SetUserDeactivated(ctx, b.ws, b.agent.ID, true)
		require.NoError(t, err)
		require.Equal(t, first, *u.DeactivatedAt)

		// Other changes leave it alone.
		name := "Bobby"
		u, err = s.UpdateUser(ctx, b.ws, b.agent.ID, storage.UserUpdate{Name: &name})
		require.NoError(t, err)
		require.Equal(t, first, *u.DeactivatedAt)

		u, err = s.SetUserDeactivated(ctx, b.ws, b.agent.ID, false)
		require.NoError(t, err)
		require.Nil(t, u.DeactivatedAt)
		require.Equal(t, "Bobby", u.Name)
		u, err = s.SetUserDeactivated(ctx, b.ws, b.agent.ID, false)
		require.NoError(t, err, "reactivating an active user is a no-op")
		require.Nil(t, u.DeactivatedAt)
		admin, err := s.GetUser(ctx, b.ws, b.admin.ID)
		require.NoError(t, err)
		require.Nil(t, admin.DeactivatedAt, "only that user moved")
	})
}

func TestSetUserDeactivatedIsScopedToTheWorkspace(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a := setup(t, s)
		b := setup(t, s)
		for _, deactivated := range []bool{true, false} {
			_, err := s.SetUserDeactivated(ctx, b.ws, a.agent.ID, deactivated)
			require.ErrorIs(t, err, storage.ErrNotFound, "another workspace's user")
			_, err = s.SetUserDeactivated(ctx, "", a.agent.ID, deactivated)
			require.ErrorIs(t, err, storage.ErrInvalid, "an empty workspace id")
			_, err = s.SetUserDeactivated(ctx, a.ws, "", deactivated)
			require.ErrorIs(t, err, storage.ErrInvalid, "an empty user id")
			_, err = s.SetUserDeactivated(ctx, a.ws, "no-such-user", deactivated)
			require.ErrorIs(t, err, storage.ErrNotFound)
		}
		got, err := s.GetUser(ctx, a.ws, a.agent.ID)
		require.NoError(t, err)
		require.Nil(t, got.DeactivatedAt)
	})
}

func TestRevokeUserAPITokens(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a := setup(t, s)
		b := setup(t, s)
		mk := func(ws, user, name string) *storage.APIToken {
			tok, err := s.CreateAPIToken(ctx, ws, storage.NewAPIToken{UserID: user, Name: name, TokenHash: hash64(ws + name)})
			require.NoError(t, err)
			return tok
		}
		ci := mk(a.ws, a.agent.ID, "ci")
		crm := mk(a.ws, a.agent.ID, "crm")
		admins := mk(a.ws, a.admin.ID, "admin's")
		already := mk(a.ws, a.agent.ID, "old")
		require.NoError(t, s.RevokeAPIToken(ctx, a.ws, already.ID))
		before, err := s.GetAPIToken(ctx, a.ws, already.ID)
		require.NoError(t, err)

		n, err := s.RevokeUserAPITokens(ctx, b.ws, a.agent.ID)
		require.NoError(t, err)
		require.Zero(t, n, "another workspace revokes nothing")
		_, err = s.RevokeUserAPITokens(ctx, "", a.agent.ID)
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.RevokeUserAPITokens(ctx, a.ws, "")
		require.ErrorIs(t, err, storage.ErrInvalid)

		n, err = s.RevokeUserAPITokens(ctx, a.ws, a.agent.ID)
		require.NoError(t, err)
		require.Equal(t, int64(2), n, "the live ones")
		for id, revoked := range map[string]bool{ci.ID: true, crm.ID: true, admins.ID: false} {
			got, err := s.GetAPIToken(ctx, a.ws, id)
			require.NoError(t, err)
			require.Equal(t, revoked, got.RevokedAt != nil, id)
		}
		after, err := s.GetAPIToken(ctx, a.ws, already.ID)
		require.NoError(t, err)
		require.Equal(t, *before.RevokedAt, *after.RevokedAt, "an earlier revocation keeps its time")
		toks, err := s.ListAPITokens(ctx, a.ws, 0)
		require.NoError(t, err)
		require.Len(t, toks, 1)
		require.Equal(t, admins.ID, toks[0].ID)
	})
}
