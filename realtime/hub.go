package realtime

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/frontdesk/frontdesk/wire"
)

// HubConfig configures a Hub. Zero fields take the defaults named in their
// comments.
type HubConfig struct {
	// Broker carries payloads between nodes. Required.
	Broker Broker
	// MaxClients bounds the clients registered at once; Register refuses
	// more with ErrTooManyClients (the server closes the socket with
	// wire.CloseTooManyConnections). Defaults to DefaultMaxClients.
	MaxClients int
	// MaxTopicsPerClient bounds one client's subscriptions. Defaults to
	// DefaultMaxTopicsPerClient.
	MaxTopicsPerClient int
	// QueueSize is each client's send queue, in frames. Defaults to
	// wire.SendQueueSize.
	QueueSize int
	// SubscribeTimeout bounds the broker subscription a topic's first
	// client waits for. It is the hub's, not that client's, because other
	// clients may be waiting on the same subscription. Defaults to 5
	// seconds.
	SubscribeTimeout time.Duration
	// ResyncFrame returns the frame sent to a topic's clients when its
	// broker subscription may have lost payloads. Defaults to a wire.Resync
	// with reason wire.ResyncMissed.
	ResyncFrame func(topic string) []byte
	// Logger receives kicks and broker trouble. Defaults to slog.Default().
	Logger *slog.Logger
}

// Hub defaults.
const (
	// DefaultMaxClients is HubConfig.MaxClients' default: about what one
	// node of the machine size the project plans for holds comfortably.
	DefaultMaxClients = 10_000
	// DefaultMaxTopicsPerClient is HubConfig.MaxTopicsPerClient's default.
	// A visitor socket needs one topic; an agent socket a handful.
	DefaultMaxTopicsPerClient = 8
	// DefaultSubscribeTimeout is HubConfig.SubscribeTimeout's default.
	DefaultSubscribeTimeout = 5 * time.Second
)

// Hub errors.
var (
	// ErrHubClosed: the hub was closed (the node is shutting down).
	ErrHubClosed = errors.New("realtime: hub closed")
	// ErrTooManyClients: the hub has MaxClients clients.
	ErrTooManyClients = errors.New("realtime: too many clients on this node")
	// ErrTooManyTopics: the client has MaxTopicsPerClient subscriptions.
	ErrTooManyTopics = errors.New("realtime: too many topics for one client")
)

// hubShards spreads topics and clients over locks, as centrifuge does, so
// thousands of sockets joining and leaving do not queue on one mutex.
const hubShards = 64

// Hub is the node-local fan-out that websocket handlers attach to. It holds
// one broker subscription per topic for all the node's clients of that
// topic (reference counted: the first client subscribes, the last one out
// unsubscribes), and one goroutine per topic that copies each payload into
// every client's send queue without blocking. A client whose queue is full
// is kicked with wire.CloseSlowConsumer; a broker loss signal becomes a
// resync frame for the topic's clients.
//
// All methods are safe for concurrent use.
type Hub struct {
	broker      Broker
	maxClients  int64
	maxTopics   int
	queueSize   int
	subTimeout  time.Duration
	resyncFrame func(string) []byte
	log         *slog.Logger

	seed    maphash.Seed
	shards  [hubShards]hubShard
	clients atomic.Int64
	nextID  atomic.Uint64
	closed  atomic.Bool
	// topicsWG counts topic goroutines, so Close returns only when none is
	// left. Every goroutine it counts is in its shard's running set until
	// it ends, so Close can always end the goroutines it waits for.
	topicsWG sync.WaitGroup
	stats    hubCounters
}

type hubShard struct {
	mu sync.Mutex
	// topics maps a name to the topic new clients of it join.
	topics map[string]*hubTopic
	// running holds the shard's topics whose goroutine runs. A topic leaves
	// topics when its last client leaves (detach) or its broker ended it,
	// but stays here until its goroutine returns: Close closes the
	// subscriptions of these, not only of the named ones, so it never waits
	// for a goroutine it cannot end.
	running map[*hubTopic]struct{}
	clients map[*Client]struct{}
}

// hubTopic is one topic's broker subscription and local clients.
type hubTopic struct {
	name string
	// clients is copied on write under the shard lock, so fan-out reads it
	// without any lock.
	clients atomic.Pointer[[]*Client]
	// ready is closed once the broker subscription is made or has failed;
	// sub and err are set before and read after.
	ready chan struct{}
	sub   Subscription
	err   error
	// closing tells the topic goroutine that its subscription was closed
	// on purpose, not by a dying broker.
	closing atomic.Bool
}

type hubCounters struct {
	topics                                         atomic.Int64
	delivered, kicks, slowKicks, resyncs, rejected atomic.Uint64
}

