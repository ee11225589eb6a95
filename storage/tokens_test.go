package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestAPITokens(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)

		ci, err := s.CreateAPIToken(ctx, b.ws, storage.NewAPIToken{UserID: b.admin.ID, Name: "  CI  ", TokenHash: hash64("ci")})
		require.NoError(t, err)
		require.Equal(t, "CI", ci.Name)
		require.Nil(t, ci.LastUsedAt)
		crm, err := s.CreateAPIToken(ctx, b.ws, storage.NewAPIToken{UserID: b.admin.ID, Name: "CRM", TokenHash: hash64("crm")})
		require.NoError(t, err)

		_, err = s.CreateAPIToken(ctx, b.ws, storage.NewAPIToken{UserID: b.admin.ID, Name: "dup", TokenHash: hash64("ci")})
		require.ErrorIs(t, err, storage.ErrDuplicate)
		for name, in := range map[string]storage.NewAPIToken{
			"no name":    {UserID: b.admin.ID, Name: "  ", TokenHash: hash64("x")},
			"short hash": {UserID: b.admin.ID, Name: "x", TokenHash: "abc"},
			"no user":    {Name: "x", TokenHash: hash64("x")},
		} {
			_, err := s.CreateAPIToken(ctx, b.ws, in)
			require.ErrorIs(t, err, storage.ErrInvalid, name)
		}
		_, err = s.CreateAPIToken(ctx, b.ws, storage.NewAPIToken{UserID: "no-such-user", Name: "x", TokenHash: hash64("x")})
		require.ErrorIs(t, err, storage.ErrNotFound)

		toks, err := s.ListAPITokens(ctx, b.ws, 0)
		require.NoError(t, err)
		require.Equal(t, []string{crm.ID, ci.ID}, []string{toks[0].ID, toks[1].ID}, "newest first")

		got, err := s.GetAPITokenByHash(ctx, hash64("ci"))
		require.NoError(t, err)
		require.Equal(t, ci.ID, got.ID)
		require.Equal(t, b.ws, got.WorkspaceID)
		_, err = s.GetAPITokenByHash(ctx, hash64("nope"))
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.GetAPITokenByHash(ctx, "")
		require.ErrorIs(t, err, storage.ErrNotFound)

		// Touch writes once per granularity.
		require.NoError(t, s.TouchAPIToken(ctx, b.ws, ci.ID, time.Hour))
		first, err := s.GetAPIToken(ctx, b.ws, ci.ID)
		require.NoError(t, err)
		require.NotNil(t, first.LastUsedAt)
		require.NoError(t, s.TouchAPIToken(ctx, b.ws, ci.ID, time.Hour))
		second, err := s.GetAPIToken(ctx, b.ws, ci.ID)
		require.NoError(t, err)
		require.Equal(t, first.LastUsedAt, second.LastUsedAt, "within the granularity nothing is written")

		require.NoError(t, s.RevokeAPIToken(ctx, b.ws, ci.ID))
		require.ErrorIs(t, s.RevokeAPIToken(ctx, b.ws, ci.ID), storage.ErrNotFound, "already revoked")
		got, err = s.GetAPITokenByHash(ctx, hash64("ci"))
		require.NoError(t, err)
		require.NotNil(t, got.RevokedAt, "a revoked token is returned as such; the caller refuses it")
		toks, err = s.ListAPITokens(ctx, b.ws, 0)
		require.NoError(t, err)
		require.Len(t, toks, 1, "revoked tokens are not listed")
	})
}
