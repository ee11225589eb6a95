package auth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
)

// fakeClock is a settable clock for limiter and service tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// The Limiter contract is exercised in limiter_suite_test.go; these are
// MemoryLimiter's own properties.

func TestMemoryLimiterRefundsSuccesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	l := auth.NewMemoryLimiter(auth.MemoryLimiterOptions{Now: clock.Now})
	rate := auth.Rate{Limit: 3, Window: time.Minute}
	for range 100 {
		d, err := l.Take(ctx, "k", rate)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.NoError(t, l.Refund(ctx, "k", rate))
	}
	require.Zero(t, l.Len(), "a fully refunded key is forgotten")
	require.NoError(t, l.Refund(ctx, "never-taken", rate))
	_, err := l.Take(ctx, "k", auth.Rate{})
	require.Error(t, err, "a zero rate is a programming error, not unlimited")
}

func TestMemoryLimiterMemoryIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	l := auth.NewMemoryLimiter(auth.MemoryLimiterOptions{MaxKeys: 100, Now: clock.Now})
	rate := auth.Rate{Limit: 2, Window: time.Hour}

	// An attacker's key, exhausted.
	for range 2 {
		d, _ := l.Take(ctx, "attacker", rate)
		require.True(t, d.Allowed)
	}
	// A flood of fresh keys, each taking one attempt.
	for i := range 10_000 {
		_, err := l.Take(ctx, fmt.Sprintf("flood-%d", i), rate)
		require.NoError(t, err)
		require.LessOrEqual(t, l.Len(), 100)
	}
	d, _ := l.Take(ctx, "attacker", rate)
	require.False(t, d.Allowed, "the most indebted key survives the flood")
}
