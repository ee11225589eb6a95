package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/realtime/brokertest"
	"github.com/frontdesk/frontdesk/wire"
)

// spyBroker wraps a real broker to count subscriptions and to raise loss
// signals on demand.
type spyBroker struct {
	realtime.Broker
	subscribes atomic.Int64
	open       atomic.Int64
	fail       atomic.Bool
	// loseCloses makes Subscription.Close do nothing, as if an unsubscribe
	// got lost.
	loseCloses atomic.Bool

	mu   sync.Mutex
	subs map[string][]*spySub
}

type spySub struct {
	realtime.Subscription
	lost chan struct{}
	once sync.Once
	b    *spyBroker
}

func (s *spySub) Lost() <-chan struct{} { return s.lost }

func (s *spySub) Close() {
	if s.b.loseCloses.Load() {
		return
	}
	s.once.Do(func() { s.b.open.Add(-1) })
	s.Subscription.Close()
}

func (b *spyBroker) Subscribe(ctx context.Context, topic string) (realtime.Subscription, error) {
	if b.fail.Load() {
		return nil, realtime.ErrUnavailable
	}
	s, err := b.Broker.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	b.subscribes.Add(1)
	b.open.Add(1)
	w := &spySub{Subscription: s, lost: make(chan struct{}, 1), b: b}
	b.mu.Lock()
	b.subs[topic] = append(b.subs[topic], w)
	b.mu.Unlock()
	return w, nil
}

// loseAll tells every subscription of topic that it lost payloads.
func (b *spyBroker) loseAll(topic string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs[topic] {
		select {
		case s.lost <- struct{}{}:
		default:
		}
	}
}

type hubBundle struct {
	broker *spyBroker
	hub    *realtime.Hub
}

func setupHub(t *testing.T, cfg realtime.HubConfig) hubBundle {
	t.Helper()
	mem := realtime.NewMemoryBroker(realtime.MemoryConfig{Logger: quietLog})
	spy := &spyBroker{Broker: mem, subs: map[string][]*spySub{}}
	cfg.Broker = spy
	cfg.Logger = quietLog
	h, err := realtime.NewHub(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		brokertest.Within(t, "Hub.Close", h.Close)
		_ = mem.Close()
	})
	return hubBundle{broker: spy, hub: h}
}

// bounded is a context for calls that would otherwise wait without limit
// (Subscribe waits for a broker subscription another client may be making).
func bounded(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), brokertest.Timeout)
	t.Cleanup(cancel)
	return ctx
}

func (hb hubBundle) client(t *testing.T, topics ...string) *realtime.Client {
	t.Helper()
	c, err := hb.hub.Register()
	require.NoError(t, err)
	t.Cleanup(c.Close)
	for _, topic := range topics {
		require.NoError(t, c.Subscribe(bounded(t), topic))
	}
	return c
}

func (hb hubBundle) publish(t *testing.T, topic, payload string) {
	t.Helper()
	require.NoError(t, hb.broker.Publish(context.Background(), topic, []byte(payload)))
}

func next(t *testing.T, c *realtime.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), brokertest.Timeout)
	defer cancel()
	p, err := c.Next(ctx)
	require.NoError(t, err)
	return string(p)
}

func disconnectOf(t *testing.T, c *realtime.Client) *realtime.Disconnect {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), brokertest.Timeout)
	defer cancel()
	_, err := c.Next(ctx)
	var d *realtime.Disconnect
	require.ErrorAs(t, err, &d)
	return d
}

func nothingQueued(t *testing.T, c *realtime.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	p, err := c.Next(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "unexpected frame %q", p)
}

