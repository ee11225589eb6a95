package chat

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeTimers is an AfterFunc whose timers fire only when the test says.
type fakeTimers struct {
	mu     sync.Mutex
	timers []*fakeTimer
}

type fakeTimer struct {
	d       time.Duration
	f       func()
	stopped bool
}

func (ft *fakeTimers) after(d time.Duration, f func()) func() bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	t := &fakeTimer{d: d, f: f}
	ft.timers = append(ft.timers, t)
	return func() bool {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// fireAll runs every timer not stopped, as if their time had come.
func (ft *fakeTimers) fireAll() {
	ft.mu.Lock()
	var due []*fakeTimer
	for _, t := range ft.timers {
		if !t.stopped {
			t.stopped = true
			due = append(due, t)
		}
	}
	ft.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// fireLate runs every timer, stopped or not: a timer whose Stop came too
// late still runs its function once.
func (ft *fakeTimers) fireLate() {
	ft.mu.Lock()
	due := append([]*fakeTimer(nil), ft.timers...)
	ft.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

func (ft *fakeTimers) pending() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	n := 0
	for _, t := range ft.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

func newGraceTest(grace time.Duration) (*GracefulPresence, *fakeTimers) {
	ft := &fakeTimers{}
	return NewGracefulPresence(nil, GracePresenceConfig{Grace: grace, AfterFunc: ft.after}), ft
}

func TestGracefulPresenceConnectMakesAnOfflineAgentOnline(t *testing.T) {
	t.Parallel()
	g, _ := newGraceTest(time.Minute)
	ctx := context.Background()
	require.Equal(t, Offline, g.Status("ws", "ann"))
	require.Equal(t, Online, g.Connect("ws", "ann"))
	require.Equal(t, 1, g.OnlineAgents(ctx, "ws"))
	require.Equal(t, 0, g.OnlineAgents(ctx, "other"), "presence is per workspace")

	// An agent who chose away stays away when another tab connects.
	g.Set("ws", "ann", Away)
	require.Equal(t, Away, g.Connect("ws", "ann"))
	require.Equal(t, 0, g.OnlineAgents(ctx, "ws"), "away agents do not count for handovers")
	require.Equal(t, 2, g.Sockets("ws", "ann"))

	// Offline chosen with the console open holds for more tabs too.
	g.Set("ws", "ann", Offline)
	require.Equal(t, Offline, g.Connect("ws", "ann"))
	// Once every socket is gone and the grace is over, arriving again is
	// going online.
	for range 3 {
		g.Disconnect("ws", "ann")
	}
}

func TestGracefulPresenceArrivingAfterTheGraceGoesOnline(t *testing.T) {
	t.Parallel()
	g, ft := newGraceTest(time.Minute)
	g.Connect("ws", "ann")
	g.Set("ws", "ann", Offline)
	g.Disconnect("ws", "ann")
	require.Equal(t, Offline, g.Connect("ws", "ann"), "a reload within the grace keeps offline")
	g.Disconnect("ws", "ann")
	ft.fireAll()
	require.Equal(t, Online, g.Connect("ws", "ann"), "a new arrival goes online")
}

func TestGracefulPresenceGoesOfflineOnlyAfterTheGraceOfTheLastSocket(t *testing.T) {
	t.Parallel()
	g, ft := newGraceTest(30 * time.Second)
	g.Connect("ws", "ann")
	g.Connect("ws", "ann")

	g.Disconnect("ws", "ann")
	require.Zero(t, ft.pending(), "one socket is still open: no grace timer")
	require.Equal(t, Online, g.Status("ws", "ann"))

	g.Disconnect("ws", "ann")
	require.Equal(t, 1, ft.pending())
	require.Equal(t, 30*time.Second, ft.timers[0].d)
	require.Equal(t, Online, g.Status("ws", "ann"), "still online during the grace period")

	ft.fireAll()
	require.Equal(t, Offline, g.Status("ws", "ann"))
	require.Zero(t, g.Sockets("ws", "ann"))
}

func TestGracefulPresenceReconnectWithinTheGraceKeepsTheStatus(t *testing.T) {
	t.Parallel()
	g, ft := newGraceTest(30 * time.Second)
	g.Connect("ws", "ann")
	g.Set("ws", "ann", Away)
	g.Disconnect("ws", "ann")
	require.Equal(t, 1, ft.pending())

	require.Equal(t, Away, g.Connect("ws", "ann"), "a reload keeps away")
	require.Zero(t, ft.pending(), "the offline switch is cancelled")

	// A switch whose Stop came too late still runs, and must do nothing.
	ft.fireLate()
	require.Equal(t, Away, g.Status("ws", "ann"))

	// The next drop starts a new grace period; the old timer is stale.
	g.Disconnect("ws", "ann")
	ft.fireAll()
	require.Equal(t, Offline, g.Status("ws", "ann"))
}

func TestGracefulPresenceNegativeGraceIsOfflineAtOnce(t *testing.T) {
	t.Parallel()
	g, ft := newGraceTest(-1)
	g.Connect("ws", "ann")
	g.Disconnect("ws", "ann")
	require.Zero(t, ft.pending())
	require.Equal(t, Offline, g.Status("ws", "ann"))
}

func TestGracefulPresenceUnmatchedDisconnectIsHarmless(t *testing.T) {
	t.Parallel()
	g, ft := newGraceTest(time.Second)
	g.Set("ws", "ann", Online)
	g.Disconnect("ws", "ann")
	require.Zero(t, ft.pending())
	require.Equal(t, Online, g.Status("ws", "ann"), "an agent set online over REST alone is not switched off")
}

func TestGracefulPresenceSharesTheWrappedTable(t *testing.T) {
	t.Parallel()
	mem := NewMemoryPresence()
	g := NewGracefulPresence(mem, GracePresenceConfig{})
	require.Equal(t, DefaultPresenceGrace, g.Grace())
	g.SetGrace(time.Second)
	require.Equal(t, time.Second, g.Grace())
	g.SetGrace(0)
	require.Equal(t, DefaultPresenceGrace, g.Grace())
	require.Same(t, mem, g.Table())
	g.Connect("ws", "ann")
	require.Equal(t, Online, mem.Status("ws", "ann"), "readers of the MemoryPresence see socket presence")
	mem.Set("ws", "ann", Away)
	require.Equal(t, Away, g.Status("ws", "ann"), "REST changes through the MemoryPresence show through")
	g.Close()
}

func TestGracefulPresenceCloseCancelsPendingSwitches(t *testing.T) {
	t.Parallel()
	g, ft := newGraceTest(time.Minute)
	g.Connect("ws", "ann")
	g.Disconnect("ws", "ann")
	g.Close()
	require.Zero(t, ft.pending())
	ft.fireLate()
	require.Equal(t, Online, g.Status("ws", "ann"), "a cancelled switch does nothing")
}

func TestGracefulPresenceIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	g := NewGracefulPresence(nil, GracePresenceConfig{Grace: time.Millisecond})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				g.Connect("ws", "ann")
				if j%3 == i%3 {
					g.Set("ws", "ann", Away)
				}
				_ = g.OnlineAgents(context.Background(), "ws")
				g.Disconnect("ws", "ann")
			}
		}()
	}
	wg.Wait()
	require.Zero(t, g.Sockets("ws", "ann"))
	require.Eventually(t, func() bool { return g.Status("ws", "ann") == Offline }, 2*time.Second, time.Millisecond)
}

