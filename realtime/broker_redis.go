package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures a RedisBroker.
type RedisConfig struct {
	// Prefix is put before every topic to make the Redis channel name, so
	// deployments (and tests) sharing a Redis do not hear each other.
	// Defaults to DefaultRedisPrefix.
	Prefix string
	// BufferSize is the payloads buffered per subscription. Defaults to
	// DefaultBufferSize.
	BufferSize int
	// HealthCheckInterval is how long the pub/sub connection may stay
	// silent before the broker pings Redis; a ping unanswered for another
	// interval counts as a dead connection (a half-open TCP connection
	// otherwise looks like a quiet one forever). Defaults to 15 seconds.
	HealthCheckInterval time.Duration
	// CommandTimeout bounds SUBSCRIBE and UNSUBSCRIBE writes that have no
	// caller deadline. Defaults to 5 seconds.
	CommandTimeout time.Duration
	// Logger receives connection and slow-subscriber reports. Defaults to
	// slog.Default().
	Logger *slog.Logger
}

// Redis broker defaults.
const (
	// DefaultRedisPrefix is RedisConfig.Prefix's default.
	DefaultRedisPrefix = "frontdesk:rt:"
	// DefaultHealthCheckInterval is RedisConfig.HealthCheckInterval's
	// default.
	DefaultHealthCheckInterval = 15 * time.Second
	// DefaultCommandTimeout is RedisConfig.CommandTimeout's default.
	DefaultCommandTimeout = 5 * time.Second
	// reconnect backoff bounds: short enough that a restarted Redis is
	// picked up within a second, jittered so nodes do not reconnect in
	// lockstep.
	minBackoff = 20 * time.Millisecond
	maxBackoff = time.Second
)

// RedisBroker is a Broker over Redis pub/sub, for deployments of several
// nodes. Each node's broker keeps one pub/sub connection for all its topics
// and a reader goroutine that dispatches to local subscriptions, so Redis
// sees one subscriber per node per topic however many websockets watch it.
//
// When the connection to Redis breaks (a restart, a network fault, a
// half-open connection found by the health check), go-redis reconnects and
// resubscribes; whatever was published meanwhile is gone, so once the
// connection is back every subscription gets a Lost signal and its
// consumers resync from the database.
type RedisBroker struct {
	client redis.UniversalClient
	cfg    RedisConfig
	log    *slog.Logger

	// ctl orders SUBSCRIBE and UNSUBSCRIBE writes with the topic map
	// changes that cause them, so an unsubscribe racing a subscribe of the
	// same topic cannot reach Redis in the opposite order. It also orders
	// replacing ps, which the reader does after a dead connection; ps is
	// atomic so the reader can load it without waiting for a write.
	ctl sync.Mutex
	ps  atomic.Pointer[redis.PubSub]

	// mu guards topics, barriers and stale. The reader holds it for
	// reading while it delivers, and closing a subscription's channel takes
	// it for writing, so nothing is sent on a closed channel.
	mu     sync.RWMutex
	topics map[string]*redisTopic // by Redis channel name
	// barriers maps the payload of a PING sent right after a SUBSCRIBE to
	// the topic waiting for it. Redis answers a connection's commands in
	// order, so that PONG proves the SUBSCRIBE took effect. Matching
	// SUBSCRIBE confirmations by channel name would not: after a quick
	// subscribe-unsubscribe-subscribe, the first confirmation would make
	// the last subscription look live while Redis still has an UNSUBSCRIBE
	// of it to process.
	barriers map[string]*redisTopic
	barrier  atomic.Uint64
	// stale holds channels to UNSUBSCRIBE once Redis is back; unsubscribing
	// while it is down would only wait for a dial timeout.
	stale map[string]struct{}
	// lostConn is closed when the connection breaks (and replaced when it
	// is back), releasing Subscribe calls waiting for a confirmation that
	// went down with it.
	lostConn chan struct{}

	down   atomic.Bool
	closed atomic.Bool
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	stats  counters
}