func TestHubFanOut(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{})
	a := hb.client(t, "conv:1")
	b := hb.client(t, "conv:1")
	c := hb.client(t, "conv:1", "conv:2")
	other := hb.client(t, "conv:2")

	hb.publish(t, "conv:1", "e1")
	hb.publish(t, "conv:1", "e2")
	hb.publish(t, "conv:2", "f1")
	for _, cl := range []*realtime.Client{a, b} {
		require.Equal(t, "e1", next(t, cl))
		require.Equal(t, "e2", next(t, cl))
		nothingQueued(t, cl)
	}
	// A client of two topics gets both; the order within a topic holds.
	got := []string{next(t, c), next(t, c), next(t, c)}
	require.ElementsMatch(t, []string{"e1", "e2", "f1"}, got)
	require.Less(t, indexOf(got, "e1"), indexOf(got, "e2"))
	require.Equal(t, "f1", next(t, other))
	nothingQueued(t, other)

	require.Equal(t, int64(2), hb.broker.subscribes.Load(), "one broker subscription per topic, not per client")
	st := hb.hub.Stats()
	require.Equal(t, int64(4), st.Clients)
	require.Equal(t, int64(2), st.Topics)
	require.Equal(t, uint64(8), st.Delivered)
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestHubLastClientOutUnsubscribes(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{})
	clients := make([]*realtime.Client, 10)
	for i := range clients {
		clients[i] = hb.client(t, "conv:1")
	}
	require.Equal(t, int64(1), hb.broker.subscribes.Load())
	for _, c := range clients[:9] {
		c.Unsubscribe("conv:1")
	}
	require.Equal(t, int64(1), hb.broker.open.Load(), "one client left: the subscription stays")
	hb.publish(t, "conv:1", "still")
	require.Equal(t, "still", next(t, clients[9]))

	clients[9].Close()
	require.Equal(t, int64(0), hb.broker.open.Load(), "the last client out closes the broker subscription")
	require.Eventually(t, func() bool { return hb.hub.Stats().Topics == 0 }, brokertest.Timeout, time.Millisecond)

	// Coming back subscribes afresh.
	c := hb.client(t, "conv:1")
	require.Equal(t, int64(2), hb.broker.subscribes.Load())
	hb.publish(t, "conv:1", "again")
	require.Equal(t, "again", next(t, c))
}

func TestHubSlowClientKickedOthersUnaffected(t *testing.T) {
	t.Parallel()
	const queue = 4
	hb := setupHub(t, realtime.HubConfig{QueueSize: queue})
	reader := hb.client(t, "conv:1")
	stuck := hb.client(t, "conv:1")
	// The reader keeps up, in lockstep; the stuck client never reads.
	for i := range 3 * queue {
		hb.publish(t, "conv:1", fmt.Sprint(i))
		require.Equal(t, fmt.Sprint(i), next(t, reader))
	}
	d := stuck.Disconnect()
	require.NotNil(t, d, "a client whose queue filled up is kicked")
	require.Equal(t, wire.CloseSlowConsumer, d.Code)
	// Its writer learns at once, without being fed the stale queue first.
	require.Equal(t, d, disconnectOf(t, stuck))
	require.ErrorIs(t, stuck.Send([]byte("x")), d)

	st := hb.hub.Stats()
	require.Equal(t, uint64(1), st.SlowKicks)
	require.Equal(t, uint64(1), st.Kicks)
	hb.publish(t, "conv:1", "after")
	require.Equal(t, "after", next(t, reader))
}

func TestHubLossBecomesResync(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{})
	a := hb.client(t, "conv:1")
	b := hb.client(t, "conv:1")
	unrelated := hb.client(t, "conv:2")
	hb.broker.loseAll("conv:1")
	want := `{"type":"resync","reason":"missed"}`
	require.Equal(t, want, next(t, a))
	require.Equal(t, want, next(t, b))
	nothingQueued(t, unrelated)
	require.Equal(t, uint64(1), hb.hub.Stats().Resyncs)
	frame, err := wire.DecodeServer([]byte(want))
	require.NoError(t, err)
	require.Equal(t, &wire.Resync{Reason: wire.ResyncMissed}, frame)
}

func TestHubCustomResyncFrame(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{ResyncFrame: func(topic string) []byte {
		return []byte(`{"type":"resync","reason":"missed","topic":"` + topic + `"}`)
	}})
	c := hb.client(t, "conv:7")
	hb.broker.loseAll("conv:7")
	require.Equal(t, `{"type":"resync","reason":"missed","topic":"conv:7"}`, next(t, c))
}