// countingTable is a PresenceTable whose statuses expire, counting
// refreshes.
type countingTable struct {
	*MemoryPresence
	mu        sync.Mutex
	refreshed map[string]int
}

func (c *countingTable) Refresh(ws, userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshed[ws+"/"+userID]++
}

func TestGracefulPresenceHeartbeatRefreshesAgentsWithSockets(t *testing.T) {
	t.Parallel()
	table := &countingTable{MemoryPresence: NewMemoryPresence(), refreshed: map[string]int{}}
	ft := &fakeTimers{}
	g := NewGracefulPresence(table, GracePresenceConfig{Grace: time.Minute, AfterFunc: ft.after})
	g.Connect("ws", "ann")
	g.Connect("ws", "bob")
	g.Disconnect("ws", "bob")  // in the grace period: still refreshed
	g.Set("ws", "cid", Online) // no socket here: not this node's to refresh
	g.Heartbeat()
	require.Equal(t, map[string]int{"ws/ann": 1, "ws/bob": 1}, table.refreshed)

	ft.fireAll() // bob's grace ends
	g.Heartbeat()
	require.Equal(t, map[string]int{"ws/ann": 2, "ws/bob": 1}, table.refreshed)

	// Run returns at once for tables that need no heartbeat.
	NewGracefulPresence(nil, GracePresenceConfig{}).Run(context.Background(), time.Millisecond)
}
