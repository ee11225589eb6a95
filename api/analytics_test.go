package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/analytics"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// analyticsNow is the API's clock in these tests.
var analyticsNow = time.Date(2025, 4, 10, 12, 0, 0, 0, time.UTC)

type analyticsTestClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *analyticsTestClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *analyticsTestClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// analyticsEnv is a server with the analytics routes over a store whose
// clock the test sets, with a tenant whose assistant has two versions and
// a few March chats on them.
type analyticsEnv struct {
	*routesEnv
	tn        *routesTenant
	assistant string
	v1, v2    *storage.Version
}

func newAnalyticsEnv(t *testing.T, s *storage.Store, clock *analyticsTestClock, maxConversations int64) *analyticsEnv {
	t.Helper()
	a := &bearerAuth{byToken: map[string]Principal{}}
	srv := New(Deps{
		Config: config.Default(), Store: s, Auth: a,
		Services: []Routes{&AnalyticsRoutes{Store: s, Now: func() time.Time { return analyticsNow }, MaxConversations: maxConversations}},
	})
	e := &analyticsEnv{routesEnv: &routesEnv{t: t, store: s, srv: srv, auth: a}}
	e.tn = e.tenant("acme")
	ctx := context.Background()
	asst, err := s.CreateAssistant(ctx, e.tn.ws, storage.NewAssistant{Name: "Ava"})
	require.NoError(t, err)
	e.assistant = asst.ID
	e.v1, err = s.PublishVersion(ctx, e.tn.ws, asst.ID, storage.JSON(`{"nodes":[]}`), "")
	require.NoError(t, err)
	e.v2, err = s.PublishVersion(ctx, e.tn.ws, asst.ID, storage.JSON(`{"nodes":[]}`), "")
	require.NoError(t, err)

	// Three chats on version 1, one on version 2, all in March; one on
	// version 1 in April.
	chat := func(v *storage.Version, start time.Time, engaged bool, deal string) {
		t.Helper()
		clock.set(start)
		c, err := s.CreateConversation(ctx, e.tn.ws, storage.NewConversation{VersionID: v.ID, VisitorID: "v"})
		require.NoError(t, err)
		ev := func(typ, node string) {
			t.Helper()
			_, err := s.AppendEvent(ctx, e.tn.ws, storage.NewEvent{ConversationID: c.ID, AssistantID: asst.ID, VersionID: v.ID, Type: typ, NodeID: node,
				Data: storage.JSON(`{"is_new":true}`)})
			require.NoError(t, err)
		}
		ev("conversation_started", "")
		ev("node_entered", "greet")
		if engaged {
			clock.set(start.Add(time.Second))
			ev("visitor_message", "")
		}
		if deal != "" {
			clock.set(start.Add(time.Minute))
			_, err := s.CreateLead(ctx, e.tn.ws, storage.NewLead{ConversationID: c.ID, Kind: storage.KindDeal, Currency: "USD",
				Value: decimal.NewNullDecimal(decimal.RequireFromString(deal))})
			require.NoError(t, err)
		}
	}
	chat(e.v1, time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC), true, "100.50")
	chat(e.v1, time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC), false, "")
	chat(e.v1, time.Date(2025, 3, 5, 10, 0, 0, 0, time.UTC), true, "0.25")
	chat(e.v2, time.Date(2025, 3, 30, 10, 0, 0, 0, time.UTC), true, "")
	chat(e.v1, time.Date(2025, 4, 2, 10, 0, 0, 0, time.UTC), true, "")
	return e
}

func analyticsEachOnClock(t *testing.T, fn func(t *testing.T, s *storage.Store, clock *analyticsTestClock)) {
	t.Helper()
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			clock := &analyticsTestClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			fn(t, storagetest.OpenWith(t, d, storage.Options{Now: clock.now}), clock)
		})
	}
}

