package storage_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestOutboxDeliveryLifecycle(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		// A moment ahead of the clock the Store stamps rows with.
		now := time.Now().Add(time.Second)

		ok, err := s.InsertOutbox(ctx, b.ws, storage.NewOutboxEntry{EventID: "evt_ok", EventType: "lead.created", Payload: storage.JSON(`{"id":1}`)})
		require.NoError(t, err)
		require.Equal(t, storage.OutboxPending, ok.Status)
		flaky, err := s.InsertOutbox(ctx, b.ws, storage.NewOutboxEntry{EventType: "conversation.closed", Payload: storage.JSON(`{"id":2}`)})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(flaky.EventID, "evt_"), "a stable id is generated")
		_, err = s.InsertOutbox(ctx, b.ws, storage.NewOutboxEntry{EventType: "later", Payload: storage.JSON(`{}`), NotBefore: now.Add(time.Hour)})
		require.NoError(t, err)

		_, err = s.InsertOutbox(ctx, b.ws, storage.NewOutboxEntry{EventID: "evt_ok", EventType: "lead.created", Payload: storage.JSON(`{}`)})
		require.ErrorIs(t, err, storage.ErrDuplicate, "event ids are unique")

		claimed, err := s.ClaimOutbox(ctx, now, 10, time.Minute)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{ok.ID, flaky.ID}, outboxIDs(claimed), "the delayed entry is not due")
		for _, e := range claimed {
			require.Equal(t, 1, e.Attempts)
		}
		again, err := s.ClaimOutbox(ctx, now, 10, time.Minute)
		require.NoError(t, err)
		require.Empty(t, again, "leased entries are not claimed twice")

		require.NoError(t, s.MarkOutboxDelivered(ctx, b.ws, ok.ID))
		require.NoError(t, s.MarkOutboxDelivered(ctx, b.ws, ok.ID), "a second delivery report is harmless")

		require.NoError(t, s.RescheduleOutbox(ctx, b.ws, flaky.ID, now.Add(2*time.Minute), "503 Service Unavailable"))
		got, err := s.ClaimOutbox(ctx, now.Add(90*time.Second), 10, time.Minute)
		require.NoError(t, err)
		require.Empty(t, got, "not before the backoff")
		got, err = s.ClaimOutbox(ctx, now.Add(2*time.Minute), 10, time.Minute)
		require.NoError(t, err)
		require.Equal(t, []string{flaky.ID}, outboxIDs(got))
		require.Equal(t, flaky.EventID, got[0].EventID, "a retry keeps the event id")
		require.Equal(t, 2, got[0].Attempts)
		require.Equal(t, "503 Service Unavailable", got[0].LastError)

		require.NoError(t, s.DeadLetterOutbox(ctx, b.ws, flaky.ID, "gave up after 2 attempts\x00\xff"))
		require.ErrorIs(t, s.MarkOutboxDelivered(ctx, b.ws, flaky.ID), storage.ErrConflict)
		require.ErrorIs(t, s.RescheduleOutbox(ctx, b.ws, flaky.ID, now, "x"), storage.ErrConflict)

		dead, err := s.ListOutbox(ctx, b.ws, storage.OutboxFilter{Status: storage.OutboxDead})
		require.NoError(t, err)
		require.Len(t, dead, 1)
		require.Equal(t, "gave up after 2 attempts\uFFFD", dead[0].LastError)
		delivered, err := s.ListOutbox(ctx, b.ws, storage.OutboxFilter{Status: storage.OutboxDelivered})
		require.NoError(t, err)
		require.Len(t, delivered, 1)
		require.NotNil(t, delivered[0].DeliveredAt)

		require.ErrorIs(t, s.MarkOutboxDelivered(ctx, b.ws, "missing"), storage.ErrNotFound)
	})
}

func TestConcurrentOutboxClaimersGetEachEntryOnce(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		const entries = 60
		for i := range entries {
			_, err := s.InsertOutbox(ctx, b.ws, storage.NewOutboxEntry{EventType: "e", Payload: storage.JSON(fmt.Sprintf(`{"i":%d}`, i))})
			require.NoError(t, err)
		}
		now := time.Now().Add(time.Second)
		var (
			mu   sync.Mutex
			seen = map[string]int{}
		)
		errs := race(6, func(int) error {
			for {
				got, err := s.ClaimOutbox(ctx, now, 7, time.Hour)
				if err != nil {
					return err
				}
				if len(got) == 0 {
					return nil
				}
				mu.Lock()
				for _, e := range got {
					seen[e.ID]++
				}
				mu.Unlock()
			}
		})
		require.Equal(t, len(errs), countWins(t, errs, nil))
		require.Len(t, seen, entries)
		for id, n := range seen {
			require.Equal(t, 1, n, "entry %s claimed %d times", id, n)
		}
	})
}

func outboxIDs(es []storage.OutboxEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}
