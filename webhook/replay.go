package webhook

import (
	"errors"
	"sync"
	"time"
)

// ErrReplayed is returned by ReplayGuard.Check for an id seen within the
// window.
var ErrReplayed = errors.New("webhook: id already seen")

// Replay guard defaults.
const (
	// DefaultReplayWindow is how long a ReplayGuard remembers an id: twice
	// DefaultTolerance, so an id outlives every timestamp Verify accepts,
	// whichever way the clocks are skewed.
	DefaultReplayWindow = 2 * DefaultTolerance
	// DefaultReplayEntries bounds the ids a ReplayGuard holds.
	DefaultReplayEntries = 100_000
)

// ReplayGuard is a receiver's memory of the webhook-ids it accepted, for use
// after Verify: Verify rejects old timestamps, and the guard rejects the
// same id again within the window, so a captured delivery cannot be
// replayed. It is safe for concurrent use. Memory is bounded: past
// maxEntries the oldest ids are forgotten first.
//
// Frontdesk itself re-sends an id it could not confirm (the receiver
// answered, but Frontdesk crashed or timed out before marking it). A
// receiver that gets ErrReplayed for a delivery whose signature verified
// should answer 2xx without doing the work again; one that fails to process
// a delivery should call Forget before answering an error, so the retry is
// accepted.
type ReplayGuard struct {
	mu     sync.Mutex
	window time.Duration
	max    int
	seen   map[string]time.Time
	// order holds ids oldest first, for pruning and eviction; an id can
	// appear after it was forgotten, and is skipped then.
	order []seenID
}

type seenID struct {
	id string
	at time.Time
}

// NewReplayGuard returns a guard remembering ids for window (zero or less
// means DefaultReplayWindow), holding at most maxEntries (zero or less means
// DefaultReplayEntries).
func NewReplayGuard(window time.Duration, maxEntries int) *ReplayGuard {
	if window <= 0 {
		window = DefaultReplayWindow
	}
	if maxEntries <= 0 {
		maxEntries = DefaultReplayEntries
	}
	return &ReplayGuard{window: window, max: maxEntries, seen: map[string]time.Time{}}
}

// Check records id as seen at now, or returns ErrReplayed if it was seen
// within the window.
func (g *ReplayGuard) Check(id string, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.prune(now)
	if at, ok := g.seen[id]; ok && now.Sub(at) < g.window {
		return ErrReplayed
	}
	// Forgotten ids leave stale entries in order; bound those too.
	for (len(g.seen) >= g.max || len(g.order) >= 2*g.max) && len(g.order) > 0 {
		g.evictOldest()
	}
	g.seen[id] = now
	g.order = append(g.order, seenID{id: id, at: now})
	return nil
}

// Forget removes id, so the next delivery with it is accepted.
func (g *ReplayGuard) Forget(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.seen, id)
}

// Len reports how many ids the guard holds.
func (g *ReplayGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}

// prune drops ids older than the window from the front of order.
func (g *ReplayGuard) prune(now time.Time) {
	n := 0
	for n < len(g.order) && now.Sub(g.order[n].at) >= g.window {
		if at, ok := g.seen[g.order[n].id]; ok && at.Equal(g.order[n].at) {
			delete(g.seen, g.order[n].id)
		}
		n++
	}
	g.drop(n)
}

func (g *ReplayGuard) evictOldest() {
	e := g.order[0]
	if at, ok := g.seen[e.id]; ok && at.Equal(e.at) {
		delete(g.seen, e.id)
	}
	g.drop(1)
}

// drop removes the first n entries of order. The dead prefix is released
// when append next grows the slice, which copies only the live part.
func (g *ReplayGuard) drop(n int) {
	g.order = g.order[n:]
}
