package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// analyticsClock is the store's clock, set before each write so every
// created_at is known.
type analyticsClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *analyticsClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *analyticsClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func analyticsEach(t *testing.T, fn func(t *testing.T, s *storage.Store, clock *analyticsClock, b *bundle)) {
	t.Helper()
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			clock := &analyticsClock{t: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
			s := storagetest.OpenWith(t, d, storage.Options{Now: clock.now})
			fn(t, s, clock, setup(t, s))
		})
	}
}

var (
	march1  = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	april1  = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	marchIn = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
)

func TestAnalyticsFactsSummariseAConversation(t *testing.T) {
	t.Parallel()
	analyticsEach(t, func(t *testing.T, s *storage.Store, clock *analyticsClock, b *bundle) {
		ctx := context.Background()
		clock.set(marchIn)
		c := b.conversation(t, storage.StatusBot)
		ids := map[string]int64{}
		add := func(name string, at time.Duration, typ, node, data string) {
			t.Helper()
			clock.set(marchIn.Add(at))
			var raw storage.JSON
			if data != "" {
				raw = storage.JSON(data)
			}
			e, err := s.AppendEvent(ctx, b.ws, storage.NewEvent{ConversationID: c.ID, AssistantID: b.assistant.ID, VersionID: b.version.ID,
				Type: typ, NodeID: node, Data: raw})
			require.NoError(t, err)
			ids[name] = e.ID
		}
		// Microseconds survive on both dialects, SQLite aggregates included.
		us := time.Microsecond
		add("start", 0, "conversation_started", "", `{"is_new":true,"page_url":"https://shop.example/","locale":"en"}`)
		add("greet", us, "node_entered", "greet", "")
		add("v1", 5*time.Second, "visitor_message", "", "")
		add("ho", 6*time.Second+7*us, "handover_requested", "handover", `{"reason":"handover","language":"en"}`)
		add("to", 126*time.Second, "handover_timed_out", "handover", "")
		add("capture", 126*time.Second, "node_entered", "capture", "")
		add("v2", 130*time.Second, "visitor_message", "", "")
		add("ho2", 200*time.Second, "handover_requested", "again", `{"reason":"handover","language":"en"}`)
		add("claim", 260*time.Second+3*us, "agent_claimed", "", `{"agent_id":"u"}`)
		add("claim2", 261*time.Second, "agent_took_over", "", `{"agent_id":"u"}`)
		add("msg", 300*time.Second, "agent_message", "", `{"agent_id":"u"}`)
		add("back", 320*time.Second, "handed_back", "", `{"agent_id":""}`)
		add("last-node", 320*time.Second, "node_entered", "capture", "")
		add("captured", 330*time.Second, "lead_captured", "capture", `{"lead_id":"x","kind":"lead"}`)
		clock.set(marchIn.Add(40 * time.Minute))
		_, err := s.CreateLead(ctx, b.ws, storage.NewLead{ConversationID: c.ID, Kind: storage.KindDeal,
			Value: decimal.NewNullDecimal(decimal.RequireFromString("12.5")), Currency: "EUR"})
		require.NoError(t, err)
		clock.set(marchIn.Add(50 * time.Minute))
		_, err = s.CreateLead(ctx, b.ws, storage.NewLead{ConversationID: c.ID, Kind: storage.KindLead})
		require.NoError(t, err)
		add("closed", time.Hour, "conversation_closed", "", `{"by":"u"}`)
		// A preview event of the same conversation is left out.
		_, err = s.AppendEvent(ctx, b.ws, storage.NewEvent{ConversationID: c.ID, AssistantID: b.assistant.ID, Type: "visitor_message", Preview: true})
		require.NoError(t, err)

		sel := storage.AnalyticsSelection{AssistantID: b.assistant.ID, From: march1, To: april1}
		n, err := s.CountAnalyticsConversations(ctx, b.ws, sel)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		var got []storage.ConversationFacts
		require.NoError(t, s.EachConversationFacts(ctx, b.ws, sel, func(f *storage.ConversationFacts) error {
			got = append(got, *f)
			return nil
		}))
		require.Equal(t, []storage.ConversationFacts{{
			ConversationID: c.ID, VersionID: b.version.ID, StartedAt: marchIn,
			StartData:       storage.JSON(`{"is_new":true,"page_url":"https://shop.example/","locale":"en"}`),
			VisitorMessages: 2,
			HandoverEventID: ids["ho"], HandoverAt: marchIn.Add(6*time.Second + 7*us),
			ClaimEventID: ids["claim"], ClaimAt: marchIn.Add(260*time.Second + 3*us),
			TimeoutEventID: ids["to"], AgentMessageAt: marchIn.Add(300 * time.Second),
			AgentEvents: 4, Ends: 1, Captures: 1,
			Leads: 1, Deals: 1, FirstLeadAt: marchIn.Add(40 * time.Minute),
			LastNodeEventID: ids["last-node"], LastNode: "capture",
			LastActivityEventID: ids["back"], LastEventAt: marchIn.Add(time.Hour),
		}}, got)

		// A conversation with nothing but its start has zero facts.
		clock.set(marchIn.Add(2 * time.Hour))
		bare := b.conversation(t, storage.StatusBot)
		_, err = s.AppendEvent(ctx, b.ws, storage.NewEvent{ConversationID: bare.ID, AssistantID: b.assistant.ID, VersionID: b.version.ID, Type: "conversation_started"})
		require.NoError(t, err)
		got = nil
		require.NoError(t, s.EachConversationFacts(ctx, b.ws, storage.AnalyticsSelection{AssistantID: b.assistant.ID, VersionID: b.version.ID,
			From: marchIn.Add(2 * time.Hour), To: april1}, func(f *storage.ConversationFacts) error {
			got = append(got, *f)
			return nil
		}))
		require.Equal(t, []storage.ConversationFacts{{
			ConversationID: bare.ID, VersionID: b.version.ID, StartedAt: marchIn.Add(2 * time.Hour),
			StartData: storage.JSON(`{}`), LastEventAt: marchIn.Add(2 * time.Hour),
		}}, got)

		// An error from fn stops the walk and comes back as is.
		stop := errors.New("stop")
		calls := 0
		err = s.EachConversationFacts(ctx, b.ws, sel, func(*storage.ConversationFacts) error { calls++; return stop })
		require.ErrorIs(t, err, stop)
		require.Equal(t, 1, calls)
	})
}