type redisTopic struct {
	subs []*sub
	// ready is closed when the subscription is live or has failed (err
	// set first); done records that, under mu.
	ready chan struct{}
	done  bool
	err   error
}

// settle marks t live (err == nil) or failed; the caller holds mu.
func (t *redisTopic) settle(err error) {
	if !t.done {
		t.done = true
		t.err = err
		close(t.ready)
	}
}

var _ Broker = (*RedisBroker)(nil)

// NewRedisBroker returns a RedisBroker on client and starts its reader. The
// caller keeps ownership of client: Close does not close it, so the same
// client can serve presence and rate limits.
func NewRedisBroker(client redis.UniversalClient, cfg RedisConfig) *RedisBroker {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultRedisPrefix
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	if cfg.HealthCheckInterval <= 0 {
		cfg.HealthCheckInterval = DefaultHealthCheckInterval
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &RedisBroker{
		client:   client,
		cfg:      cfg,
		log:      loggerOr(cfg.Logger),
		topics:   make(map[string]*redisTopic),
		barriers: make(map[string]*redisTopic),
		stale:    make(map[string]struct{}),
		lostConn: make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	// No channels yet: the connection is dialled by the reader's first
	// receive, not here, so a broker can be built while Redis is down.
	b.ps.Store(client.Subscribe(ctx))
	go b.run()
	return b
}

// Publish implements Broker.
func (b *RedisBroker) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	if err := checkPayload(payload); err != nil {
		return err
	}
	if b.closed.Load() {
		return ErrClosed
	}
	if err := b.client.Publish(ctx, b.cfg.Prefix+topic, payload).Err(); err != nil {
		return fmt.Errorf("realtime: redis publish to %q: %w: %w", topic, ErrUnavailable, err)
	}
	b.stats.published.Add(1)
	return nil
}

// Subscribe implements Broker. It returns once Redis has processed the
// SUBSCRIBE, so a payload published after it returns is received.
// While the broker knows Redis is down it fails fast with ErrUnavailable
// instead of waiting for a dial.
func (b *RedisBroker) Subscribe(ctx context.Context, topic string) (Subscription, error) {
	return b.SubscribeBuffered(ctx, topic, 0)
}

var _ BufferedSubscriber = (*RedisBroker)(nil)

// SubscribeBuffered implements BufferedSubscriber; it is Subscribe with a
// buffer of size payloads.
func (b *RedisBroker) SubscribeBuffered(ctx context.Context, topic string, size int) (Subscription, error) {
	if err := checkTopic(topic); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.down.Load() {
		return nil, fmt.Errorf("realtime: redis subscribe to %q: %w", topic, ErrUnavailable)
	}
	name := b.cfg.Prefix + topic
	s := newSub(topic, bufferSize(size, b.cfg.BufferSize), &b.stats, b.log, b.unlink)

	b.ctl.Lock()
	if b.closed.Load() {
		b.ctl.Unlock()
		b.mu.Lock()
		s.closeLocked()
		b.mu.Unlock()
		return nil, ErrClosed
	}
	b.mu.Lock()
	t := b.topics[name]
	first := t == nil
	if first {
		t = &redisTopic{ready: make(chan struct{})}
		b.topics[name] = t
		delete(b.stale, name)
	}
	t.subs = append(t.subs[:len(t.subs):len(t.subs)], s)
	lostConn := b.lostConn
	b.mu.Unlock()
	if first {
		ps := b.ps.Load()
		err := ps.Subscribe(ctx, name)
		if err == nil {
			token := "frontdesk-subscribed-" + strconv.FormatUint(b.barrier.Add(1), 10)
			b.mu.Lock()
			b.barriers[token] = t
			b.mu.Unlock()
			err = ps.Ping(ctx, token)
		}
		if err != nil {
			// Release everyone waiting on this topic; each closes its
			// subscription, and the last one out forgets the channel.
			b.mu.Lock()
			t.settle(fmt.Errorf("realtime: redis subscribe to %q: %w: %w", topic, ErrUnavailable, err))
			b.mu.Unlock()
		}
	}
	b.ctl.Unlock()

	select {
	case <-t.ready:
		if t.err != nil {
			s.Close()
			return nil, t.err
		}
		return s, nil
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("realtime: redis subscribe to %q: not confirmed in time: %w", topic, ctx.Err())
	case <-lostConn:
		// A subscription that went live just before the connection broke
		// is still good: its Lost signal follows the reconnect.
		select {
		case <-t.ready:
			if t.err == nil {
				return s, nil
			}
		default:
		}
		s.Close()
		return nil, fmt.Errorf("realtime: redis subscribe to %q: connection lost: %w", topic, ErrUnavailable)
	case <-b.ctx.Done():
		s.Close()
		return nil, ErrClosed
	}
}

func (b *RedisBroker) unlink(s *sub) {
	name := b.cfg.Prefix + s.topic
	b.ctl.Lock()
	defer b.ctl.Unlock()
	b.mu.Lock()
	last := false
	if t := b.topics[name]; t != nil {
		var ok bool
		if t.subs, ok = removeSub(t.subs, s); ok && len(t.subs) == 0 {
			delete(b.topics, name)
			last = true
		}
	}
	s.closeLocked()
	if last && b.down.Load() {
		b.stale[name] = struct{}{}
		last = false
	}
	b.mu.Unlock()
	if last && !b.closed.Load() {
		ctx, cancel := context.WithTimeout(b.ctx, b.cfg.CommandTimeout)
		// go-redis forgets the channel before writing, so even if this
		// write fails the channel is not resubscribed after a reconnect.
		if err := b.ps.Load().Unsubscribe(ctx, name); err != nil && !b.closed.Load() {
			b.log.Warn("realtime: redis unsubscribe failed", "topic", s.topic, "err", err)
		}
		cancel()
	}
}

// Close implements Broker. It does not close the Redis client.
func (b *RedisBroker) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	b.cancel()
	b.ctl.Lock()
	b.mu.Lock()
	for name, t := range b.topics {
		for _, s := range t.subs {
			s.closeLocked()
		}
		delete(b.topics, name)
	}
	b.mu.Unlock()
	ps := b.ps.Load()
	b.ctl.Unlock()
	// Closing the pub/sub connection is what unblocks the reader.
	err := ps.Close()
	<-b.done
	if err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("realtime: closing redis pub/sub: %w", err)
	}
	return nil
}

