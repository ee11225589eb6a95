package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisLimiterPrefix starts every key a RedisLimiter writes when
// RedisLimiterOptions.Prefix is empty.
const DefaultRedisLimiterPrefix = "frontdesk:limit:"

// RedisLimiterOptions tunes NewRedisLimiter. The zero value is ready.
type RedisLimiterOptions struct {
	// Prefix starts every key, so several instances (or test runs) can
	// share one Redis. Defaults to DefaultRedisLimiterPrefix.
	Prefix string
	// Now is the clock. Defaults to nil, which uses the Redis server's
	// clock (TIME), so the nodes of a cluster need not agree on the time.
	// Tests set it.
	Now func() time.Time
}

// RedisLimiter is the Limiter shared by every node of a cluster: the same
// GCRA as MemoryLimiter, one Redis key per limited key holding the time its
// allowance is fully restored, updated by a Lua script so that a Take is
// atomic however many nodes race. Each key expires when its allowance is
// restored, so Redis holds only keys that are limiting someone. Keys are
// stored as a digest: no email address is written to Redis.
type RedisLimiter struct {
	rdb    redis.Scripter
	prefix string
	now    func() time.Time
}

var _ Limiter = (*RedisLimiter)(nil)

// NewRedisLimiter returns a RedisLimiter on rdb (a *redis.Client, a
// *redis.ClusterClient, ...).
func NewRedisLimiter(rdb redis.Scripter, opts RedisLimiterOptions) *RedisLimiter {
	if opts.Prefix == "" {
		opts.Prefix = DefaultRedisLimiterPrefix
	}
	return &RedisLimiter{rdb: rdb, prefix: opts.Prefix, now: opts.Now}
}

// Times in the scripts are integer microseconds: below 2^53 until the year
// 2255, so exact in Lua's doubles, and written with %d, never in Lua's
// lossy default number format.
const redisNow = `
local now
if ARGV[3] == "" then
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[3])
end
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call("GET", KEYS[1]) or "0")
`

// redisTake returns {allowed (0 or 1), retry after in microseconds}.
var redisTake = redis.NewScript(redisNow + `
if tat < now then tat = now end
local nxt = tat + interval
local over = nxt - now - window
if over > 0 then return {0, over} end
redis.call("SET", KEYS[1], string.format("%d", nxt), "PX", math.floor((nxt - now) / 1000) + 1)
return {1, 0}
`)

var redisRefund = redis.NewScript(redisNow + `
if tat == 0 then return 0 end
tat = tat - interval
if tat <= now then
  redis.call("DEL", KEYS[1])
  return 0
end
redis.call("SET", KEYS[1], string.format("%d", tat), "PX", math.floor((tat - now) / 1000) + 1)
return 0
`)

// args are the scripts' ARGV: interval, window, and now ("" for Redis's
// clock), in microseconds.
func (l *RedisLimiter) args(rate Rate) []any {
	now := ""
	if l.now != nil {
		now = fmt.Sprint(l.now().UnixMicro())
	}
	return []any{rate.interval().Microseconds(), rate.Window.Microseconds(), now}
}

func (l *RedisLimiter) key(key string) string {
	sum := sha256.Sum256([]byte(key))
	return l.prefix + hex.EncodeToString(sum[:16])
}

// Take implements Limiter.
func (l *RedisLimiter) Take(ctx context.Context, key string, rate Rate) (Decision, error) {
	if !rate.valid() || rate.interval() < time.Microsecond {
		return Decision{}, errBadRate
	}
	res, err := redisTake.Run(ctx, l.rdb, []string{l.key(key)}, l.args(rate)...).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("auth: redis limiter: %w", err)
	}
	if len(res) != 2 {
		return Decision{}, fmt.Errorf("auth: redis limiter: unexpected reply %v", res)
	}
	if res[0] == 1 {
		return Decision{Allowed: true}, nil
	}
	return Decision{RetryAfter: time.Duration(res[1]) * time.Microsecond}, nil
}

// Refund implements Limiter.
func (l *RedisLimiter) Refund(ctx context.Context, key string, rate Rate) error {
	if !rate.valid() || rate.interval() < time.Microsecond {
		return errBadRate
	}
	if err := redisRefund.Run(ctx, l.rdb, []string{l.key(key)}, l.args(rate)...).Err(); err != nil {
		return fmt.Errorf("auth: redis limiter: %w", err)
	}
	return nil
}
