package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// presenceTables runs fn on every PresenceTable implementation.
func presenceTables(t *testing.T, fn func(t *testing.T, p PresenceTable, expire func(ws, user string))) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		m := NewMemoryPresence()
		fn(t, m, func(ws, user string) { m.Set(ws, user, Offline) })
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		url := os.Getenv("FRONTDESK_TEST_REDIS_URL")
		if url == "skip" {
			t.Skip("FRONTDESK_TEST_REDIS_URL=skip")
		}
		if url == "" {
			url = "redis://127.0.0.1:6379/0"
		}
		opts, err := redis.ParseURL(url)
		require.NoError(t, err)
		rdb := redis.NewClient(opts)
		t.Cleanup(func() { rdb.Close() })
		require.NoError(t, rdb.Ping(context.Background()).Err(), "Redis must run for this test")
		b := make([]byte, 6)
		rand.Read(b)
		prefix := "test-" + hex.EncodeToString(b) + ":"
		p := NewRedisPresence(rdb, prefix, time.Minute, slog.New(slog.NewTextHandler(io.Discard, nil)))
		fn(t, p, func(ws, user string) {
			// Expire the agent's entry as a dead node's would.
			rdb.ZAdd(context.Background(), p.onlineKey(ws), redis.Z{Score: 1, Member: user})
			rdb.Del(context.Background(), p.statusKey(ws, user))
		})
	})
}

func TestPresenceTables(t *testing.T) {
	presenceTables(t, func(t *testing.T, p PresenceTable, expire func(ws, user string)) {
		ctx := context.Background()
		require.Equal(t, 0, p.OnlineAgents(ctx, "w1"))
		p.Set("w1", "ana", Online)
		p.Set("w1", "bo", Online)
		p.Set("w1", "cy", Away)
		p.Set("w2", "dee", Online)
		require.Equal(t, 2, p.OnlineAgents(ctx, "w1"), "away agents do not count")
		require.Equal(t, 1, p.OnlineAgents(ctx, "w2"), "workspaces are apart")
		require.Equal(t, Away, p.Status("w1", "cy"))
		p.Set("w1", "bo", Offline)
		require.Equal(t, Offline, p.Status("w1", "bo"))
		require.Equal(t, 1, p.OnlineAgents(ctx, "w1"))
		expire("w1", "ana")
		require.Equal(t, 0, p.OnlineAgents(ctx, "w1"), "an expired agent is offline")
		require.Equal(t, Offline, p.Status("w1", "ana"))
	})
}
