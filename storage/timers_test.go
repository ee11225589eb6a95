package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestTimersSetCancelAndClaimWhenDue(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)

		wait, err := s.SetTimer(ctx, b.ws, storage.NewTimer{ConversationID: c.ID, Name: "handover", FireAt: t0.Add(time.Minute)})
		require.NoError(t, err)
		require.Equal(t, storage.TimerPending, wait.State)
		_, err = s.SetTimer(ctx, b.ws, storage.NewTimer{ConversationID: c.ID, Name: "follow_up", FireAt: t0.Add(time.Hour),
			Payload: storage.JSON(`{"message":"still there?"}`)})
		require.NoError(t, err)

		// Setting a name again re-arms it under a new id.
		rearmed, err := s.SetTimer(ctx, b.ws, storage.NewTimer{ConversationID: c.ID, Name: "handover", FireAt: t0.Add(2 * time.Minute)})
		require.NoError(t, err)
		require.NotEqual(t, wait.ID, rearmed.ID)
		timers, err := s.ListTimers(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Len(t, timers, 2)
		require.True(t, timers[0].FireAt.Equal(t0.Add(2*time.Minute)), "got %v", timers[0].FireAt)

		// Nothing is due before its time.
		got, err := s.ClaimDueTimers(ctx, t0.Add(time.Minute), 10, time.Minute)
		require.NoError(t, err)
		require.Empty(t, got)

		got, err = s.ClaimDueTimers(ctx, t0.Add(2*time.Minute), 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, rearmed.ID, got[0].ID)
		require.Equal(t, b.ws, got[0].WorkspaceID)
		require.Equal(t, storage.TimerClaimed, got[0].State)
		require.Equal(t, 1, got[0].Attempts)

		// Claimed timers are not handed out again while the lease runs…
		again, err := s.ClaimDueTimers(ctx, t0.Add(2*time.Minute+30*time.Second), 10, time.Minute)
		require.NoError(t, err)
		require.Empty(t, again)
		// …but are after it, in case the worker died.
		again, err = s.ClaimDueTimers(ctx, t0.Add(3*time.Minute), 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, again, 1)
		require.Equal(t, 2, again[0].Attempts)

		require.NoError(t, s.FinishTimer(ctx, b.ws, again[0].ID))
		require.ErrorIs(t, s.FinishTimer(ctx, b.ws, again[0].ID), storage.ErrNotFound, "finished once")

		ok, err := s.CancelTimer(ctx, b.ws, c.ID, "follow_up")
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = s.CancelTimer(ctx, b.ws, c.ID, "follow_up")
		require.NoError(t, err)
		require.False(t, ok, "cancelling twice is harmless")
		got, err = s.ClaimDueTimers(ctx, t0.Add(2*time.Hour), 10, time.Minute)
		require.NoError(t, err)
		require.Empty(t, got, "a cancelled timer never fires")
	})
}

func TestRearmedTimerCannotBeFinishedByTheOldClaim(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		_, err := s.SetTimer(ctx, b.ws, storage.NewTimer{ConversationID: c.ID, Name: "idle", FireAt: t0})
		require.NoError(t, err)
		claimed, err := s.ClaimDueTimers(ctx, t0, 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, claimed, 1)

		// The visitor wrote meanwhile; the runner re-armed the timer.
		_, err = s.SetTimer(ctx, b.ws, storage.NewTimer{ConversationID: c.ID, Name: "idle", FireAt: t0.Add(time.Hour)})
		require.NoError(t, err)
		require.ErrorIs(t, s.FinishTimer(ctx, b.ws, claimed[0].ID), storage.ErrNotFound,
			"the stale firing learns it must roll back")
		timers, err := s.ListTimers(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Len(t, timers, 1)
		require.Equal(t, storage.TimerPending, timers[0].State)
	})
}

func TestConcurrentTimerClaimersGetEachTimerOnce(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		const timers = 60
		for i := range timers {
			c := b.conversation(t, storage.StatusBot)
			_, err := s.SetTimer(ctx, b.ws, storage.NewTimer{ConversationID: c.ID, Name: "wait", FireAt: t0.Add(time.Duration(i) * time.Second)})
			require.NoError(t, err)
		}
		var (
			mu   sync.Mutex
			seen = map[string]int{}
		)
		errs := race(6, func(int) error {
			for {
				got, err := s.ClaimDueTimers(ctx, t0.Add(time.Hour), 7, time.Hour)
				if err != nil {
					return err
				}
				if len(got) == 0 {
					return nil
				}
				mu.Lock()
				for _, tm := range got {
					seen[tm.ID]++
				}
				mu.Unlock()
			}
		})
		require.Equal(t, len(errs), countWins(t, errs, nil))
		require.Len(t, seen, timers, "every timer was claimed")
		for id, n := range seen {
			require.Equal(t, 1, n, "timer %s claimed %d times", id, n)
		}
	})
}

func TestTimerNeedsAConversationOfTheWorkspace(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		_, err := s.SetTimer(ctx, b.ws, storage.NewTimer{ConversationID: "missing", Name: "x", FireAt: t0})
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.SetTimer(ctx, b.ws, storage.NewTimer{ConversationID: "missing", Name: "", FireAt: t0})
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.ClaimDueTimers(ctx, t0, 10, 0)
		require.ErrorIs(t, err, storage.ErrInvalid, "a claim needs a lease")
	})
}
