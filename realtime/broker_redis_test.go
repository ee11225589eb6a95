package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/realtime/brokertest"
)

func newRedisBroker(t *testing.T) realtime.Broker {
	b := realtime.NewRedisBroker(newRedisClient(t, ""), realtime.RedisConfig{Prefix: uniquePrefix(t), Logger: quietLog})
	t.Cleanup(func() { brokertest.Within(t, "RedisBroker.Close", func() { _ = b.Close() }) })
	return b
}

func TestRedisBroker(t *testing.T) {
	t.Parallel()
	brokertest.Run(t, newRedisBroker)
}

// redisPair is two nodes' brokers sharing a prefix: publisher talks to
// Redis directly, subscriber goes through a proxy the test can break.
type redisPair struct {
	publisher, subscriber *realtime.RedisBroker
	proxy                 *proxy
	prefix                string
}

func newRedisPair(t *testing.T, health time.Duration) redisPair {
	t.Helper()
	direct := newRedisClient(t, "")
	p := newProxy(t, direct.Options().Addr)
	prefix := uniquePrefix(t)
	pub := realtime.NewRedisBroker(direct, realtime.RedisConfig{Prefix: prefix, Logger: quietLog})
	sub := realtime.NewRedisBroker(newRedisClient(t, p.Addr()), realtime.RedisConfig{
		Prefix: prefix, Logger: quietLog, HealthCheckInterval: health, CommandTimeout: time.Second})
	t.Cleanup(func() {
		brokertest.Within(t, "RedisBroker.Close", func() { _ = pub.Close(); _ = sub.Close() })
	})
	return redisPair{publisher: pub, subscriber: sub, proxy: p, prefix: prefix}
}

func waitLost(t *testing.T, s realtime.Subscription) {
	t.Helper()
	select {
	case <-s.Lost():
	case <-time.After(brokertest.Timeout):
		t.Fatalf("no loss signal on %q", s.Topic())
	}
}

// publishUntilReceived publishes until s receives, because after a
// reconnect the publisher cannot know when the resubscribe took effect.
func publishUntilReceived(t *testing.T, b realtime.Broker, s realtime.Subscription, payload string) {
	t.Helper()
	deadline := time.Now().Add(brokertest.Timeout)
	for time.Now().Before(deadline) {
		require.NoError(t, b.Publish(context.Background(), s.Topic(), []byte(payload)))
		select {
		case p := <-s.C():
			if string(p) == payload {
				return
			}
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%q never reached %q", payload, s.Topic())
}

func TestRedisBrokerAcrossNodes(t *testing.T) {
	t.Parallel()
	pair := newRedisPair(t, time.Second)
	ctx := bounded(t)
	s, err := pair.subscriber.Subscribe(ctx, "conv:9")
	require.NoError(t, err)
	defer s.Close()
	for i := range 50 {
		require.NoError(t, pair.publisher.Publish(ctx, "conv:9", fmt.Appendf(nil, "%d", i)))
	}
	for i := range 50 {
		require.Equal(t, fmt.Sprint(i), brokertest.Receive(t, s))
	}
}

func TestRedisBrokerReconnectSignalsLoss(t *testing.T) {
	t.Parallel()
	pair := newRedisPair(t, time.Second)
	// Publishes are bounded by the Redis client's timeouts; the waits
	// below by brokertest.Timeout each.
	ctx := context.Background()
	s, err := pair.subscriber.Subscribe(bounded(t), "conv:1")
	require.NoError(t, err)
	defer s.Close()
	leaving, err := pair.subscriber.Subscribe(bounded(t), "conv:2")
	require.NoError(t, err)
	require.NoError(t, pair.publisher.Publish(ctx, "conv:1", []byte("before")))
	require.Equal(t, "before", brokertest.Receive(t, s))

	pair.proxy.Cut()
	// Once the broker has noticed, it refuses new subscriptions at once
	// instead of hanging on a dial.
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		sub, err := pair.subscriber.Subscribe(ctx, "conv:3")
		if err == nil {
			sub.Close()
		}
		return errors.Is(err, realtime.ErrUnavailable)
	}, brokertest.Timeout, 10*time.Millisecond)
	// Published while this node is cut off: lost for it.
	require.NoError(t, pair.publisher.Publish(ctx, "conv:1", []byte("during")))
	// Leaving while Redis is away must not hang.
	start := time.Now()
	leaving.Close()
	require.Less(t, time.Since(start), 500*time.Millisecond)

	pair.proxy.Restore()
	waitLost(t, s)
	require.Equal(t, uint64(1), pair.subscriber.Stats().Reconnects)
	publishUntilReceived(t, pair.publisher, s, "after")
	// The channel left during the outage was unsubscribed once Redis was
	// back: this node no longer listens to it.
	require.Eventually(t, func() bool {
		n, err := newRedisClient(t, "").PubSubNumSub(ctx, pair.prefix+"conv:2").Result()
		return err == nil && n[pair.prefix+"conv:2"] == 0
	}, brokertest.Timeout, 20*time.Millisecond)
}

func TestRedisBrokerHalfOpenConnection(t *testing.T) {
	t.Parallel()
	pair := newRedisPair(t, 100*time.Millisecond)
	s, err := pair.subscriber.Subscribe(bounded(t), "conv:1")
	require.NoError(t, err)
	defer s.Close()
	// The connection stays open but nothing crosses it: only the health
	// check's unanswered ping can find out.
	pair.proxy.Silence()
	waitLost(t, s)
	publishUntilReceived(t, pair.publisher, s, "after")
}

func TestRedisBrokerSubscribeWhileRedisDown(t *testing.T) {
	t.Parallel()
	pair := newRedisPair(t, time.Second)
	pair.proxy.Cut()
	ctx, cancel := context.WithTimeout(context.Background(), brokertest.Timeout)
	defer cancel()
	_, err := pair.subscriber.Subscribe(ctx, "conv:1")
	require.ErrorIs(t, err, realtime.ErrUnavailable)
	require.Error(t, pair.subscriber.Publish(ctx, "conv:1", []byte("x")), "publishing through a dead connection fails")
	pair.proxy.Restore()
	require.Eventually(t, func() bool {
		s, err := pair.subscriber.Subscribe(ctx, "conv:1")
		if err != nil {
			return false
		}
		s.Close()
		return true
	}, brokertest.Timeout, 20*time.Millisecond)
}

func TestRedisBrokerCloseWhileRedisDown(t *testing.T) {
	t.Parallel()
	pair := newRedisPair(t, time.Second)
	s, err := pair.subscriber.Subscribe(bounded(t), "conv:1")
	require.NoError(t, err)
	pair.proxy.Cut()
	done := make(chan error, 1)
	go func() { done <- pair.subscriber.Close() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(brokertest.Timeout):
		t.Fatal("Close hung while Redis was down")
	}
	select {
	case _, ok := <-s.C():
		require.False(t, ok, "a payload after Close")
	case <-time.After(brokertest.Timeout):
		t.Fatal("Close did not close the subscription")
	}
}
