package chat

import (
	"context"
	"sync"
	"time"
)

// DefaultPresenceGrace is how long an agent whose last socket dropped stays
// at their status before going offline: long enough for a page reload or a
// network blip, short enough that visitors are not left waiting for someone
// who left.
const DefaultPresenceGrace = 30 * time.Second

// AfterFunc runs f once after d, unless the returned stop function is called
// first; stop reports whether it prevented the call, like time.Timer.Stop.
// time.AfterFunc is the production one; tests inject a fake to fire timers
// when they choose.
type AfterFunc func(d time.Duration, f func()) (stop func() bool)

// GracePresenceConfig configures a GracefulPresence. Zero fields take the
// documented defaults.
type GracePresenceConfig struct {
	// Grace is how long an agent with no socket left keeps their status.
	// Defaults to DefaultPresenceGrace; a negative value means none (offline
	// at once).
	Grace time.Duration
	// AfterFunc schedules the offline switch. Defaults to time.AfterFunc.
	AfterFunc AfterFunc
}

// GracefulPresence ties agents' presence to their sockets. It wraps a
// PresenceTable (MemoryPresence, or RedisPresence for a cluster), which
// stays the one table every reader (the handover node through Presence,
// the REST presence endpoints) sees, and is itself a PresenceTable:
//
//   - Connect is called when an agent socket opens. An arriving agent (no
//     socket open on this node, no grace period running) who was offline
//     goes online; another tab, or a reconnect within the grace period,
//     keeps the status the agent had (away stays away, offline stays
//     offline).
//   - Disconnect is called when it closes. When the agent's last socket is
//     gone, they go offline after the grace period, unless a socket of
//     theirs connects again first.
//   - Set is the agent's own choice (online, away, offline), from the REST
//     endpoint or the socket; it holds until the next Set or until the
//     agent's last socket has been gone for the grace period.
//
// Sockets are counted per node. With RedisPresence and one agent's sockets
// on several nodes, the node where the agent's last local socket closes
// sets them offline after the grace period even if another node still
// holds a socket of theirs; their console sets its status again on its
// next presence frame or reconnect. Tables whose statuses expire
// (RedisPresence) need Heartbeat, which Run calls on a ticker.
//
// It reads no clock itself: the grace timer comes from AfterFunc. All
// methods are safe for concurrent use.
type GracefulPresence struct {
	table PresenceTable
	grace time.Duration
	after AfterFunc

	mu     sync.Mutex
	agents map[presenceKey]*agentSockets
}

var _ PresenceTable = (*GracefulPresence)(nil)

type presenceKey struct{ ws, user string }

// agentSockets is one agent's open sockets and pending offline switch.
type agentSockets struct {
	open int
	// stop cancels the pending offline switch; nil when none is pending.
	stop func() bool
	// gen identifies the pending switch, so one that fires after being
	// cancelled (stop came too late) does nothing.
	gen uint64
}

// NewGracefulPresence wraps table (a new MemoryPresence when nil).
func NewGracefulPresence(table PresenceTable, cfg GracePresenceConfig) *GracefulPresence {
	if table == nil {
		table = NewMemoryPresence()
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultPresenceGrace
	}
	if cfg.AfterFunc == nil {
		cfg.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	return &GracefulPresence{table: table, grace: cfg.Grace, after: cfg.AfterFunc, agents: map[presenceKey]*agentSockets{}}
}

// Table returns the wrapped table.
func (g *GracefulPresence) Table() PresenceTable { return g.table }

// Grace returns the grace period (negative: none).
func (g *GracefulPresence) Grace() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.grace
}