// Stats returns the broker's counters.
func (b *RedisBroker) Stats() BrokerStats { return b.stats.snapshot() }

// run is the reader: it receives from the pub/sub connection, dispatches
// payloads, passes subscribe barriers, pings when the line is quiet, and
// notices disconnects and reconnects.
func (b *RedisBroker) run() {
	defer close(b.done)
	backoff := minBackoff
	pinged := false
	for {
		ps := b.ps.Load()
		msg, err := ps.ReceiveTimeout(b.ctx, b.cfg.HealthCheckInterval)
		if b.closed.Load() {
			return
		}
		switch {
		case err == nil:
			pinged = false
			backoff = minBackoff
			if b.down.Load() {
				b.markUp()
			}
			switch m := msg.(type) {
			case *redis.Message:
				b.dispatch(m.Channel, m.Payload)
			case *redis.Pong:
				b.passBarrier(m.Payload)
			}
		case isTimeout(err) && !pinged:
			// A quiet line: ask Redis whether it is still there.
			if perr := ps.Ping(b.ctx); perr != nil {
				b.markDown(perr)
			} else {
				pinged = true
			}
		default:
			if isTimeout(err) {
				// The last ping went unanswered: the connection is dead
				// but TCP has not noticed. go-redis would keep reading it.
				b.markDown(fmt.Errorf("no answer to ping within %s: %w", b.cfg.HealthCheckInterval, err))
				b.replacePubSub()
			} else {
				b.markDown(err)
			}
			pinged = false
			if !b.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, maxBackoff)
			// Probe at once: the ping dials if needed, and its answer (or
			// the resubscribe confirmations before it) marks the
			// connection up without waiting out a health-check interval.
			if b.ps.Load().Ping(b.ctx) == nil {
				pinged = true
			}
		}
	}
}

