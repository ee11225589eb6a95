package chat

import (
	"context"
	"sync"
)

// PresenceStatus is an agent's availability.
type PresenceStatus string

// The presence statuses. Only online agents count for handovers.
const (
	Online  PresenceStatus = "online"
	Away    PresenceStatus = "away"
	Offline PresenceStatus = "offline"
)

// MemoryPresence keeps agents' presence in this process. It is the
// single-node default.
type MemoryPresence struct {
	mu     sync.Mutex
	agents map[string]map[string]PresenceStatus
}

// NewMemoryPresence returns an empty presence table.
func NewMemoryPresence() *MemoryPresence {
	return &MemoryPresence{agents: map[string]map[string]PresenceStatus{}}
}

// Set records an agent's status.
func (p *MemoryPresence) Set(ws, userID string, st PresenceStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.agents[ws]
	if m == nil {
		m = map[string]PresenceStatus{}
		p.agents[ws] = m
	}
	if st == Offline {
		delete(m, userID)
		return
	}
	m[userID] = st
}

// Status returns an agent's status.
func (p *MemoryPresence) Status(ws, userID string) PresenceStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.agents[ws][userID]; ok {
		return st
	}
	return Offline
}

// OnlineAgents implements Presence.
func (p *MemoryPresence) OnlineAgents(_ context.Context, ws string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, st := range p.agents[ws] {
		if st == Online {
			n++
		}
	}
	return n
}
