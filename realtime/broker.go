package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Broker carries payloads by topic between the nodes of a deployment.
//
// Contract, which every implementation passes in realtime/brokertest:
//
//   - Thread safety: every method may be called from any goroutine.
//   - Ordering: payloads one goroutine publishes to a topic reach each
//     subscriber in the order they were published. Payloads from different
//     publishers interleave in no promised order.
//   - Delivery: best effort, at most once, with no history. A subscription
//     receives payloads published after Subscribe returned, until it is
//     closed; it may lose some, and then signals Lost. Nothing is
//     redelivered: consumers detect gaps by seq and reload from the
//     database, which is the source of truth.
//   - Bounds: each subscription buffers at most its buffer size (default
//     DefaultBufferSize) payloads. When that is full the broker drops the
//     payload for that subscriber only, counts it, and signals Lost. Publish
//     never waits for subscribers. Topics are 1 to MaxTopicBytes bytes and
//     payloads at most MaxPayloadBytes.
//   - Payloads: Publish copies nothing the caller must keep (the caller may
//     reuse its buffer once Publish returns). Subscribers receive slices
//     they must treat as read-only, because one payload may be shared by
//     every local subscriber.
//   - Close: Close ends every subscription (their C channels close) and
//     makes later Publish and Subscribe calls fail with ErrClosed. It is
//     idempotent.
type Broker interface {
	// Publish sends payload to every current subscriber of topic, on every
	// node. An error means the payload was certainly not delivered to other
	// nodes (ErrClosed, ErrInvalidTopic, ErrPayloadTooLarge, or the backend
	// is unreachable); nil means it was handed to the backend.
	Publish(ctx context.Context, topic string, payload []byte) error
	// Subscribe starts a subscription to topic. ctx bounds the call, not
	// the subscription, which lasts until Subscription.Close or
	// Broker.Close.
	Subscribe(ctx context.Context, topic string) (Subscription, error)
	// Close ends all subscriptions and releases the broker's resources. It
	// does not close resources the caller passed in (such as a Redis
	// client).
	Close() error
}

// Subscription is one subscriber's view of a topic. Its methods are safe
// for concurrent use.
type Subscription interface {
	// Topic returns the subscribed topic.
	Topic() string
	// C delivers payloads in publish order. It is closed after Close, or
	// when the broker closes. Payloads are read-only.
	C() <-chan []byte
	// Lost receives a value when payloads may have been lost since the
	// previous value: the buffer overflowed, or the broker reconnected to
	// its backend. Signals coalesce (the channel holds at most one), so a
	// consumer that reacts to one signal by reloading state covers every
	// loss before it. Lost is never closed.
	Lost() <-chan struct{}
	// Dropped counts the payloads dropped for this subscription because
	// its buffer was full. Losses from reconnects are not counted here:
	// nobody knows how many there were.
	Dropped() uint64
	// Close ends the subscription and closes C. It is idempotent and never
	// blocks on the consumer.
	Close()
}

// BufferedSubscriber is a Broker that can give one subscription a buffer
// size of its own: a consumer that drains its subscription at once (a
// visitor socket's writer) needs few slots, and at thousands of idle
// sockets the default's 256 slots (6 KiB each) add up. Overflow behaves as
// for any subscription: the newest payloads are dropped for that
// subscriber only, counted, and Lost is signalled. Both brokers of this
// package implement it; use SubscribeBuffered rather than asserting it.
type BufferedSubscriber interface {
	// SubscribeBuffered is Subscribe with a buffer of size payloads (the
	// broker's own size when size <= 0).
	SubscribeBuffered(ctx context.Context, topic string, size int) (Subscription, error)
}

// SubscribeBuffered subscribes to topic on b with a buffer of size
// payloads when b is a BufferedSubscriber, and with b's own buffer size
// otherwise (a larger buffer never loses more).
func SubscribeBuffered(ctx context.Context, b Broker, topic string, size int) (Subscription, error) {
	if bs, ok := b.(BufferedSubscriber); ok {
		return bs.SubscribeBuffered(ctx, topic, size)
	}
	return b.Subscribe(ctx, topic)
}

// Broker bounds and defaults.
const (
	// DefaultBufferSize is the payloads buffered per subscription.
	DefaultBufferSize = 256
	// MaxBufferSize bounds a subscription's buffer (SubscribeBuffered
	// clamps larger sizes to it).
	MaxBufferSize = 1 << 16
	// MaxTopicBytes bounds a topic name.
	MaxTopicBytes = 256
	// MaxPayloadBytes bounds one payload: 64 KiB, the largest server frame
	// (wire.MaxServerFrameBytes).
	MaxPayloadBytes = 64 << 10
)

