package webhook_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/webhook"
)

func TestReplayGuard(t *testing.T) {
	t.Parallel()
	g := webhook.NewReplayGuard(10*time.Minute, 0)
	now := time.Now()
	require.NoError(t, g.Check("evt_1", now))
	require.ErrorIs(t, g.Check("evt_1", now.Add(time.Minute)), webhook.ErrReplayed)
	require.NoError(t, g.Check("evt_2", now.Add(time.Minute)), "another id")
	require.NoError(t, g.Check("evt_1", now.Add(10*time.Minute)), "forgotten after the window")

	g.Forget("evt_2")
	require.NoError(t, g.Check("evt_2", now.Add(11*time.Minute)), "a receiver that failed forgets the id, so the retry is accepted")
}

func TestReplayGuardIsBounded(t *testing.T) {
	t.Parallel()
	g := webhook.NewReplayGuard(time.Hour, 100)
	now := time.Now()
	for i := range 1000 {
		require.NoError(t, g.Check(fmt.Sprintf("evt_%d", i), now))
		if i%3 == 0 {
			g.Forget(fmt.Sprintf("evt_%d", i))
		}
	}
	require.LessOrEqual(t, g.Len(), 100)
	require.ErrorIs(t, g.Check("evt_998", now), webhook.ErrReplayed, "the newest ids are kept")
	require.NoError(t, g.Check("evt_1", now), "the oldest are evicted first")
}
