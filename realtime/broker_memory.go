package realtime

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
)

// MemoryConfig configures a MemoryBroker.
type MemoryConfig struct {
	// BufferSize is the payloads buffered per subscription. Defaults to
	// DefaultBufferSize.
	BufferSize int
	// Logger receives slow-subscriber warnings. Defaults to slog.Default().
	Logger *slog.Logger
}

// memShards spreads topics over locks so publishers to different topics do
// not contend; a power of two keeps the modulo cheap.
const memShards = 32

// MemoryBroker is the Broker of a single process: the embedded default. It
// starts no goroutines; Publish delivers into the subscribers' buffers
// directly.
type MemoryBroker struct {
	bufSize int
	log     *slog.Logger
	seed    maphash.Seed
	shards  [memShards]memShard
	closed  atomic.Bool
	stats   counters
}

type memShard struct {
	mu     sync.RWMutex
	topics map[string][]*sub
}

var _ Broker = (*MemoryBroker)(nil)

// NewMemoryBroker returns a MemoryBroker.
func NewMemoryBroker(cfg MemoryConfig) *MemoryBroker {
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	b := &MemoryBroker{bufSize: cfg.BufferSize, log: loggerOr(cfg.Logger), seed: maphash.MakeSeed()}
	for i := range b.shards {
		b.shards[i].topics = make(map[string][]*sub)
	}
	return b
}

func (b *MemoryBroker) shard(topic string) *memShard {
	return &b.shards[maphash.String(b.seed, topic)%memShards]
}

// Publish implements Broker. It copies payload once, so the caller may
// reuse its buffer, and shares the copy among the subscribers.
func (b *MemoryBroker) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	if err := checkPayload(payload); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.closed.Load() {
		return ErrClosed
	}
	sh := b.shard(topic)
	sh.mu.RLock()
	subs := sh.topics[topic]
	if len(subs) > 0 {
		p := append([]byte(nil), payload...)
		for _, s := range subs {
			s.deliver(p)
		}
	}
	sh.mu.RUnlock()
	b.stats.published.Add(1)
	return nil
}

var _ BufferedSubscriber = (*MemoryBroker)(nil)

// Subscribe implements Broker.
func (b *MemoryBroker) Subscribe(ctx context.Context, topic string) (Subscription, error) {
	return b.SubscribeBuffered(ctx, topic, 0)
}

// SubscribeBuffered implements BufferedSubscriber.
func (b *MemoryBroker) SubscribeBuffered(ctx context.Context, topic string, size int) (Subscription, error) {
	if err := checkTopic(topic); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sh := b.shard(topic)
	s := newSub(topic, bufferSize(size, b.bufSize), &b.stats, b.log, b.unlink)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// Checked under the shard lock: Close sets the flag before it takes the
	// shard locks, so a subscription is either refused here or closed there.
	if b.closed.Load() {
		s.closeLocked()
		return nil, ErrClosed
	}
	sh.topics[topic] = append(sh.topics[topic], s)
	return s, nil
}

func (b *MemoryBroker) unlink(s *sub) {
	sh := b.shard(s.topic)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if subs, ok := removeSub(sh.topics[s.topic], s); ok {
		if len(subs) == 0 {
			delete(sh.topics, s.topic)
		} else {
			sh.topics[s.topic] = subs
		}
	}
	s.closeLocked()
}

// Close implements Broker.
func (b *MemoryBroker) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	for i := range b.shards {
		sh := &b.shards[i]
		sh.mu.Lock()
		for topic, subs := range sh.topics {
			for _, s := range subs {
				s.closeLocked()
			}
			delete(sh.topics, topic)
		}
		sh.mu.Unlock()
	}
	return nil
}

// Stats returns the broker's counters.
func (b *MemoryBroker) Stats() BrokerStats { return b.stats.snapshot() }
