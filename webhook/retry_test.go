package webhook_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/webhook"
)

func TestDefaultRetrySchedule(t *testing.T) {
	t.Parallel()
	p := webhook.DefaultRetryPolicy
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	want := []time.Duration{
		5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
		time.Hour, 6 * time.Hour, 12 * time.Hour,
	}
	for i, d := range want {
		attempt := i + 1
		next, ok := p.NextRetryAt(now, attempt, 0.5)
		require.True(t, ok, "attempt %d", attempt)
		require.Equal(t, d, next.Sub(now), "the middle draw is the plain delay, attempt %d", attempt)
		lo, _ := p.NextRetryAt(now, attempt, 0)
		hi, _ := p.NextRetryAt(now, attempt, 0.999999)
		require.InDelta(t, float64(d)*0.8, float64(lo.Sub(now)), float64(time.Millisecond))
		require.InDelta(t, float64(d)*1.2, float64(hi.Sub(now)), float64(d)/1000)
	}
	_, ok := p.NextRetryAt(now, 8, 0.5)
	require.False(t, ok, "the 8th attempt is the last")
}

func TestRetryPolicyRepeatsTheLastDelay(t *testing.T) {
	t.Parallel()
	p := webhook.RetryPolicy{Delays: []time.Duration{time.Second, time.Minute}, MaxAttempts: 5}
	now := time.Now()
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: time.Minute, 3: time.Minute, 4: time.Minute} {
		next, ok := p.NextRetryAt(now, attempt, 0.3)
		require.True(t, ok)
		require.Equal(t, want, next.Sub(now), "no jitter configured")
	}
}