func TestHubMaxClients(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{MaxClients: 2})
	a := hb.client(t)
	hb.client(t)
	_, err := hb.hub.Register()
	require.ErrorIs(t, err, realtime.ErrTooManyClients)
	require.Equal(t, uint64(1), hb.hub.Stats().Rejected)
	a.Close()
	a.Close()
	c, err := hb.hub.Register()
	require.NoError(t, err, "a closed client frees its place")
	c.Close()
	require.Equal(t, int64(1), hb.hub.Stats().Clients)
}

func TestHubMaxTopicsPerClient(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{MaxTopicsPerClient: 3})
	c := hb.client(t, "t1", "t2", "t3")
	require.NoError(t, c.Subscribe(bounded(t), "t2"), "subscribing twice is a no-op")
	require.ErrorIs(t, c.Subscribe(bounded(t), "t4"), realtime.ErrTooManyTopics)
	c.Unsubscribe("t1")
	require.NoError(t, c.Subscribe(bounded(t), "t4"))
	require.ErrorIs(t, c.Subscribe(bounded(t), ""), realtime.ErrInvalidTopic)
	require.ErrorIs(t, c.Subscribe(bounded(t), strings.Repeat("x", realtime.MaxTopicBytes+1)), realtime.ErrInvalidTopic)
}

func TestClientKickDeliversQueuedFramesFirst(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{})
	c := hb.client(t, "conv:1")
	errFrame := wire.Encode(&wire.ErrorFrame{Code: wire.CodeNotReady, Message: "send hello first"})
	require.NoError(t, c.Send(errFrame))
	require.True(t, c.Kick(wire.CloseProtocol, strings.Repeat("why ", 100)))
	require.False(t, c.Kick(wire.CloseNormal, "second"), "the first kick wins")
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after Kick")
	}
	require.Equal(t, string(errFrame), next(t, c))
	d := disconnectOf(t, c)
	require.Equal(t, wire.CloseProtocol, d.Code)
	require.LessOrEqual(t, len(d.Reason), wire.MaxCloseReasonBytes)
	require.Equal(t, d, disconnectOf(t, c), "Next keeps returning the disconnect")
	// Nothing more is queued for a kicked client.
	hb.publish(t, "conv:1", "late")
	require.Equal(t, d, disconnectOf(t, c))
}

func TestClientSendFullQueue(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{QueueSize: 2})
	c := hb.client(t)
	require.NoError(t, c.Send([]byte("1")))
	require.NoError(t, c.Send([]byte("2")))
	require.ErrorIs(t, c.Send([]byte("3")), realtime.ErrSlowConsumer)
	require.Equal(t, wire.CloseSlowConsumer, disconnectOf(t, c).Code)
}

func TestClientNextHonoursContext(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{})
	c := hb.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Next(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

func TestClientCloseIsNormalDisconnect(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{})
	c := hb.client(t, "conv:1")
	c.Close()
	require.Equal(t, wire.CloseNormal, c.Disconnect().Code)
	require.Error(t, c.Subscribe(bounded(t), "conv:2"))
	require.Zero(t, hb.hub.Stats().Kicks, "closing is not a kick")
	require.Zero(t, hb.hub.Stats().Clients)
}

func TestHubClose(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{})
	a := hb.client(t, "conv:1")
	b := hb.client(t, "conv:2")
	hb.hub.Close()
	for _, c := range []*realtime.Client{a, b} {
		require.Equal(t, wire.CloseGoingAway, disconnectOf(t, c).Code)
	}
	require.Zero(t, hb.broker.open.Load())
	require.Zero(t, hb.hub.Stats().Topics)
	_, err := hb.hub.Register()
	require.ErrorIs(t, err, realtime.ErrHubClosed)
	a.Close()
	b.Close()
	hb.hub.Close()
}