// HubStats are a hub's gauges and counters, for metrics.
type HubStats struct {
	// Clients is the number of registered clients.
	Clients int64
	// Topics is the number of topics with a live broker subscription.
	Topics int64
	// Delivered counts frames put into client queues by fan-out.
	Delivered uint64
	// Kicks counts clients disconnected by Kick or by the hub, of any code;
	// a client's own Close is not a kick.
	Kicks uint64
	// SlowKicks counts clients kicked with wire.CloseSlowConsumer.
	SlowKicks uint64
	// Resyncs counts broker loss signals turned into resync frames (once
	// per topic, not per client).
	Resyncs uint64
	// Rejected counts Register calls refused with ErrTooManyClients.
	Rejected uint64
}

// NewHub returns a Hub over cfg.Broker.
func NewHub(cfg HubConfig) (*Hub, error) {
	if cfg.Broker == nil {
		return nil, errors.New("realtime: HubConfig.Broker is required")
	}
	if cfg.MaxClients < 0 || cfg.MaxTopicsPerClient < 0 || cfg.QueueSize < 0 || cfg.SubscribeTimeout < 0 {
		return nil, fmt.Errorf("realtime: HubConfig bounds must not be negative: %+v", cfg)
	}
	h := &Hub{
		broker:      cfg.Broker,
		maxClients:  int64(orDefault(cfg.MaxClients, DefaultMaxClients)),
		maxTopics:   orDefault(cfg.MaxTopicsPerClient, DefaultMaxTopicsPerClient),
		queueSize:   orDefault(cfg.QueueSize, wire.SendQueueSize),
		subTimeout:  orDefault(cfg.SubscribeTimeout, DefaultSubscribeTimeout),
		resyncFrame: cfg.ResyncFrame,
		log:         loggerOr(cfg.Logger),
		seed:        maphash.MakeSeed(),
	}
	if h.resyncFrame == nil {
		frame := wire.Encode(&wire.Resync{Reason: wire.ResyncMissed})
		h.resyncFrame = func(string) []byte { return frame }
	}
	for i := range h.shards {
		h.shards[i].topics = make(map[string]*hubTopic)
		h.shards[i].running = make(map[*hubTopic]struct{})
		h.shards[i].clients = make(map[*Client]struct{})
	}
	return h, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func (h *Hub) topicShard(topic string) *hubShard {
	return &h.shards[maphash.String(h.seed, topic)%hubShards]
}

func (h *Hub) clientShard(id uint64) *hubShard { return &h.shards[id%hubShards] }

// Register adds a client, one per websocket connection. The caller must
// call Client.Close when the connection ends, whatever ended it.
func (h *Hub) Register() (*Client, error) {
	if h.closed.Load() {
		return nil, ErrHubClosed
	}
	if n := h.clients.Add(1); n > h.maxClients {
		h.clients.Add(-1)
		h.stats.rejected.Add(1)
		return nil, fmt.Errorf("%w (%d)", ErrTooManyClients, h.maxClients)
	}
	c := &Client{
		hub:    h,
		id:     h.nextID.Add(1),
		queue:  make(chan []byte, h.queueSize),
		done:   make(chan struct{}),
		topics: make(map[string]*hubTopic),
	}
	sh := h.clientShard(c.id)
	sh.mu.Lock()
	// Checked again under the lock Close takes, so a client is either
	// refused here or kicked by Close.
	if h.closed.Load() {
		sh.mu.Unlock()
		h.clients.Add(-1)
		return nil, ErrHubClosed
	}
	sh.clients[c] = struct{}{}
	sh.mu.Unlock()
	return c, nil
}

func (h *Hub) unregister(c *Client) {
	sh := h.clientShard(c.id)
	sh.mu.Lock()
	if _, ok := sh.clients[c]; ok {
		delete(sh.clients, c)
		h.clients.Add(-1)
	}
	sh.mu.Unlock()
}

// attach adds c to topic's clients, subscribing to the broker if c is the
// node's first client of the topic. It returns the topic joined.
func (h *Hub) attach(ctx context.Context, c *Client, topic string) (*hubTopic, error) {
	sh := h.topicShard(topic)
	sh.mu.Lock()
	if h.closed.Load() {
		sh.mu.Unlock()
		return nil, ErrHubClosed
	}
	t := sh.topics[topic]
	first := t == nil
	if first {
		t = &hubTopic{name: topic, ready: make(chan struct{})}
		t.clients.Store(&[]*Client{})
		sh.topics[topic] = t
	}
	t.add(c)
	sh.mu.Unlock()

	if !first {
		select {
		case <-t.ready:
			if t.err != nil {
				return nil, t.err
			}
			return t, nil
		case <-ctx.Done():
			h.detach(c, t)
			return nil, ctx.Err()
		}
	}

	// The subscription is shared, so it must not fail because this one
	// client went away: it gets the hub's timeout, not the caller's
	// cancellation.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.subTimeout)
	sub, err := h.broker.Subscribe(sctx, topic)
	cancel()

	sh.mu.Lock()
	if err == nil && h.closed.Load() {
		sub.Close()
		err = ErrHubClosed
	}
	if err != nil {
		t.err = fmt.Errorf("realtime: subscribing to %q: %w", topic, err)
		if sh.topics[topic] == t {
			delete(sh.topics, topic)
		}
		close(t.ready)
		sh.mu.Unlock()
		return nil, t.err
	}
	t.sub = sub
	close(t.ready)
	h.stats.topics.Add(1)
	h.topicsWG.Add(1)
	sh.running[t] = struct{}{}
	sh.mu.Unlock()
	go h.runTopic(t)
	return t, nil
}

// detach removes c from t, and closes t's broker subscription when c was
// its last client.
func (h *Hub) detach(c *Client, t *hubTopic) {
	sh := h.topicShard(t.name)
	sh.mu.Lock()
	if !t.remove(c) {
		sh.mu.Unlock()
		return
	}
	var sub Subscription
	select {
	case <-t.ready:
		if t.err == nil && len(*t.clients.Load()) == 0 {
			if sh.topics[t.name] == t {
				delete(sh.topics, t.name)
			}
			t.closing.Store(true)
			sub = t.sub
		}
	default:
		// Still subscribing: the first client is among the clients and
		// cannot leave before that ends (Client serializes its own
		// subscribe and unsubscribe), so this was not the last one.
	}
	sh.mu.Unlock()
	if sub != nil {
		// Outside the lock: a Redis unsubscribe is a network write.
		sub.Close()
	}
}

// runTopic fans one topic's payloads out to its clients until the
// subscription ends.
func (h *Hub) runTopic(t *hubTopic) {
	defer h.topicsWG.Done()
	defer h.stats.topics.Add(-1)
	defer func() {
		sh := h.topicShard(t.name)
		sh.mu.Lock()
		delete(sh.running, t)
		sh.mu.Unlock()
	}()
	for {
		select {
		case p, ok := <-t.sub.C():
			if !ok {
				if !t.closing.Load() {
					h.brokerGone(t)
				}
				return
			}
			h.fanout(t, p)
		case <-t.sub.Lost():
			h.stats.resyncs.Add(1)
			h.fanout(t, h.resyncFrame(t.name))
		}
	}
}

func (h *Hub) fanout(t *hubTopic, p []byte) {
	for _, c := range *t.clients.Load() {
		if c.enqueue(p) {
			h.stats.delivered.Add(1)
		}
	}
}

// brokerGone handles a subscription the broker closed (the broker was
// closed under the hub): its clients can get nothing more here, so they are
// sent away to reconnect, to this node after a restart or to another.
func (h *Hub) brokerGone(t *hubTopic) {
	sh := h.topicShard(t.name)
	sh.mu.Lock()
	if sh.topics[t.name] == t {
		delete(sh.topics, t.name)
	}
	clients := *t.clients.Load()
	sh.mu.Unlock()
	h.log.Warn("realtime: broker ended a topic subscription; disconnecting its clients", "topic", t.name, "clients", len(clients))
	for _, c := range clients {
		c.Kick(wire.CloseGoingAway, "realtime broker closed")
	}
}

// Close kicks every client with wire.CloseGoingAway, closes every topic's
// broker subscription and waits for the topic goroutines to end. It does
// not close the broker. Clients must still be closed by their owners,
// which is then cheap.
//
// The subscriptions closed are those of every running topic goroutine,
// including topics already unnamed by a last client leaving: Close waits
// only for goroutines it has itself given a way to end, so it cannot hang
// on a subscription nobody else closes. Subscription.Close is idempotent,
// so closing one a leaving client is closing too is harmless.
func (h *Hub) Close() {
	if h.closed.Swap(true) {
		return
	}
	var clients []*Client
	var subs []Subscription
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for c := range sh.clients {
			clients = append(clients, c)
		}
		// A named topic still subscribing is not running yet: attach sees
		// closed when its subscribe returns and closes the subscription
		// itself, without starting a goroutine.
		clear(sh.topics)
		for t := range sh.running {
			t.closing.Store(true)
			subs = append(subs, t.sub)
		}
		sh.mu.Unlock()
	}
	for _, c := range clients {
		c.Kick(wire.CloseGoingAway, "server shutting down")
	}
	for _, s := range subs {
		s.Close()
	}
	h.topicsWG.Wait()
}

// Stats returns the hub's gauges and counters.
func (h *Hub) Stats() HubStats {
	return HubStats{
		Clients:   h.clients.Load(),
		Topics:    h.stats.topics.Load(),
		Delivered: h.stats.delivered.Load(),
		Kicks:     h.stats.kicks.Load(),
		SlowKicks: h.stats.slowKicks.Load(),
		Resyncs:   h.stats.resyncs.Load(),
		Rejected:  h.stats.rejected.Load(),
	}
}

// add and remove run under the topic's shard lock.
func (t *hubTopic) add(c *Client) {
	old := *t.clients.Load()
	next := make([]*Client, len(old), len(old)+1)
	copy(next, old)
	next = append(next, c)
	t.clients.Store(&next)
}

func (t *hubTopic) remove(c *Client) bool {
	old := *t.clients.Load()
	for i, x := range old {
		if x == c {
			next := make([]*Client, 0, len(old)-1)
			next = append(next, old[:i]...)
			next = append(next, old[i+1:]...)
			t.clients.Store(&next)
			return true
		}
	}
	return false
}
