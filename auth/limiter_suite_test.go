package auth_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
)

// newLimiterFunc makes a Limiter on a clock. Every Limiter passes
// exerciseLimiter, the one suite of the Limiter contract.
type newLimiterFunc func(t *testing.T, now func() time.Time) auth.Limiter

func exerciseLimiter(t *testing.T, newLimiter newLimiterFunc) {
	t.Run("a burst, then one attempt per interval", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		clock := newFakeClock()
		l := newLimiter(t, clock.Now)
		rate := auth.Rate{Limit: 10, Window: 15 * time.Minute}
		for i := range 10 {
			d, err := l.Take(ctx, "k", rate)
			require.NoError(t, err)
			require.True(t, d.Allowed, "attempt %d", i+1)
		}
		d, err := l.Take(ctx, "k", rate)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, 90*time.Second, d.RetryAfter)
		d, err = l.Take(ctx, "login:email:other@acme.test", rate)
		require.NoError(t, err)
		require.True(t, d.Allowed, "keys are independent")

		clock.Advance(89 * time.Second)
		d, _ = l.Take(ctx, "k", rate)
		require.False(t, d.Allowed)
		require.Equal(t, time.Second, d.RetryAfter)
		clock.Advance(time.Second)
		d, _ = l.Take(ctx, "k", rate)
		require.True(t, d.Allowed)
		d, _ = l.Take(ctx, "k", rate)
		require.False(t, d.Allowed, "a refused attempt earns nothing back")

		clock.Advance(15 * time.Minute)
		for range 10 {
			d, _ = l.Take(ctx, "k", rate)
			require.True(t, d.Allowed, "a full window restores the whole allowance")
		}
	})
	t.Run("refunds", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		clock := newFakeClock()
		l := newLimiter(t, clock.Now)
		rate := auth.Rate{Limit: 3, Window: time.Minute}
		for range 20 {
			d, err := l.Take(ctx, "k", rate)
			require.NoError(t, err)
			require.True(t, d.Allowed)
			require.NoError(t, l.Refund(ctx, "k", rate))
		}
		require.NoError(t, l.Refund(ctx, "never-taken", rate))
		for range 3 {
			d, _ := l.Take(ctx, "k", rate)
			require.True(t, d.Allowed)
		}
		d, _ := l.Take(ctx, "k", rate)
		require.False(t, d.Allowed, "refunds never bank more than the allowance")
		_, err := l.Take(ctx, "k", auth.Rate{})
		require.Error(t, err, "a zero rate is a programming error, not unlimited")
		require.Error(t, l.Refund(ctx, "k", auth.Rate{}))
	})
	t.Run("atomic under concurrency", func(t *testing.T) {
		t.Parallel()
		l := newLimiter(t, nil)
		rate := auth.Rate{Limit: 10, Window: time.Hour}
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := l.Take(context.Background(), "k", rate)
				if err == nil && d.Allowed {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(10), allowed.Load())
	})
}

func TestMemoryLimiterContract(t *testing.T) {
	t.Parallel()
	exerciseLimiter(t, func(_ *testing.T, now func() time.Time) auth.Limiter {
		return auth.NewMemoryLimiter(auth.MemoryLimiterOptions{Now: now})
	})
}

func TestRedisLimiterContract(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t)
	exerciseLimiter(t, func(t *testing.T, now func() time.Time) auth.Limiter {
		return auth.NewRedisLimiter(rdb, auth.RedisLimiterOptions{Prefix: testRedisPrefix(t, rdb), Now: now})
	})
}

// TestRedisLimiterIsSharedByNodes is why it exists: two nodes draw on one
// allowance, on Redis's clock, and Redis keeps no email and no dead key.
func TestRedisLimiterIsSharedByNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testRedis(t)
	prefix := testRedisPrefix(t, rdb)
	a := auth.NewRedisLimiter(rdb, auth.RedisLimiterOptions{Prefix: prefix})
	b := auth.NewRedisLimiter(rdb, auth.RedisLimiterOptions{Prefix: prefix})
	rate := auth.Rate{Limit: 4, Window: time.Hour}
	const key = "login:email:victim@acme.test"
	for i := range 4 {
		l := a
		if i%2 == 1 {
			l = b
		}
		d, err := l.Take(ctx, key, rate)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}
	for _, l := range []*auth.RedisLimiter{a, b} {
		d, err := l.Take(ctx, key, rate)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.InDelta(t, float64(15*time.Minute), float64(d.RetryAfter), float64(time.Second))
	}

	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.NotContains(t, keys[0], "victim")
	ttl, err := rdb.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 59*time.Minute, "kept until the allowance is restored")
	require.LessOrEqual(t, ttl, time.Hour+time.Second)

	for range 4 {
		require.NoError(t, b.Refund(ctx, key, rate))
	}
	n, err := rdb.Exists(ctx, keys[0]).Result()
	require.NoError(t, err)
	require.Zero(t, n, "a fully refunded key is deleted")
}

func TestRedisLimiterFailsWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	l := auth.NewRedisLimiter(rdb, auth.RedisLimiterOptions{})
	_, err := l.Take(context.Background(), "k", auth.Rate{Limit: 1, Window: time.Minute})
	require.Error(t, err, "the service then refuses the attempt: it fails closed")
}

// testRedis returns a client of the test Redis: FRONTDESK_TEST_REDIS_URL,
// by default redis://127.0.0.1:6379/0. Like the Postgres tests these fail
// when it is unreachable; set the variable to "skip" to skip them.
func testRedis(t *testing.T) *redis.Client {
	t.Helper()
	u := os.Getenv("FRONTDESK_TEST_REDIS_URL")
	if u == "skip" {
		t.Skip("FRONTDESK_TEST_REDIS_URL=skip")
	}
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(u)
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s is unreachable (set FRONTDESK_TEST_REDIS_URL, or =skip): %v", opt.Addr, err)
	}
	return rdb
}

// testRedisPrefix is a key prefix of the test's own, deleted at cleanup.
func testRedisPrefix(t *testing.T, rdb *redis.Client) string {
	t.Helper()
	prefix := "fdtest:" + strings.ToLower(auth.NewToken()[:12]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := rdb.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return prefix
}