// TestHubCloseEndsUnnamedTopics: a topic whose last client left is no
// longer named by the hub, but its goroutine runs until its subscription
// closes. If that close never happens, Close must still end the goroutine
// rather than wait for it forever (a make test once hung ten minutes in
// Close, in the cleanup of a failing TestHubNoGoroutineLeak).
func TestHubCloseEndsUnnamedTopics(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{})
	c := hb.client(t, "conv:1")
	hb.broker.loseCloses.Store(true)
	c.Close()
	require.Equal(t, int64(1), hb.broker.open.Load(), "the leaving client's unsubscribe was lost")
	require.Equal(t, int64(1), hb.hub.Stats().Topics, "so the topic's goroutine still runs")
	hb.broker.loseCloses.Store(false)
	brokertest.Within(t, "Hub.Close", hb.hub.Close)
	require.Zero(t, hb.broker.open.Load())
	require.Zero(t, hb.hub.Stats().Topics)
}

func TestHubBrokerClosedKicksClients(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{})
	c := hb.client(t, "conv:1")
	require.NoError(t, hb.broker.Close())
	require.Equal(t, wire.CloseGoingAway, disconnectOf(t, c).Code)
	require.Eventually(t, func() bool { return hb.hub.Stats().Topics == 0 }, brokertest.Timeout, time.Millisecond)
}

func TestHubSubscribeFailure(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{})
	c := hb.client(t)
	hb.broker.fail.Store(true)
	err := c.Subscribe(bounded(t), "conv:1")
	require.ErrorIs(t, err, realtime.ErrUnavailable)
	require.Nil(t, c.Disconnect(), "a failed subscribe leaves the client connected")
	hb.broker.fail.Store(false)
	require.NoError(t, c.Subscribe(bounded(t), "conv:1"), "the failed topic was forgotten")
	hb.publish(t, "conv:1", "ok")
	require.Equal(t, "ok", next(t, c))
}

func TestNewHubConfig(t *testing.T) {
	t.Parallel()
	_, err := realtime.NewHub(realtime.HubConfig{})
	require.ErrorContains(t, err, "Broker is required")
	_, err = realtime.NewHub(realtime.HubConfig{Broker: realtime.NewMemoryBroker(realtime.MemoryConfig{}), QueueSize: -1})
	require.ErrorContains(t, err, "negative")
}

