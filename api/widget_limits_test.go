package api

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/wire"
)

// The visitor limits shared by all nodes: conversation starts per client
// address and messages per conversation, counted by an auth.Limiter.

func TestVisitorStartLimitPerAddress(t *testing.T) {
	t.Parallel()
	tn := newWidgetTenant(t)
	clock := newLimiterClock()
	n := serveWidget(t, tn, func(w *Widget) {
		w.Limiter = auth.NewMemoryLimiter(auth.MemoryLimiterOptions{Now: clock.Now})
		w.StartRate = auth.Rate{Limit: 3, Window: time.Minute}
	})

	first := n.visitor("127.0.0.1", wire.Hello{})
	n.visitor("127.0.0.1", wire.Hello{})
	n.visitor("127.0.0.1", wire.Hello{})
	require.EqualValues(t, 3, tn.conversations())

	// The fourth new conversation from the address is refused: a
	// rate_limited error naming the limit, then close 4008; nothing is
	// created.
	over := n.hello("127.0.0.1", wire.Hello{})
	e := over.next("error")
	require.Equal(t, string(wire.CodeRateLimited), e["code"])
	require.Contains(t, e["message"], "new conversations from this address")
	require.Contains(t, e["message"], "3 per minute")
	require.Contains(t, e["message"], "retry in 20s")
	ce := over.closeError()
	require.Equal(t, wire.CloseRateLimited, ce.Code)
	require.Contains(t, ce.Text, "retry in 20s")
	require.EqualValues(t, 3, tn.conversations())

	// Resuming an open conversation is not a start.
	again := n.visitor("127.0.0.1", wire.Hello{Token: first.token(), LastSeq: 0})
	require.Equal(t, first.conversation(), again.conversation())
	// Another address has its own allowance.
	n.visitor("127.0.0.2", wire.Hello{})
	require.EqualValues(t, 4, tn.conversations())

	// One start is earned back every Window/Limit.
	clock.Advance(20 * time.Second)
	n.visitor("127.0.0.1", wire.Hello{})
	over = n.hello("127.0.0.1", wire.Hello{})
	require.Equal(t, string(wire.CodeRateLimited), over.next("error")["code"])
	require.Equal(t, wire.CloseRateLimited, over.closeError().Code)
	require.EqualValues(t, 5, tn.conversations())
}

func TestVisitorMessageLimitPerConversation(t *testing.T) {
	t.Parallel()
	tn := newWidgetTenant(t)
	n := serveWidget(t, tn, func(w *Widget) {
		w.MessageRate = auth.Rate{Limit: 3, Window: time.Minute}
	})
	a := n.visitor("", wire.Hello{})
	// A second socket on the same conversation shares its budget.
	b := n.visitor("", wire.Hello{Token: a.token()})
	require.Equal(t, a.conversation(), b.conversation())

	a.say("m1", "Get a quote")
	require.Equal(t, "ack", a.answer("m1")["type"])
	b.say("m2", "4")
	require.Equal(t, "ack", b.answer("m2")["type"])
	a.say("m3", "$200")
	require.Equal(t, "ack", a.answer("m3")["type"])

	for _, c := range []*widgetClient{b, a} {
		c.say("m4", "solo@example.com")
		e := c.answer("m4")
		require.Equal(t, "error", e["type"])
		require.Equal(t, string(wire.CodeRateLimited), e["code"])
		require.Contains(t, e["message"], "too many messages in this conversation")
		require.Contains(t, e["message"], "3 per minute")
		require.Contains(t, e["message"], "same client_id")
		c.alive()
	}
	require.Equal(t, []string{"m1", "m2", "m3"}, tn.visitorClientIDs(a.conversation()), "refused messages are not stored")

	// Another conversation has its own budget.
	other := n.visitor("", wire.Hello{})
	other.say("o1", "Get a quote")
	require.Equal(t, "ack", other.answer("o1")["type"])
}

// brokenLimiter fails every Take whose key starts with prefix.
type brokenLimiter struct {
	auth.Limiter
	prefix string
}

func (l brokenLimiter) Take(ctx context.Context, key string, rate auth.Rate) (auth.Decision, error) {
	if strings.HasPrefix(key, l.prefix) {
		return auth.Decision{}, errors.New("limiter backend down")
	}
	return l.Limiter.Take(ctx, key, rate)
}