// Broker errors. Test with errors.Is; the returned errors add detail.
var (
	// ErrClosed: the broker was closed.
	ErrClosed = errors.New("realtime: broker closed")
	// ErrInvalidTopic: the topic is empty or longer than MaxTopicBytes.
	ErrInvalidTopic = errors.New("realtime: invalid topic")
	// ErrPayloadTooLarge: the payload is over MaxPayloadBytes.
	ErrPayloadTooLarge = errors.New("realtime: payload too large")
	// ErrUnavailable: the backend cannot be reached right now.
	ErrUnavailable = errors.New("realtime: broker backend unavailable")
)

// BrokerStats are a broker's counters since it started, for metrics.
type BrokerStats struct {
	// Published counts successful Publish calls from this node.
	Published uint64
	// Delivered counts payloads put into local subscriptions' buffers.
	Delivered uint64
	// Dropped counts payloads dropped because a buffer was full.
	Dropped uint64
	// Subscriptions is the number of open subscriptions.
	Subscriptions int64
	// Reconnects counts re-established backend connections (Redis only).
	Reconnects uint64
}

func checkTopic(topic string) error {
	if topic == "" || len(topic) > MaxTopicBytes {
		return fmt.Errorf("%w: a topic is 1 to %d bytes, got %d", ErrInvalidTopic, MaxTopicBytes, len(topic))
	}
	return nil
}

func checkPayload(payload []byte) error {
	if len(payload) > MaxPayloadBytes {
		return fmt.Errorf("%w: %d bytes; the limit is %d", ErrPayloadTooLarge, len(payload), MaxPayloadBytes)
	}
	return nil
}

// counters are the atomic backing of BrokerStats, shared by both brokers.
type counters struct {
	published, delivered, dropped, reconnects atomic.Uint64
	subscriptions                             atomic.Int64
}

func (c *counters) snapshot() BrokerStats {
	return BrokerStats{
		Published:     c.published.Load(),
		Delivered:     c.delivered.Load(),
		Dropped:       c.dropped.Load(),
		Subscriptions: c.subscriptions.Load(),
		Reconnects:    c.reconnects.Load(),
	}
}

// sub is the Subscription both brokers hand out. The broker that owns it
// guards ch's closing with the lock its deliveries hold, so a payload is
// never sent on a closed channel.
type sub struct {
	topic   string
	ch      chan []byte
	lost    chan struct{}
	dropped atomic.Uint64
	// closed is guarded by the owning broker's lock.
	closed    bool
	closeOnce sync.Once
	unlink    func(*sub)
	stats     *counters
	log       *slog.Logger
}

// bufferSize is the buffer of a subscription asked for with size, where
// the broker's own is def.
func bufferSize(size, def int) int {
	switch {
	case size <= 0:
		return def
	case size > MaxBufferSize:
		return MaxBufferSize
	}
	return size
}

func newSub(topic string, size int, stats *counters, log *slog.Logger, unlink func(*sub)) *sub {
	stats.subscriptions.Add(1)
	return &sub{topic: topic, ch: make(chan []byte, size), lost: make(chan struct{}, 1), unlink: unlink, stats: stats, log: log}
}

func (s *sub) Topic() string            { return s.topic }
func (s *sub) C() <-chan []byte         { return s.ch }
func (s *sub) Lost() <-chan struct{}    { return s.lost }
func (s *sub) Dropped() uint64          { return s.dropped.Load() }
func (s *sub) Close()                   { s.closeOnce.Do(func() { s.unlink(s) }) }
func (s *sub) String() string           { return "subscription(" + s.topic + ")" }
func (s *sub) signalLost() (first bool) { return trySignal(s.lost) }

// deliver hands p to the subscriber without waiting. The caller holds the
// owning broker's lock (read side), so s is not being closed.
func (s *sub) deliver(p []byte) {
	select {
	case s.ch <- p:
		s.stats.delivered.Add(1)
	default:
		s.dropped.Add(1)
		s.stats.dropped.Add(1)
		// Log once per loss episode, not per payload: the signal stays
		// pending until the consumer takes it, and a flood of drops must not
		// become a flood of log lines.
		if s.signalLost() {
			s.log.Warn("realtime: subscriber too slow; dropping payloads until it catches up",
				"topic", s.topic, "buffer", cap(s.ch), "dropped_total", s.dropped.Load())
		}
	}
}

// closeLocked closes the channel once; the owning broker holds its lock
// for writing.
func (s *sub) closeLocked() {
	if !s.closed {
		s.closed = true
		close(s.ch)
		s.stats.subscriptions.Add(-1)
	}
}

func trySignal(c chan struct{}) bool {
	select {
	case c <- struct{}{}:
		return true
	default:
		return false
	}
}

// removeSub returns subs without s, in a new slice, so a slice a reader
// still holds is never changed under it.
func removeSub(subs []*sub, s *sub) ([]*sub, bool) {
	for i, x := range subs {
		if x == s {
			out := make([]*sub, 0, len(subs)-1)
			out = append(out, subs[:i]...)
			return append(out, subs[i+1:]...), true
		}
	}
	return subs, false
}

func loggerOr(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.Default()
}
