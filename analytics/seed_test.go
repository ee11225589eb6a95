package analytics_test

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// The tests seed the event log by hand, as the chat runtime writes it, on
// a store whose clock they set before each write: every created_at is
// chosen, so every figure can be computed by hand.

// testClock is the store's clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// eachOnClock is storagetest.Each with the store on a test clock.
func eachOnClock(t *testing.T, fn func(t *testing.T, s *storage.Store, clock *testClock)) {
	t.Helper()
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			clock := &testClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			fn(t, storagetest.OpenWith(t, d, storage.Options{Now: clock.now}), clock)
		})
	}
}

// seed is one workspace with an assistant and its versions.
type seed struct {
	t         *testing.T
	s         *storage.Store
	clock     *testClock
	ws        string
	assistant string
	versions  []*storage.Version
}

func newSeed(t *testing.T, s *storage.Store, clock *testClock, name string, versions int) *seed {
	t.Helper()
	ctx := context.Background()
	w, err := s.CreateWorkspace(ctx, name)
	require.NoError(t, err)
	a, err := s.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: name + " bot"})
	require.NoError(t, err)
	sd := &seed{t: t, s: s, clock: clock, ws: w.ID, assistant: a.ID}
	for range versions {
		v, err := s.PublishVersion(ctx, w.ID, a.ID, storage.JSON(`{"nodes":[]}`), "")
		require.NoError(t, err)
		sd.versions = append(sd.versions, v)
	}
	return sd
}

// step is one event of a conversation, at an offset from its start.
type step struct {
	at   time.Duration
	typ  string
	node string
	data string
	// lead, when set, creates a lead row before the event (whose data
	// then names it), as the runtime and the agents' lead form do.
	lead *leadSpec
}

type leadSpec struct {
	kind     storage.LeadKind
	value    string // "" for none
	currency string
}

// convo describes one conversation.
type convo struct {
	version *storage.Version // nil: a preview chat on the draft
	start   time.Time
	isNew   bool
	// preview marks the conversation row; previewEvents the events after
	// conversation_started (which the runtime writes unflagged).
	preview, previewEvents bool
	steps                  []step
}

// Steps in the vocabulary of package chat.
func node(at time.Duration, id string) step { return step{at: at, typ: "node_entered", node: id} }
func visitor(at time.Duration) step         { return step{at: at, typ: "visitor_message"} }
func handover(at time.Duration, n string) step {
	return step{at: at, typ: "handover_requested", node: n, data: `{"reason":"handover","language":"en"}`}
}
func agent(at time.Duration, typ string) step {
	return step{at: at, typ: typ, data: `{"agent_id":"u-1","node":""}`}
}
func event(at time.Duration, typ string) step { return step{at: at, typ: typ} }
func closed(at time.Duration) step {
	return step{at: at, typ: "conversation_closed", data: `{"by":"u-1"}`}
}

// lead creates a lead or deal row, then logs typ (lead_captured by the bot,
// lead_created or deal_created by an agent) naming it.
func lead(at time.Duration, typ string, kind storage.LeadKind, value, currency string) step {
	return step{at: at, typ: typ, lead: &leadSpec{kind: kind, value: value, currency: currency}}
}

func sec(n int) time.Duration { return time.Duration(n) * time.Second }

// add stores the conversation and its events in time order and returns its
// id.
func (sd *seed) add(c convo) string {
	t := sd.t
	t.Helper()
	ctx := context.Background()
	sd.clock.set(c.start)
	nc := storage.NewConversation{AssistantID: sd.assistant, VisitorID: "visitor", Preview: c.preview}
	vid := ""
	if c.version != nil {
		nc.VersionID, vid = c.version.ID, c.version.ID
	}
	conv, err := sd.s.CreateConversation(ctx, sd.ws, nc)
	require.NoError(t, err)
	data, _ := json.Marshal(map[string]any{"is_new": c.isNew, "page_url": "https://shop.example/", "locale": "en"})
	_, err = sd.s.AppendEvent(ctx, sd.ws, storage.NewEvent{ConversationID: conv.ID, AssistantID: sd.assistant, VersionID: vid, Type: "conversation_started", Data: data})
	require.NoError(t, err)
	steps := append([]step(nil), c.steps...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
	for _, st := range steps {
		sd.clock.set(c.start.Add(st.at))
		raw := storage.JSON(nil)
		if st.data != "" {
			raw = storage.JSON(st.data)
		}
		if st.lead != nil {
			nl := storage.NewLead{ConversationID: conv.ID, Kind: st.lead.kind, Currency: st.lead.currency, Email: "v@example.com"}
			if st.lead.value != "" {
				nl.Value = decimal.NewNullDecimal(decimal.RequireFromString(st.lead.value))
			}
			l, err := sd.s.CreateLead(ctx, sd.ws, nl)
			require.NoError(t, err)
			raw, _ = json.Marshal(map[string]any{"lead_id": l.ID, "kind": l.Kind})
		}
		_, err := sd.s.AppendEvent(ctx, sd.ws, storage.NewEvent{ConversationID: conv.ID, AssistantID: sd.assistant, VersionID: vid,
			Type: st.typ, NodeID: st.node, Data: raw, Preview: c.previewEvents})
		require.NoError(t, err)
	}
	return conv.ID
}

// march is a time on a day of March 2025, UTC.
func march(day, h, m, s int) time.Time { return time.Date(2025, 3, day, h, m, s, 0, time.UTC) }