func TestAnalyticsRoutes(t *testing.T) {
	t.Parallel()
	analyticsEachOnClock(t, func(t *testing.T, s *storage.Store, clock *analyticsTestClock) {
		e := newAnalyticsEnv(t, s, clock, 0)
		base := "/api/v1/assistants/" + e.assistant + "/analytics"
		march := "?from=2025-03-01&to=2025-04-01"
		svc := &analytics.Service{Store: s, Now: func() time.Time { return analyticsNow }}
		ctx := context.Background()
		period := analytics.Period{From: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)}

		t.Run("report", func(t *testing.T) {
			var got analytics.Report
			e.do(e.tn.builder, http.MethodGet, base+march, nil).ok(http.StatusOK, &got)
			want, err := svc.Report(ctx, e.tn.ws, analytics.Selection{AssistantID: e.assistant, Period: period})
			require.NoError(t, err)
			require.Equal(t, *want, got)
			require.EqualValues(t, 4, got.Conversations)
			require.Equal(t, analytics.Share{Count: 3, Of: 4, Rate: ptr(0.75)}, got.Engaged)
			require.Equal(t, []analytics.DealValue{{Currency: "USD", Total: "100.75", Count: 2, Average: "50.375"}}, got.DealValue)
			require.Len(t, got.Series.Points, 31)

			// The wire shape: exact money as strings, null medians, the
			// not-enough-data flag with its message.
			var raw map[string]any
			e.do(e.tn.admin, http.MethodGet, base+march, nil).ok(http.StatusOK, &raw)
			require.Equal(t, true, raw["not_enough_data"])
			require.Equal(t, "Not enough data: 4 conversations in this selection, and figures mean little below 15. They are shown as they are.", raw["message"])
			require.EqualValues(t, 15, raw["min_conversations"])
			require.Nil(t, raw["version"])
			require.Contains(t, raw, "median_time_to_claim_seconds")
			require.Nil(t, raw["median_time_to_claim_seconds"])
			require.Equal(t, []any{map[string]any{"currency": "USD", "total": "100.75", "count": 2.0, "average": "50.375"}}, raw["deal_value"])
			require.Equal(t, "2025-03-01T00:00:00Z", raw["from"])
			require.Equal(t, map[string]any{"count": 0.0, "of": 0.0, "rate": nil}, raw["claimed"])
		})

		t.Run("one version", func(t *testing.T) {
			var got analytics.Report
			e.do(e.tn.owner, http.MethodGet, base+march+"&version=1", nil).ok(http.StatusOK, &got)
			require.Equal(t, ptr(1), got.Version)
			require.EqualValues(t, 3, got.Conversations)
			e.do(e.tn.owner, http.MethodGet, base+march+"&version=2", nil).ok(http.StatusOK, &got)
			require.Equal(t, ptr(2), got.Version)
			require.EqualValues(t, 1, got.Conversations)
			require.Empty(t, got.DealValue)
			e.do(e.tn.builder, http.MethodGet, base+march+"&version=3", nil).problem(http.StatusNotFound)
			p := e.do(e.tn.builder, http.MethodGet, base+march+"&version=0", nil).problem(http.StatusUnprocessableEntity)
			require.Equal(t, []string{"query.version"}, p.locations())
			p = e.do(e.tn.builder, http.MethodGet, base+march+"&version=first", nil).problem(http.StatusUnprocessableEntity)
			require.Equal(t, []string{"query.version"}, p.locations())
		})

		t.Run("nodes", func(t *testing.T) {
			var got analytics.NodeReport
			e.do(e.tn.builder, http.MethodGet, base+"/nodes"+march, nil).ok(http.StatusOK, &got)
			want, err := svc.Nodes(ctx, e.tn.ws, analytics.Selection{AssistantID: e.assistant, Period: period})
			require.NoError(t, err)
			require.Equal(t, *want, got)
			require.Equal(t, []analytics.NodeStat{{NodeID: "greet", Visits: 4, Conversations: 4, DropOffs: 1, DropOffRate: ptr(0.25)}}, got.Nodes)
			e.do(e.tn.builder, http.MethodGet, base+"/nodes"+march+"&version=2", nil).ok(http.StatusOK, &got)
			require.Equal(t, ptr(2), got.Version)
			require.Equal(t, []analytics.NodeStat{{NodeID: "greet", Visits: 1, Conversations: 1, DropOffRate: ptr(0.0)}}, got.Nodes)
		})

		t.Run("the default period is the last 30 days", func(t *testing.T) {
			var got analytics.Report
			e.do(e.tn.builder, http.MethodGet, base, nil).ok(http.StatusOK, &got)
			require.Equal(t, time.Date(2025, 3, 12, 0, 0, 0, 0, time.UTC), got.From)
			require.Equal(t, time.Date(2025, 4, 11, 0, 0, 0, 0, time.UTC), got.To)
			require.EqualValues(t, 2, got.Conversations, "03-30 and 04-02")
		})

		t.Run("bad periods name the parameter", func(t *testing.T) {
			for _, c := range []struct {
				query, location string
			}{
				{"?from=yesterday", "query.from"},
				{"?from=2025-03-01&to=31/03/2025", "query.to"},
				{"?from=2025-03-02&to=2025-03-01", "query.to"},
				{"?from=2025-03-01&to=2025-03-01", "query.to"},
				{"?from=2024-01-01&to=2025-03-01", "query.from"},
				{"?from=2020-01-01", "query.from"},
			} {
				for _, path := range []string{base, base + "/nodes"} {
					p := e.do(e.tn.builder, http.MethodGet, path+c.query, nil).problem(http.StatusUnprocessableEntity)
					require.Equal(t, []string{c.location}, p.locations(), "%s%s: %s", path, c.query, p.Detail)
					require.Equal(t, "invalid", p.Code)
				}
			}
			p := e.do(e.tn.builder, http.MethodGet, base+"?from="+strings.Repeat("2", 65), nil).problem(http.StatusUnprocessableEntity)
			require.Equal(t, []string{"query.from"}, p.locations())
		})

		t.Run("access", func(t *testing.T) {
			for _, path := range []string{base + march, base + "/nodes" + march} {
				e.do(e.tn.agent, http.MethodGet, path, nil).problem(http.StatusForbidden)
				e.do("", http.MethodGet, path, nil).problem(http.StatusUnauthorized)
			}
			// Another tenant's assistant is not found, whoever asks.
			other := e.tenant("globex")
			for _, path := range []string{base + march, base + "/nodes" + march, base + "?version=1"} {
				p := e.do(other.admin, http.MethodGet, path, nil).problem(http.StatusNotFound)
				require.Equal(t, "assistant not found", p.Detail)
			}
			e.do(e.tn.admin, http.MethodGet, "/api/v1/assistants/no-such-assistant/analytics", nil).problem(http.StatusNotFound)
		})
	})
}

func TestAnalyticsRoutesRefuseTooLargeASelection(t *testing.T) {
	t.Parallel()
	analyticsEachOnClock(t, func(t *testing.T, s *storage.Store, clock *analyticsTestClock) {
		e := newAnalyticsEnv(t, s, clock, 3)
		base := "/api/v1/assistants/" + e.assistant + "/analytics"
		for _, path := range []string{base, base + "/nodes"} {
			p := e.do(e.tn.builder, http.MethodGet, path+"?from=2025-03-01&to=2025-04-01", nil).problem(http.StatusUnprocessableEntity)
			require.Equal(t, []string{"query.from"}, p.locations())
			require.Equal(t, "the selection has 4 conversations, more than the 3 a report covers; choose a shorter period or one version", p.Detail)
			e.do(e.tn.builder, http.MethodGet, path+"?from=2025-03-01&to=2025-04-01&version=1", nil).ok(http.StatusOK, nil)
		}
	})
}

func ptr[T any](v T) *T { return &v }
