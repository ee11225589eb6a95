package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// DefaultMemoryLimiterKeys bounds how many keys a MemoryLimiter tracks when
// MemoryLimiterOptions.MaxKeys is 0. At about 100 bytes a key this is some
// 10 MB.
const DefaultMemoryLimiterKeys = 100_000

// evictionSample is how many keys an insert into a full MemoryLimiter
// looks at to make room.
const evictionSample = 64

// MemoryLimiterOptions tunes NewMemoryLimiter. The zero value is ready.
type MemoryLimiterOptions struct {
	// MaxKeys bounds the number of keys tracked. Defaults to
	// DefaultMemoryLimiterKeys.
	MaxKeys int
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// MemoryLimiter is the single-process Limiter. It uses GCRA (the generic
// cell rate algorithm, a token bucket kept as one timestamp per key): each
// key stores the time at which its allowance is fully restored, so memory is
// one entry per key and a Redis version is a single key per limit.
//
// Memory is bounded by MaxKeys. When full, an insert samples some keys,
// drops every one whose allowance is restored (it is the same as absent),
// and if none is, drops the sampled key closest to restored. A flood of new
// keys therefore pushes out nearly idle keys first, not the exhausted keys
// of an attacker.
type MemoryLimiter struct {
	mu      sync.Mutex
	tat     map[string]time.Time // theoretical arrival time per key
	maxKeys int
	now     func() time.Time
}

var _ Limiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter returns an empty MemoryLimiter.
func NewMemoryLimiter(opts MemoryLimiterOptions) *MemoryLimiter {
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMemoryLimiterKeys
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &MemoryLimiter{tat: make(map[string]time.Time), maxKeys: opts.MaxKeys, now: opts.Now}
}

var errBadRate = errors.New("auth: rate limit needs a positive limit and window")

// Take implements Limiter.
func (m *MemoryLimiter) Take(_ context.Context, key string, rate Rate) (Decision, error) {
	if !rate.valid() {
		return Decision{}, errBadRate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	tat, known := m.tat[key]
	if !known || tat.Before(now) {
		tat = now
	}
	next := tat.Add(rate.interval())
	// The attempt fits when the key's debt, after paying for it, is within
	// one window: that allows Limit attempts at once from a restored key.
	if over := next.Sub(now) - rate.Window; over > 0 {
		return Decision{Allowed: false, RetryAfter: over}, nil
	}
	if !known && len(m.tat) >= m.maxKeys {
		m.evict(now)
	}
	m.tat[key] = next
	return Decision{Allowed: true}, nil
}

// Refund implements Limiter.
func (m *MemoryLimiter) Refund(_ context.Context, key string, rate Rate) error {
	if !rate.valid() {
		return errBadRate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tat[key]
	if !ok {
		return nil
	}
	tat = tat.Add(-rate.interval())
	if !tat.After(m.now()) {
		delete(m.tat, key)
		return nil
	}
	m.tat[key] = tat
	return nil
}

// Len returns how many keys are tracked, for tests and metrics.
func (m *MemoryLimiter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tat)
}

// evict makes room for one key; m.mu is held. Map iteration starts at a
// random place, so the sample is spread over the map.
func (m *MemoryLimiter) evict(now time.Time) {
	var (
		oldestKey string
		oldest    time.Time
		found     bool
		seen      int
		freed     bool
	)
	for k, tat := range m.tat {
		if !tat.After(now) {
			delete(m.tat, k)
			freed = true
		} else if !found || tat.Before(oldest) {
			oldestKey, oldest, found = k, tat, true
		}
		seen++
		if seen >= evictionSample {
			break
		}
	}
	if !freed && found {
		delete(m.tat, oldestKey)
	}
}