func TestAnalyticsDealValuesAreExact(t *testing.T) {
	t.Parallel()
	analyticsEach(t, func(t *testing.T, s *storage.Store, clock *analyticsClock, b *bundle) {
		ctx := context.Background()
		clock.set(marchIn)
		c := b.conversation(t, storage.StatusBot)
		_, err := s.AppendEvent(ctx, b.ws, storage.NewEvent{ConversationID: c.ID, AssistantID: b.assistant.ID, VersionID: b.version.ID, Type: "conversation_started"})
		require.NoError(t, err)
		for _, l := range []struct {
			kind     storage.LeadKind
			value    string
			currency string
		}{
			{storage.KindDeal, "9999999999999999.9999", "USD"}, // the largest NUMERIC(20,4) value
			{storage.KindDeal, "0.0001", "USD"},
			{storage.KindDeal, "0.1", "JPY"},
			{storage.KindDeal, "", "USD"},   // no value: not listed
			{storage.KindLead, "50", "USD"}, // a lead, not a deal
		} {
			in := storage.NewLead{ConversationID: c.ID, Kind: l.kind, Currency: l.currency}
			if l.value != "" {
				in.Value = decimal.NewNullDecimal(decimal.RequireFromString(l.value))
			}
			_, err := s.CreateLead(ctx, b.ws, in)
			require.NoError(t, err)
		}
		got := map[string]decimal.Decimal{}
		sel := storage.AnalyticsSelection{AssistantID: b.assistant.ID, From: march1, To: april1}
		require.NoError(t, s.EachDealValue(ctx, b.ws, sel, func(currency string, v decimal.Decimal) error {
			if sum, ok := got[currency]; ok {
				v = sum.Add(v)
			}
			got[currency] = v
			return nil
		}))
		require.Len(t, got, 2)
		require.Equal(t, "10000000000000000", got["USD"].String(), "exact past NUMERIC(20,4)")
		require.Equal(t, "0.1", got["JPY"].String())

		// Another workspace, or a conversation outside the period, adds
		// nothing.
		calls := 0
		count := func(string, decimal.Decimal) error { calls++; return nil }
		require.NoError(t, s.EachDealValue(ctx, b.ws, storage.AnalyticsSelection{AssistantID: b.assistant.ID, From: april1, To: april1.AddDate(0, 1, 0)}, count))
		other, err := s.CreateWorkspace(ctx, "Other")
		require.NoError(t, err)
		require.NoError(t, s.EachDealValue(ctx, other.ID, sel, count))
		require.Zero(t, calls)
	})
}

