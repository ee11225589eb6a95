package storage_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestPublishNumbersVersionsFromOne(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s) // publishes version 1
		require.Equal(t, 1, b.version.Number)

		v2, err := s.PublishVersion(ctx, b.ws, b.assistant.ID, storage.JSON(`{"v":2}`), b.admin.ID)
		require.NoError(t, err)
		require.Equal(t, 2, v2.Number)

		// Rolling back republishes an old graph under the next number.
		v1, err := s.GetVersionByNumber(ctx, b.ws, b.assistant.ID, 1)
		require.NoError(t, err)
		v3, err := s.PublishVersion(ctx, b.ws, b.assistant.ID, v1.Graph, b.admin.ID)
		require.NoError(t, err)
		require.Equal(t, 3, v3.Number)
		require.Equal(t, string(v1.Graph), string(v3.Graph))

		latest, err := s.LatestVersion(ctx, b.ws, b.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, v3.ID, latest.ID)
		require.Nil(t, latest.Graph, "the graph is left out; GetVersion loads it")

		got, err := s.GetVersion(ctx, b.ws, v2.ID)
		require.NoError(t, err)
		require.Equal(t, `{"v":2}`, string(got.Graph))
		require.Equal(t, b.admin.ID, got.PublishedBy)

		list, err := s.ListVersions(ctx, b.ws, b.assistant.ID, 0)
		require.NoError(t, err)
		require.Len(t, list, 3)
		require.Equal(t, []int{3, 2, 1}, []int{list[0].Number, list[1].Number, list[2].Number}, "newest first")
		require.Nil(t, list[0].Graph, "lists leave graphs out")

		// A second assistant counts from 1 on its own.
		other, err := s.CreateAssistant(ctx, b.ws, storage.NewAssistant{Name: "Other"})
		require.NoError(t, err)
		_, err = s.LatestVersion(ctx, b.ws, other.ID)
		require.ErrorIs(t, err, storage.ErrNotFound, "never published")
		ov, err := s.PublishVersion(ctx, b.ws, other.ID, storage.JSON(`{}`), "")
		require.NoError(t, err)
		require.Equal(t, 1, ov.Number)
	})
}

func TestConcurrentPublishesGetConsecutiveNumbers(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		const n = 8
		numbers := make([]int, n)
		errs := race(n, func(i int) error {
			v, err := s.PublishVersion(ctx, b.ws, b.assistant.ID, storage.JSON(fmt.Sprintf(`{"i":%d}`, i)), "")
			if err == nil {
				numbers[i] = v.Number
			}
			return err
		})
		require.Equal(t, n, countWins(t, errs, nil))
		slices.Sort(numbers)
		require.Equal(t, []int{2, 3, 4, 5, 6, 7, 8, 9}, numbers)
	})
}

func TestVersionsAreImmutable(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		// The Store has no method to change a version; even a raw UPDATE
		// through the pool is refused by the schema.
		_, err := s.DB().ExecContext(ctx, `UPDATE versions SET graph = '{"tampered":true}' WHERE id = '`+b.version.ID+`'`)
		require.Error(t, err)
		require.Contains(t, err.Error(), "immutable")
		v, err := s.GetVersion(ctx, b.ws, b.version.ID)
		require.NoError(t, err)
		require.Equal(t, `{"nodes":[]}`, string(v.Graph))
	})
}