func TestVisitorLimitsFailClosed(t *testing.T) {
	t.Parallel()
	tn := newWidgetTenant(t)
	mem := auth.NewMemoryLimiter(auth.MemoryLimiterOptions{})

	starts := serveWidget(t, tn, func(w *Widget) { w.Limiter = brokenLimiter{mem, "start:"} })
	c := starts.hello("", wire.Hello{})
	require.Equal(t, string(wire.CodeRateLimited), c.next("error")["code"])
	require.Equal(t, wire.CloseRateLimited, c.closeError().Code)
	require.Zero(t, tn.conversations(), "no conversation without the limiter's word")

	messages := serveWidget(t, tn, func(w *Widget) { w.Limiter = brokenLimiter{mem, "message:"} })
	v := messages.visitor("", wire.Hello{})
	v.say("m1", "Get a quote")
	e := v.answer("m1")
	require.Equal(t, string(wire.CodeRateLimited), e["code"])
	require.Empty(t, tn.visitorClientIDs(v.conversation()))
	v.alive()
}

// testRedisClient returns a client of the test Redis
// (FRONTDESK_TEST_REDIS_URL, default redis://127.0.0.1:6379/0), or skips
// when it is set to "skip".
func testRedisClient(t *testing.T) *redis.Client {
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
	prefix := "fdtest:widget:" + strings.ToLower(auth.NewToken()[:12]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, err := rdb.Keys(ctx, prefix+"*").Result(); err == nil && len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return prefix
}

// TestVisitorLimitsSharedByNodes runs two nodes (two Widgets on two
// servers, each with a Redis limiter of its own on one Redis and one key
// prefix, as cli wires them with FRONTDESK_REDIS_URL): the two enforce one
// budget, so opening sockets on several nodes does not multiply it.
func TestVisitorLimitsSharedByNodes(t *testing.T) {
	t.Parallel()
	rdb := testRedisClient(t)
	prefix := testRedisPrefix(t, rdb)
	tn := newWidgetTenant(t)
	// An hour's window: nothing is earned back while the test runs.
	limits := func(w *Widget) {
		w.Limiter = auth.NewRedisLimiter(rdb, auth.RedisLimiterOptions{Prefix: prefix})
		w.StartRate = auth.Rate{Limit: 3, Window: time.Hour}
		w.MessageRate = auth.Rate{Limit: 4, Window: time.Hour}
	}
	n1 := serveWidget(t, tn, limits)
	n2 := serveWidget(t, tn, limits)

	t.Run("conversation starts per address", func(t *testing.T) {
		n1.visitor("127.0.0.1", wire.Hello{})
		n2.visitor("127.0.0.1", wire.Hello{})
		n1.visitor("127.0.0.1", wire.Hello{})
		for _, n := range []*widgetServer{n2, n1} {
			c := n.hello("127.0.0.1", wire.Hello{})
			require.Equal(t, string(wire.CodeRateLimited), c.next("error")["code"])
			require.Equal(t, wire.CloseRateLimited, c.closeError().Code)
		}
		require.EqualValues(t, 3, tn.conversations())
	})

	t.Run("messages per conversation", func(t *testing.T) {
		a := n1.visitor("127.0.0.2", wire.Hello{})
		b := n2.visitor("127.0.0.2", wire.Hello{Token: a.token()})
		require.Equal(t, a.conversation(), b.conversation())
		for i, c := range []*widgetClient{a, b, a, b} {
			id := "m" + string(rune('1'+i))
			c.say(id, "Get a quote")
			require.Equal(t, "ack", c.answer(id)["type"], id)
		}
		for _, c := range []*widgetClient{b, a} {
			c.say("m5", "one too many")
			require.Equal(t, string(wire.CodeRateLimited), c.answer("m5")["code"])
		}
		require.Equal(t, []string{"m1", "m2", "m3", "m4"}, tn.visitorClientIDs(a.conversation()))
	})
}

// TestVisitorLimitsPerNodeWithoutRedis shows what the shared limiter
// prevents: with a memory limiter each node grants the whole allowance.
func TestVisitorLimitsPerNodeWithoutRedis(t *testing.T) {
	t.Parallel()
	tn := newWidgetTenant(t)
	limits := func(w *Widget) { w.StartRate = auth.Rate{Limit: 2, Window: time.Hour} }
	n1 := serveWidget(t, tn, limits)
	n2 := serveWidget(t, tn, limits)
	for _, n := range []*widgetServer{n1, n1, n2, n2} {
		n.visitor("127.0.0.1", wire.Hello{})
	}
	require.EqualValues(t, 4, tn.conversations(), "two nodes, two allowances")
	c := n1.hello("127.0.0.1", wire.Hello{})
	require.Equal(t, wire.CloseRateLimited, c.closeError().Code)
}