func TestAnalyticsNodeVisits(t *testing.T) {
	t.Parallel()
	analyticsEach(t, func(t *testing.T, s *storage.Store, clock *analyticsClock, b *bundle) {
		ctx := context.Background()
		clock.set(marchIn)
		for _, path := range [][]string{{"a", "b", "b", "c"}, {"a", "c"}} {
			c := b.conversation(t, storage.StatusBot)
			_, err := s.AppendEvent(ctx, b.ws, storage.NewEvent{ConversationID: c.ID, AssistantID: b.assistant.ID, VersionID: b.version.ID, Type: "conversation_started"})
			require.NoError(t, err)
			for _, n := range path {
				_, err := s.AppendEvent(ctx, b.ws, storage.NewEvent{ConversationID: c.ID, AssistantID: b.assistant.ID, VersionID: b.version.ID, Type: "node_entered", NodeID: n})
				require.NoError(t, err)
			}
		}
		sel := storage.AnalyticsSelection{AssistantID: b.assistant.ID, From: march1, To: april1}
		all, err := s.ListNodeVisits(ctx, b.ws, sel, 0)
		require.NoError(t, err)
		require.Equal(t, []storage.NodeVisits{
			{NodeID: "a", Visits: 2, Conversations: 2},
			{NodeID: "b", Visits: 2, Conversations: 1},
			{NodeID: "c", Visits: 2, Conversations: 2},
		}, all)
		two, err := s.ListNodeVisits(ctx, b.ws, sel, 2)
		require.NoError(t, err)
		require.Equal(t, all[:2], two)
	})
}

func TestAnalyticsSelectionIsChecked(t *testing.T) {
	t.Parallel()
	analyticsEach(t, func(t *testing.T, s *storage.Store, _ *analyticsClock, b *bundle) {
		ctx := context.Background()
		good := storage.AnalyticsSelection{AssistantID: b.assistant.ID, From: march1, To: april1}
		for name, c := range map[string]struct {
			ws  string
			sel storage.AnalyticsSelection
		}{
			"no workspace":   {"", good},
			"no assistant":   {b.ws, storage.AnalyticsSelection{From: march1, To: april1}},
			"no period":      {b.ws, storage.AnalyticsSelection{AssistantID: b.assistant.ID}},
			"empty period":   {b.ws, storage.AnalyticsSelection{AssistantID: b.assistant.ID, From: march1, To: march1}},
			"reverse period": {b.ws, storage.AnalyticsSelection{AssistantID: b.assistant.ID, From: april1, To: march1}},
		} {
			_, err := s.CountAnalyticsConversations(ctx, c.ws, c.sel)
			require.ErrorIs(t, err, storage.ErrInvalid, name)
			err = s.EachConversationFacts(ctx, c.ws, c.sel, func(*storage.ConversationFacts) error { return nil })
			require.ErrorIs(t, err, storage.ErrInvalid, name)
			err = s.EachDealValue(ctx, c.ws, c.sel, func(string, decimal.Decimal) error { return nil })
			require.ErrorIs(t, err, storage.ErrInvalid, name)
			_, err = s.ListNodeVisits(ctx, c.ws, c.sel, 10)
			require.ErrorIs(t, err, storage.ErrInvalid, name)
		}
	})
}