// markDown records that the connection broke. Barrier pings went down
// with it, so topics still waiting for one fail, and Subscribe calls
// waiting on them return ErrUnavailable for their callers to retry.
func (b *RedisBroker) markDown(err error) {
	if b.down.Swap(true) {
		return
	}
	b.mu.Lock()
	clear(b.barriers)
	for _, t := range b.topics {
		t.settle(fmt.Errorf("realtime: redis connection lost while subscribing: %w", ErrUnavailable))
	}
	close(b.lostConn)
	b.mu.Unlock()
	b.log.Warn("realtime: redis pub/sub connection lost; payloads published until it is back are lost", "err", err)
}

// markUp runs on the first message after a disconnect: the connection is
// back and resubscribed, so every subscriber is told it may have missed
// payloads, and channels left while Redis was down are unsubscribed now.
func (b *RedisBroker) markUp() {
	b.mu.Lock()
	b.lostConn = make(chan struct{})
	b.mu.Unlock()
	b.down.Store(false)
	b.stats.reconnects.Add(1)
	b.mu.RLock()
	n := 0
	for _, t := range b.topics {
		for _, s := range t.subs {
			s.signalLost()
			n++
		}
	}
	b.mu.RUnlock()
	b.log.Info("realtime: redis pub/sub connection back; subscribers told to resync", "subscriptions", n)

	b.ctl.Lock()
	b.mu.Lock()
	stale := make([]string, 0, len(b.stale))
	for name := range b.stale {
		if b.topics[name] == nil {
			stale = append(stale, name)
		}
		delete(b.stale, name)
	}
	b.mu.Unlock()
	if len(stale) > 0 {
		ctx, cancel := context.WithTimeout(b.ctx, b.cfg.CommandTimeout)
		_ = b.ps.Load().Unsubscribe(ctx, stale...)
		cancel()
	}
	b.ctl.Unlock()
}

// replacePubSub drops a connection that stopped answering and opens a new
// one subscribed to every current topic.
func (b *RedisBroker) replacePubSub() {
	b.ctl.Lock()
	if b.closed.Load() {
		b.ctl.Unlock()
		return
	}
	b.mu.RLock()
	names := make([]string, 0, len(b.topics))
	for name := range b.topics {
		names = append(names, name)
	}
	b.mu.RUnlock()
	old := b.ps.Load()
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.CommandTimeout)
	// Subscribe records the channels even when Redis is unreachable and
	// resubscribes them on the first successful dial.
	b.ps.Store(b.client.Subscribe(ctx, names...))
	cancel()
	b.ctl.Unlock()
	_ = old.Close()
}

func (b *RedisBroker) dispatch(channel, payload string) {
	// One copy for all local subscribers, made before taking the lock.
	p := []byte(payload)
	b.mu.RLock()
	if t := b.topics[channel]; t != nil {
		for _, s := range t.subs {
			s.deliver(p)
		}
	}
	b.mu.RUnlock()
}

// passBarrier makes the topic that sent the PING with this payload live.
// Health-check pings carry no payload and match nothing.
func (b *RedisBroker) passBarrier(payload string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t, ok := b.barriers[payload]; ok {
		delete(b.barriers, payload)
		t.settle(nil)
	}
}

// sleep waits d with jitter, or until the broker closes.
func (b *RedisBroker) sleep(d time.Duration) bool {
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.ctx.Done():
		return false
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
