package storage_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestGetOrCreateSecretIsRaceSafe(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		var generated atomic.Int32
		values := make([]string, 8)
		errs := race(len(values), func(i int) error {
			v, err := s.GetOrCreateSecret(ctx, "signing_secret", func() string {
				generated.Add(1)
				return fmt.Sprintf("secret-%d", i)
			})
			values[i] = v
			return err
		})
		require.Equal(t, len(values), countWins(t, errs, nil))
		for _, v := range values {
			require.Equal(t, values[0], v, "every caller sees the winner's value")
		}
		require.GreaterOrEqual(t, generated.Load(), int32(1))

		again, err := s.GetOrCreateSecret(ctx, "signing_secret", func() string {
			t.Fatal("generate is not called once the secret exists")
			return ""
		})
		require.NoError(t, err)
		require.Equal(t, values[0], again)

		_, err = s.GetOrCreateSecret(ctx, "", func() string { return "x" })
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.GetOrCreateSecret(ctx, "empty", func() string { return "" })
		require.ErrorIs(t, err, storage.ErrInvalid)
	})
}

func TestSettings(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		_, err := s.GetSetting(ctx, "setup")
		require.ErrorIs(t, err, storage.ErrNotFound)
		require.NoError(t, s.InsertSetting(ctx, "setup", "done"))
		require.ErrorIs(t, s.InsertSetting(ctx, "setup", "again"), storage.ErrDuplicate)
		v, err := s.GetSetting(ctx, "setup")
		require.NoError(t, err)
		require.Equal(t, "done", v)
		require.ErrorIs(t, s.InsertSetting(ctx, "", "x"), storage.ErrInvalid)
		_, err = s.GetSetting(ctx, "")
		require.ErrorIs(t, err, storage.ErrInvalid)
	})
}

func TestCountWorkspaces(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		n, err := s.CountWorkspaces(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		setup(t, s)
		setup(t, s)
		n, err = s.CountWorkspaces(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
	})
}