// TestHubNoGoroutineLeak runs clients with writer goroutines through a hub
// and checks that once they leave, no goroutine the hub started is left.
func TestHubNoGoroutineLeak(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	hb := setupHub(t, realtime.HubConfig{})
	settle()
	before := runtime.NumGoroutine()

	var writers sync.WaitGroup
	clients := make([]*realtime.Client, 200)
	for i := range clients {
		c, err := hb.hub.Register()
		require.NoError(t, err)
		// Registered before anything can fail, so a failure below does
		// not leave the writer waiting.
		t.Cleanup(c.Close)
		require.NoError(t, c.Subscribe(bounded(t), fmt.Sprintf("conv:%d", i%20)))
		require.NoError(t, c.Subscribe(bounded(t), "inbox"))
		clients[i] = c
		writers.Go(func() {
			for {
				if _, err := c.Next(t.Context()); err != nil {
					return
				}
			}
		})
	}
	require.Equal(t, int64(21), hb.hub.Stats().Topics)
	for i := range 20 {
		hb.publish(t, fmt.Sprintf("conv:%d", i), "x")
	}
	hb.publish(t, "inbox", "y")
	brokertest.Within(t, "closing the clients", func() {
		for _, c := range clients {
			c.Close()
		}
	})
	brokertest.Within(t, "the writers (Next after Close)", writers.Wait)
	if n := hb.broker.open.Load(); n != 0 {
		t.Fatalf("%d broker subscriptions still open after every client left; goroutines:\n%s", n, brokertest.Stacks())
	}
	require.Zero(t, hb.hub.Stats().Clients)
	// A plain loop: require.Eventually runs its condition on a goroutine
	// of its own, which would count.
	deadline := time.Now().Add(brokertest.Timeout)
	for hb.hub.Stats().Topics != 0 || runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d topics left; goroutines: %d before, %d after:\n%s",
				hb.hub.Stats().Topics, before, runtime.NumGoroutine(), brokertest.Stacks())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func settle() {
	for range 3 {
		runtime.Gosched()
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHubConcurrentSubscribeUnsubscribe(t *testing.T) {
	t.Parallel()
	hb := setupHub(t, realtime.HubConfig{MaxTopicsPerClient: 4})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = hb.broker.Publish(context.Background(), fmt.Sprintf("t%d", i%4), []byte("p"))
			if i%50 == 0 {
				hb.broker.loseAll(fmt.Sprintf("t%d", i%4))
				time.Sleep(time.Millisecond)
			}
		}
	})
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				c, err := hb.hub.Register()
				if err != nil {
					t.Error(err)
					return
				}
				var writer sync.WaitGroup
				writer.Go(func() {
					for {
						if _, err := c.Next(t.Context()); err != nil {
							return
						}
					}
				})
				for j := range 3 {
					topic := fmt.Sprintf("t%d", (w+i+j)%4)
					if err := c.Subscribe(bounded(t), topic); err != nil && !errors.Is(err, realtime.ErrTooManyTopics) && !slowConsumer(err) {
						t.Error(err)
					}
					if j == 1 {
						c.Unsubscribe(topic)
					}
				}
				// Concurrent calls on one client are allowed, too.
				var same sync.WaitGroup
				for range 2 {
					same.Go(func() {
						_ = c.Subscribe(bounded(t), "t0")
						c.Unsubscribe("t0")
					})
				}
				same.Wait()
				c.Close()
				writer.Wait()
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	// Each worker also waits for its clients' writers: a Next that did
	// not return after Close shows up here, with the stacks.
	brokertest.Within(t, "the publisher and the workers", wg.Wait)
	require.Zero(t, hb.broker.open.Load(), "every broker subscription was released")
	require.Eventually(t, func() bool { return hb.hub.Stats().Topics == 0 }, brokertest.Timeout, time.Millisecond)
	require.Zero(t, hb.hub.Stats().Clients)
}

// slowConsumer reports whether err is the Disconnect of a client kicked
// because its queue filled up. The publisher above does not wait for the
// writers, so on a loaded machine a writer can fall a whole queue behind,
// and Subscribe then rightly reports the kick.
func slowConsumer(err error) bool {
	var d *realtime.Disconnect
	return errors.As(err, &d) && d.Code == wire.CloseSlowConsumer
}

// TestHubAcrossNodes runs two hubs, as two nodes would, on Redis brokers
// sharing a prefix.
func TestHubAcrossNodes(t *testing.T) {
	t.Parallel()
	prefix := uniquePrefix(t)
	var hubs [2]*realtime.Hub
	var brokers [2]*realtime.RedisBroker
	for i := range hubs {
		brokers[i] = realtime.NewRedisBroker(newRedisClient(t, ""), realtime.RedisConfig{Prefix: prefix, Logger: quietLog})
		h, err := realtime.NewHub(realtime.HubConfig{Broker: brokers[i], Logger: quietLog})
		require.NoError(t, err)
		hubs[i] = h
		t.Cleanup(func() {
			brokertest.Within(t, "Hub.Close", h.Close)
			brokertest.Within(t, "RedisBroker.Close", func() { _ = brokers[i].Close() })
		})
	}
	var clients [2]*realtime.Client
	for i, h := range hubs {
		c, err := h.Register()
		require.NoError(t, err)
		t.Cleanup(c.Close)
		require.NoError(t, c.Subscribe(bounded(t), "conv:1"))
		clients[i] = c
	}
	frame := wire.Encode(&wire.Event{Seq: 1, ConversationID: "cv", Kind: wire.KindClosed})
	require.NoError(t, brokers[0].Publish(bounded(t), "conv:1", frame))
	for _, c := range clients {
		require.Equal(t, string(frame), next(t, c))
	}
}
