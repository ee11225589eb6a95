package chat

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// PresenceTable is where agents' statuses live: MemoryPresence on one
// node, RedisPresence shared by a cluster. Its methods are safe for
// concurrent use.
type PresenceTable interface {
	Presence
	// Set records an agent's status.
	Set(ws, userID string, st PresenceStatus)
	// Status returns an agent's status (Offline when unknown).
	Status(ws, userID string) PresenceStatus
}

var (
	_ PresenceTable = (*MemoryPresence)(nil)
	_ PresenceTable = (*RedisPresence)(nil)
)

// DefaultPresenceTTL is how long a status set in Redis lasts without a
// heartbeat. Nodes refresh the statuses of agents with an open socket
// every TTL/3, so an agent whose node died goes offline within the TTL.
const DefaultPresenceTTL = 90 * time.Second

// RedisPresence keeps agents' presence in Redis, so every node of a
// cluster sees the same agents online. Each agent's status is a key with a
// TTL; a workspace's online agents are a sorted set scored by expiry, read
// with Redis's own clock so nodes' clocks may differ.
type RedisPresence struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	log    *slog.Logger
}

// NewRedisPresence returns a presence table in rdb under prefix.
func NewRedisPresence(rdb redis.UniversalClient, prefix string, ttl time.Duration, log *slog.Logger) *RedisPresence {
	if ttl <= 0 {
		ttl = DefaultPresenceTTL
	}
	if log == nil {
		log = slog.Default()
	}
	return &RedisPresence{rdb: rdb, prefix: prefix, ttl: ttl, log: log}
}

// TTL returns how long a status lasts without a refresh.
func (p *RedisPresence) TTL() time.Duration { return p.ttl }

func (p *RedisPresence) statusKey(ws, user string) string {
	return p.prefix + "presence:" + ws + ":" + user
}

func (p *RedisPresence) onlineKey(ws string) string { return p.prefix + "presence-online:" + ws }

// setScript stores the status with its TTL and keeps the online set in
// step, scoring by Redis's clock.
var setScript = redis.NewScript(`
local now = redis.call('TIME')[1]
local ttl = tonumber(ARGV[2])
if ARGV[1] == 'offline' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
if ARGV[1] == 'online' then
  redis.call('ZADD', KEYS[2], now + ttl, ARGV[3])
else
  redis.call('ZREM', KEYS[2], ARGV[3])
end
redis.call('EXPIRE', KEYS[2], ttl * 2)
return 1
`)

var countScript = redis.NewScript(`
local now = redis.call('TIME')[1]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`)

// Set implements PresenceTable. A Redis failure is logged: presence is
// advisory, and a visitor is never blocked on it.
func (p *RedisPresence) Set(ws, userID string, st PresenceStatus) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := setScript.Run(ctx, p.rdb, []string{p.statusKey(ws, userID), p.onlineKey(ws)},
		string(st), int(p.ttl/time.Second), userID).Err()
	if err != nil {
		p.log.Warn("presence: set", "user", userID, "err", err)
	}
}

// Refresh extends an agent's current status by the TTL (the heartbeat of a
// node holding the agent's socket).
func (p *RedisPresence) Refresh(ws, userID string) {
	if st := p.Status(ws, userID); st != Offline {
		p.Set(ws, userID, st)
	}
}

// Status implements PresenceTable.
func (p *RedisPresence) Status(ws, userID string) PresenceStatus {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := p.rdb.Get(ctx, p.statusKey(ws, userID)).Result()
	if err != nil {
		if err != redis.Nil {
			p.log.Warn("presence: status", "user", userID, "err", err)
		}
		return Offline
	}
	return PresenceStatus(v)
}

// OnlineAgents implements Presence. When Redis cannot answer, it reports
// nobody online: the handover then takes its offline path (capture)
// rather than leaving the visitor waiting for agents it cannot see.
func (p *RedisPresence) OnlineAgents(ctx context.Context, ws string) int {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	n, err := countScript.Run(ctx, p.rdb, []string{p.onlineKey(ws)}).Int()
	if err != nil {
		p.log.Warn("presence: count", "workspace", ws, "err", err)
		return 0
	}
	return n
}
