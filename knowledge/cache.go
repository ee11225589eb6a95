package knowledge

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultCacheSize is how many indexes a Cache keeps: one per assistant in
// use. An index of a full knowledge base (200 FAQ entries) takes about a
// megabyte (see BenchmarkBuild), so the default stays well under 100 MB.
const DefaultCacheSize = 64

// EvictedCloseDelay is how long an evicted index stays open for callers
// that took it from the cache before its eviction.
const EvictedCloseDelay = time.Minute

// Cache keeps built indexes, shared by every conversation, keyed by
// assistant and revision. It is safe for concurrent use.
//
//   - Bounded: past max entries the least recently used index goes.
//   - One build per key: concurrent callers of a key being built wait for
//     that build instead of starting their own.
//   - A new revision of an assistant replaces the old one at once; the old
//     one is never asked for again.
//
// An evicted index is closed after EvictedCloseDelay, not at once: a
// caller may have taken it from the cache just before, and searches take
// microseconds, so the delay covers them with a wide margin.
type Cache struct {
	mu      sync.Mutex
	max     int
	ll      *list.List
	items   map[string]*list.Element
	owner   map[string]string // assistant → its cached key
	flights map[string]*flight
	builds  int
}

type cacheEntry struct {
	key, assistant string
	ix             *Index
}

type flight struct {
	done chan struct{}
	ix   *Index
	err  error
}

// NewCache returns a cache of at most max indexes (DefaultCacheSize when
// max <= 0).
func NewCache(max int) *Cache {
	if max <= 0 {
		max = DefaultCacheSize
	}
	return &Cache{max: max, ll: list.New(), items: map[string]*list.Element{}, owner: map[string]string{}, flights: map[string]*flight{}}
}

// Get returns the index cached under key, or builds it with build. assistant
// names whose index it is, so that a newer key of the same assistant
// replaces the older one. A failed build is not cached. A caller whose ctx
// ends while it waits for another's build gets ctx's error; the build goes
// on for the others.
func (c *Cache) Get(ctx context.Context, key, assistant string, build func() (*Index, error)) (*Index, error) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		ix := el.Value.(*cacheEntry).ix
		c.mu.Unlock()
		return ix, nil
	}
	if f, ok := c.flights[key]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.ix, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.builds++
	c.mu.Unlock()

	f.ix, f.err = safeBuild(build)

	c.mu.Lock()
	delete(c.flights, key)
	if f.err == nil {
		c.put(key, assistant, f.ix)
	}
	c.mu.Unlock()
	close(f.done)
	return f.ix, f.err
}

// put stores ix under key; c.mu is held.
func (c *Cache) put(key, assistant string, ix *Index) {
	if old, ok := c.owner[assistant]; ok && old != key {
		if el, ok := c.items[old]; ok {
			c.ll.Remove(el)
			delete(c.items, old)
			retire(el.Value.(*cacheEntry).ix)
		}
	}
	c.owner[assistant] = key
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, assistant: assistant, ix: ix})
	for c.ll.Len() > c.max {
		el := c.ll.Back()
		e := el.Value.(*cacheEntry)
		c.ll.Remove(el)
		delete(c.items, e.key)
		if c.owner[e.assistant] == e.key {
			delete(c.owner, e.assistant)
		}
		retire(e.ix)
	}
}

// retire closes an evicted index once callers that still hold it are done.
func retire(ix *Index) {
	time.AfterFunc(EvictedCloseDelay, func() { _ = ix.Close() })
}

// Close closes every cached index and empties the cache, at shutdown.
// Indexes evicted earlier close on their own timers.
func (c *Cache) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.ll.Front(); el != nil; el = el.Next() {
		_ = el.Value.(*cacheEntry).ix.Close()
	}
	c.ll.Init()
	c.items = map[string]*list.Element{}
	c.owner = map[string]string{}
}

// Stats reports how many indexes are cached and how many builds started,
// for tests and metrics.
func (c *Cache) Stats() (cached, builds int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len(), c.builds
}

// safeBuild turns a panic of build into an error, so the callers waiting
// for it are released and the process stays up.
func safeBuild(build func() (*Index, error)) (ix *Index, err error) {
	defer func() {
		if r := recover(); r != nil {
			ix, err = nil, fmt.Errorf("knowledge: index build panicked: %v", r)
		}
	}()
	return build()
}
