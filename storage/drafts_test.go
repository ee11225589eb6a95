package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestDraftSaveNeedsTheCurrentRevision(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)

		d, err := s.GetDraft(ctx, b.ws, b.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, int64(0), d.Revision, "a new assistant's draft is at revision 0")
		require.JSONEq(t, `{}`, string(d.Graph))

		saved, err := s.SaveDraft(ctx, b.ws, b.assistant.ID, 0, storage.JSON(`{"by":"first"}`), b.admin.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), saved.Revision)

		// A second editor still on revision 0 gets a conflict carrying the
		// current revision, and overwrites nothing.
		_, err = s.SaveDraft(ctx, b.ws, b.assistant.ID, 0, storage.JSON(`{"by":"second"}`), b.agent.ID)
		require.ErrorIs(t, err, storage.ErrConflict)
		var ce *storage.ConflictError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, int64(1), ce.Current)
		require.Equal(t, int64(0), ce.Expected)

		got, err := s.GetDraft(ctx, b.ws, b.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), got.Revision)
		require.Equal(t, `{"by":"first"}`, string(got.Graph), "the graph comes back byte for byte")
		require.Equal(t, b.admin.ID, got.UpdatedBy)
	})
}

func TestConcurrentDraftSavesFromOneRevisionHaveOneWinner(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		errs := race(8, func(i int) error {
			_, err := s.SaveDraft(ctx, b.ws, b.assistant.ID, 0, storage.JSON(`{"i":1}`), "")
			return err
		})
		require.Equal(t, 1, countWins(t, errs, storage.ErrConflict))
		d, err := s.GetDraft(ctx, b.ws, b.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), d.Revision)
	})
}

func TestDraftRefusesInvalidGraphs(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		for _, g := range []string{``, `{`, `{"a":1}x`, "{\"a\":\"\x00\"}"} {
			_, err := s.SaveDraft(ctx, b.ws, b.assistant.ID, 0, storage.JSON(g), "")
			require.ErrorIs(t, err, storage.ErrInvalid, "graph %q", g)
		}
		_, err := s.SaveDraft(ctx, b.ws, "no-such-assistant", 0, storage.JSON(`{}`), "")
		require.ErrorIs(t, err, storage.ErrNotFound)
		require.False(t, errors.Is(err, storage.ErrConflict))
	})
}