// SetGrace changes the grace period of sockets closing from now on (0 is
// the default, negative none). Tests shorten it on a wired server.
func (g *GracefulPresence) SetGrace(d time.Duration) {
	if d == 0 {
		d = DefaultPresenceGrace
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.grace = d
}

// Connect records an opened socket of the agent and returns their status
// afterwards. It cancels a pending offline switch; an arriving agent who
// was offline goes online.
func (g *GracefulPresence) Connect(ws, userID string) PresenceStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := presenceKey{ws, userID}
	a := g.agents[k]
	if a == nil {
		a = &agentSockets{}
		g.agents[k] = a
	}
	// Arriving: no socket open here and no grace running. Anything else is
	// another tab or a reload, which keep the status the agent chose.
	arriving := a.open == 0 && a.stop == nil
	a.open++
	if a.stop != nil {
		a.stop()
		a.stop = nil
		a.gen++
	}
	// Set under g.mu, so an offline switch cannot interleave with this.
	st := g.table.Status(ws, userID)
	if arriving && st == Offline {
		st = Online
		g.table.Set(ws, userID, st)
	}
	return st
}

// Disconnect records a closed socket of the agent. When it was their last,
// they go offline after the grace period unless they connect again first.
// Every Connect must be matched by exactly one Disconnect.
func (g *GracefulPresence) Disconnect(ws, userID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := presenceKey{ws, userID}
	a := g.agents[k]
	if a == nil || a.open == 0 {
		return // unmatched: nothing to undo
	}
	if a.open--; a.open > 0 {
		return
	}
	if g.grace < 0 {
		delete(g.agents, k)
		g.table.Set(ws, userID, Offline)
		return
	}
	a.gen++
	gen := a.gen
	a.stop = g.after(g.grace, func() { g.expire(k, gen) })
}

// expire is the offline switch of a grace period that ran out.
func (g *GracefulPresence) expire(k presenceKey, gen uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.agents[k]
	if a == nil || a.gen != gen || a.open > 0 {
		return // reconnected, or a newer switch is pending
	}
	delete(g.agents, k)
	g.table.Set(k.ws, k.user, Offline)
}

// Sockets returns how many sockets of the agent are open.
func (g *GracefulPresence) Sockets(ws, userID string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if a := g.agents[presenceKey{ws, userID}]; a != nil {
		return a.open
	}
	return 0
}

// Set records the agent's own choice of status.
func (g *GracefulPresence) Set(ws, userID string, st PresenceStatus) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.table.Set(ws, userID, st)
}

// Status returns the agent's status.
func (g *GracefulPresence) Status(ws, userID string) PresenceStatus {
	return g.table.Status(ws, userID)
}

// OnlineAgents implements Presence.
func (g *GracefulPresence) OnlineAgents(ctx context.Context, ws string) int {
	return g.table.OnlineAgents(ctx, ws)
}

// refresher is a table whose statuses expire unless refreshed
// (RedisPresence).
type refresher interface {
	Refresh(ws, userID string)
}

// Heartbeat refreshes the status of every agent with a socket open on this
// node, or in their grace period, when the table's statuses expire. It is
// a no-op for MemoryPresence.
func (g *GracefulPresence) Heartbeat() {
	r, ok := g.table.(refresher)
	if !ok {
		return
	}
	g.mu.Lock()
	keys := make([]presenceKey, 0, len(g.agents))
	for k := range g.agents {
		keys = append(keys, k)
	}
	g.mu.Unlock()
	// Outside the lock: each refresh is a network round trip.
	for _, k := range keys {
		r.Refresh(k.ws, k.user)
	}
}

// Run calls Heartbeat every interval until ctx ends. With RedisPresence,
// interval should be a third of its TTL (chat.DefaultPresenceTTL / 3).
func (g *GracefulPresence) Run(ctx context.Context, interval time.Duration) {
	if _, ok := g.table.(refresher); !ok || interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.Heartbeat()
		}
	}
}

// Close cancels every pending offline switch (the node is stopping; its
// presence table goes with it).
func (g *GracefulPresence) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, a := range g.agents {
		if a.stop != nil {
			a.stop()
			a.stop = nil
		}
		a.gen++
		if a.open == 0 {
			delete(g.agents, k)
		}
	}
}
