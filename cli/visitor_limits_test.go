package cli_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/cli"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
	"github.com/frontdesk/frontdesk/wire"
)

// startConfigured builds and runs a node from cfg (its address is chosen
// here), as Serve does.
func startConfigured(t *testing.T, cfg config.Config) *node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.Addr = ln.Addr().String()
	cfg.PublicURL = "http://" + cfg.Addr
	cfg.Migrate = true
	cfg.ShutdownTimeout = 5 * time.Second
	require.NoError(t, cfg.Validate())
	srv, err := cli.Build(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), cli.Env{Stdout: io.Discard, Stderr: io.Discard})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{t: t, srv: srv, base: cfg.PublicURL, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- srv.Run(ctx, ln) }()
	t.Cleanup(n.stop)
	return n
}

// refusedHello sends a hello that starts a conversation and expects the
// start limit's refusal: rate_limited, then close 4008.
func refusedHello(t *testing.T, base, key string) {
	t.Helper()
	conn, _, err := dial(t, base, key, shopOrigin)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, wire.EncodeClient(&wire.Hello{})))
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	sawError := false
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			ce, ok := err.(*websocket.CloseError)
			require.True(t, ok, "want a close frame, got %v", err)
			require.Equal(t, wire.CloseRateLimited, ce.Code)
			require.True(t, sawError, "a rate_limited error comes before the close")
			return
		}
		require.NotContains(t, string(data), `"type":"welcome"`)
		if strings.Contains(string(data), `"code":"rate_limited"`) {
			sawError = true
		}
	}
}

// The visitor limits come from the configuration
// (FRONTDESK_VISITOR_STARTS_PER_MINUTE, FRONTDESK_VISITOR_MESSAGES_PER_MINUTE)
// and, without Redis, are counted by the node alone.
func TestServeVisitorLimitsFromConfig(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.DatabaseURL = storagetest.URL(t, storage.SQLite)
	cfg.VisitorStartsPerMinute = 2
	cfg.VisitorMessagesPerMinute = 2
	n := startConfigured(t, cfg)
	_, isMemory := n.srv.Widget.Limiter.(*auth.MemoryLimiter)
	require.True(t, isMemory, "without Redis the node counts alone")
	tn := seedTenant(t, n.srv.Store, "lead-qualification")
	key := tn.channel.PublicKey

	v := connect(t, n.base, key, wire.Hello{})
	connect(t, n.base, key, wire.Hello{})
	refusedHello(t, n.base, key)

	v.say("m1", "Get a quote")
	v.next("ack")
	v.say("m2", "4")
	v.next("ack")
	v.say("m3", "$200")
	require.Equal(t, string(wire.CodeRateLimited), v.next("error")["code"])
}

// With FRONTDESK_REDIS_URL every node counts in Redis: two nodes built by
// cli.Build on one database and one Redis grant one budget between them.
func TestServeVisitorLimitsSharedThroughRedis(t *testing.T) {
	t.Parallel()
	redisURL := os.Getenv("FRONTDESK_TEST_REDIS_URL")
	if redisURL == "skip" {
		t.Skip("FRONTDESK_TEST_REDIS_URL=skip")
	}
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	cfg := config.Default()
	cfg.DatabaseURL = storagetest.URL(t, storage.Postgres)
	cfg.RedisURL = redisURL
	cfg.RedisPrefix = "limits-" + hex.EncodeToString(b) + ":"
	cfg.VisitorStartsPerMinute = 3
	n1 := startConfigured(t, cfg)
	n2 := startConfigured(t, cfg)
	for _, n := range []*node{n1, n2} {
		_, isRedis := n.srv.Widget.Limiter.(*auth.RedisLimiter)
		require.True(t, isRedis, "with Redis every node counts in Redis")
	}
	tn := seedTenant(t, n1.srv.Store, "lead-qualification")
	key := tn.channel.PublicKey

	connect(t, n1.base, key, wire.Hello{})
	connect(t, n2.base, key, wire.Hello{})
	connect(t, n1.base, key, wire.Hello{})
	refusedHello(t, n2.base, key)
	refusedHello(t, n1.base, key)
}
