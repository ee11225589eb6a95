package analytics_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/analytics"
	"github.com/frontdesk/frontdesk/storage"
)

// March 2025, [03-01, 03-31): the period of the hand-computed data set.
var (
	periodFrom = march(1, 0, 0, 0)
	periodTo   = march(31, 0, 0, 0)
	march2025  = analytics.Period{From: periodFrom, To: periodTo}
	// reportNow is when the reports are asked for: long after every chat
	// fell silent, so the silent ones count as abandoned.
	reportNow = time.Date(2025, 4, 10, 12, 0, 0, 0, time.UTC)
)

// dataSet is the hand-computed data set: sixteen conversations in March
// (c1-c9 on version 1, c10-c16 on version 2), and conversations that must
// not count: outside the period, preview chats, another assistant, another
// workspace.
type dataSet struct {
	*seed
	v1, v2     *storage.Version
	otherWS    string
	otherAsst  string
	otherWSBot string
}

func seedDataSet(t *testing.T, s *storage.Store, clock *testClock) *dataSet {
	t.Helper()
	sd := newSeed(t, s, clock, "Acme", 2)
	d := &dataSet{seed: sd, v1: sd.versions[0], v2: sd.versions[1]}
	v1, v2 := d.v1, d.v2

	// c1: new; the bot asks twice, the visitor answers, the bot ends.
	// Engaged, resolved by the bot.
	sd.add(convo{version: v1, start: march(3, 10, 0, 0), isNew: true, steps: []step{
		node(0, "greet"), node(sec(1), "ask"), node(sec(30), "ask"), visitor(sec(60)),
		node(sec(61), "end"), {at: sec(61), typ: "conversation_ended", node: "end"},
	}})
	// c2: returning; greeted, never answered: abandoned at greet.
	sd.add(convo{version: v1, start: march(3, 11, 0, 0), steps: []step{node(0, "greet")}})
	// c3: new; handed over, claimed after 60 s (in time), first answer after
	// 90 s; the agent records a deal of 100.50 USD at 200 s; closed.
	sd.add(convo{version: v1, start: march(4, 9, 0, 0), isNew: true, steps: []step{
		node(0, "greet"), visitor(sec(30)), node(sec(31), "handover"), handover(sec(31), "handover"),
		agent(sec(91), "agent_claimed"), agent(sec(121), "agent_message"), visitor(sec(150)),
		lead(sec(200), "deal_created", storage.KindDeal, "100.50", "USD"), closed(sec(300)),
	}})
	// c4: new; handed over, the wait times out, the bot captures a lead
	// (no value) at 161 s and ends.
	sd.add(convo{version: v1, start: march(4, 10, 0, 0), isNew: true, steps: []step{
		node(0, "greet"), visitor(sec(10)), node(sec(11), "handover"), handover(sec(11), "handover"),
		event(sec(131), "handover_timed_out"), node(sec(131), "capture"), visitor(sec(160)),
		lead(sec(161), "lead_captured", storage.KindLead, "", ""), node(sec(162), "end"),
		{at: sec(162), typ: "conversation_ended", node: "end"},
	}})
	// c5: returning; handed over at 6 s, timed out, then an agent takes
	// over at 600 s (claimed, not in time: 594 s) and answers at 660 s
	// (654 s); a deal of 2000 EUR two hours in: not within the hour.
	sd.add(convo{version: v1, start: march(5, 12, 0, 0), steps: []step{
		node(0, "greet"), visitor(sec(5)), node(sec(6), "handover"), handover(sec(6), "handover"),
		event(sec(126), "handover_timed_out"), node(sec(126), "capture"),
		agent(sec(600), "agent_took_over"), agent(sec(660), "agent_message"),
		lead(2*time.Hour, "deal_created", storage.KindDeal, "2000", "EUR"),
	}})
	// c6: new; the visitor answered the last question: not a drop-off.
	sd.add(convo{version: v1, start: march(10, 8, 0, 0), isNew: true, steps: []step{
		node(0, "greet"), node(sec(2), "ask"), visitor(sec(20)),
	}})
	// c7: new; silent at ask: abandoned there.
	sd.add(convo{version: v1, start: march(10, 9, 0, 0), isNew: true, steps: []step{node(0, "greet"), node(sec(1), "ask")}})
	// c8: returning; handed over at 11 s, an admin assigns it from the
	// queue at 41 s (claimed in time, 30 s); nobody writes; a deal of
	// 99.99 USD and a lead with a value (not a deal: not in the deal
	// value); closed.
	sd.add(convo{version: v1, start: march(15, 14, 0, 0), steps: []step{
		node(0, "greet"), visitor(sec(10)), node(sec(11), "handover"), handover(sec(11), "handover"),
		agent(sec(41), "agent_reassigned"),
		lead(sec(100), "deal_created", storage.KindDeal, "99.99", "USD"),
		lead(sec(110), "lead_created", storage.KindLead, "10", "USD"), closed(sec(500)),
	}})
	// c9: new, one second before midnight; closed by an agent with no
	// other action (resolved by the bot); a deal with no value.
	sd.add(convo{version: v1, start: march(28, 23, 59, 59), isNew: true, steps: []step{
		node(0, "greet"), closed(sec(5)), lead(sec(30), "deal_created", storage.KindDeal, "", ""),
	}})

	// c10: new; claimed after 120 s, answered after 180 s, a deal of 300
	// USD, handed back to the bot, which ends.
	sd.add(convo{version: v2, start: march(20, 10, 0, 0), isNew: true, steps: []step{
		node(0, "greet"), visitor(sec(3)), node(sec(4), "handover"), handover(sec(4), "handover"),
		agent(sec(124), "agent_claimed"), agent(sec(184), "agent_message"), visitor(sec(200)),
		lead(sec(250), "deal_created", storage.KindDeal, "300", "USD"),
		agent(sec(300), "handed_back"), node(sec(300), "end"), {at: sec(301), typ: "conversation_ended", node: "end"},
	}})
	// c11: returning; answered and ended by the bot.
	sd.add(convo{version: v2, start: march(20, 11, 0, 0), steps: []step{
		node(0, "greet"), visitor(sec(3)), node(sec(4), "end"), {at: sec(4), typ: "conversation_ended", node: "end"},
	}})
	// c12: new; abandoned at greet.
	sd.add(convo{version: v2, start: march(21, 10, 0, 0), isNew: true, steps: []step{node(0, "greet")}})
	// c13: new; an agent takes over without a handover and writes: not
	// handed over, not resolved by the bot.
	sd.add(convo{version: v2, start: march(21, 12, 0, 0), isNew: true, steps: []step{
		node(0, "greet"), agent(sec(30), "agent_took_over"), agent(sec(40), "agent_message"), closed(sec(100)),
	}})
	// c14: returning; claimed after 180 s, answered after 210 s; a deal of
	// 1000.25 EUR exactly one hour after the start: within the hour.
	sd.add(convo{version: v2, start: march(25, 10, 0, 0), steps: []step{
		node(0, "greet"), visitor(sec(2)), node(sec(3), "handover"), handover(sec(3), "handover"),
		agent(sec(183), "agent_claimed"), agent(sec(213), "agent_message"),
		lead(time.Hour, "deal_created", storage.KindDeal, "1000.25", "EUR"),
	}})
	// c15: new, on the last day; a deal of 12.3456 USD, and a lead three
	// days later, after the period (it counts: the cohort's).
	sd.add(convo{version: v2, start: march(30, 23, 0, 0), isNew: true, steps: []step{
		node(0, "greet"), visitor(sec(1)), lead(sec(10), "deal_created", storage.KindDeal, "12.3456", "USD"),
		lead(72*time.Hour, "lead_created", storage.KindLead, "", ""),
	}})
	// c16: new, exactly at the period's start; abandoned at ask.
	sd.add(convo{version: v2, start: periodFrom, isNew: true, steps: []step{node(0, "greet"), node(sec(1), "ask")}})

	// Not counted. A microsecond before the period, and at its end.
	full := func(v *storage.Version, start time.Time) convo {
		return convo{version: v, start: start, isNew: true, steps: []step{
			node(0, "greet"), visitor(sec(1)), node(sec(2), "handover"), handover(sec(2), "handover"),
			agent(sec(3), "agent_claimed"), agent(sec(4), "agent_message"),
			lead(sec(5), "lead_captured", storage.KindDeal, "5000", "USD"),
		}}
	}
	sd.add(full(v1, periodFrom.Add(-time.Microsecond)))
	sd.add(full(v2, periodTo))
	// Preview chats: one on the draft with flagged events; one pinned to
	// version 1 whose events carry no flag (only the conversation row).
	p1 := full(nil, march(10, 10, 0, 0))
	p1.preview, p1.previewEvents = true, true
	p1.steps = append(p1.steps, node(sec(6), "secret"))
	sd.add(p1)
	p2 := full(v1, march(11, 10, 0, 0))
	p2.preview = true
	p2.steps = append(p2.steps, node(sec(6), "secret"))
	sd.add(p2)
	// Another assistant of the workspace.
	ctx := context.Background()
	other, err := s.CreateAssistant(ctx, sd.ws, storage.NewAssistant{Name: "Other"})
	require.NoError(t, err)
	ov, err := s.PublishVersion(ctx, sd.ws, other.ID, storage.JSON(`{"nodes":[]}`), "")
	require.NoError(t, err)
	d.otherAsst = other.ID
	osd := &seed{t: t, s: s, clock: clock, ws: sd.ws, assistant: other.ID}
	osd.add(full(ov, march(12, 10, 0, 0)))
	// Another workspace.
	wsd := newSeed(t, s, clock, "Globex", 1)
	wsd.add(full(wsd.versions[0], march(12, 10, 0, 0)))
	d.otherWS, d.otherWSBot = wsd.ws, wsd.assistant
	return d
}

// rate is count/of as the report computes it.
func rate(count, of int64) *float64 {
	if of == 0 {
		return nil
	}
	r := float64(count) / float64(of)
	return &r
}

func sh(count, of int64) analytics.Share {
	return analytics.Share{Count: count, Of: of, Rate: rate(count, of)}
}

func f64(v float64) *float64 { return &v }

func intp(v int) *int { return &v }

// marchSeries is the daily series of March 2025 with the given days set.
func marchSeries(days map[int]analytics.SeriesPoint) analytics.Series {
	s := analytics.Series{Granularity: analytics.Daily}
	for day := 1; day <= 30; day++ {
		p := days[day]
		p.Start = march(day, 0, 0, 0)
		s.Points = append(s.Points, p)
	}
	return s
}

func header(assistant string, version *int, n int64) analytics.Header {
	h := analytics.Header{AssistantID: assistant, Version: version, From: periodFrom, To: periodTo, Conversations: n, MinConversations: 15}
	if n < 15 {
		h.NotEnoughData = true
		h.Message = "Not enough data: " + strconv.FormatInt(n, 10) + " conversations in this selection, and figures mean little below 15. They are shown as they are."
	}
	return h
}

func TestReportMatchesTheHandComputedFigures(t *testing.T) {
	t.Parallel()
	eachOnClock(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		d := seedDataSet(t, s, clock)
		svc := &analytics.Service{Store: s, Now: func() time.Time { return reportNow }}
		ctx := context.Background()

		t.Run("all versions", func(t *testing.T) {
			got, err := svc.Report(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, Period: march2025})
			require.NoError(t, err)
			want := &analytics.Report{
				Header:                     header(d.assistant, nil, 16),
				Engaged:                    sh(10, 16),
				ResolvedByBot:              sh(3, 16),
				HandedOver:                 sh(6, 16),
				Claimed:                    sh(5, 6),
				ClaimedInTime:              sh(4, 6),
				MedianTimeToClaimSeconds:   f64(120), // 30, 60, 120, 180, 594
				Responded:                  sh(4, 6),
				MedianFirstResponseSeconds: f64(195), // 90, 180, 210, 654
				OfflineCaptures:            1,
				Leads:                      3,
				Deals:                      7,
				DealValue: []analytics.DealValue{
					{Currency: "EUR", Total: "3000.25", Count: 2, Average: "1500.125"},
					{Currency: "USD", Total: "512.8356", Count: 4, Average: "128.2089"},
				},
				ConvertedWithinHour: sh(7, 16),
				NewVisitors:         sh(11, 16),
				Series: marchSeries(map[int]analytics.SeriesPoint{
					1:  {Conversations: 1},
					3:  {Conversations: 2, Engaged: 1},
					4:  {Conversations: 2, Engaged: 2, HandedOver: 2, Leads: 1, Deals: 1},
					5:  {Conversations: 1, Engaged: 1, HandedOver: 1, Deals: 1},
					10: {Conversations: 2, Engaged: 1},
					15: {Conversations: 1, Engaged: 1, HandedOver: 1, Leads: 1, Deals: 1},
					20: {Conversations: 2, Engaged: 2, HandedOver: 1, Deals: 1},
					21: {Conversations: 2},
					25: {Conversations: 1, Engaged: 1, HandedOver: 1, Deals: 1},
					28: {Conversations: 1, Deals: 1},
					30: {Conversations: 1, Engaged: 1, Leads: 1, Deals: 1},
				}),
			}
			require.Equal(t, want, got)
		})

		t.Run("version 1", func(t *testing.T) {
			got, err := svc.Report(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, VersionID: d.v1.ID, VersionNumber: 1, Period: march2025})
			require.NoError(t, err)
			want := &analytics.Report{
				Header:                     header(d.assistant, intp(1), 9),
				Engaged:                    sh(6, 9),
				ResolvedByBot:              sh(2, 9),
				HandedOver:                 sh(4, 9),
				Claimed:                    sh(3, 4),
				ClaimedInTime:              sh(2, 4),
				MedianTimeToClaimSeconds:   f64(60), // 30, 60, 594
				Responded:                  sh(2, 4),
				MedianFirstResponseSeconds: f64(372), // 90, 654
				OfflineCaptures:            1,
				Leads:                      2,
				Deals:                      4,
				DealValue: []analytics.DealValue{
					{Currency: "EUR", Total: "2000", Count: 1, Average: "2000"},
					{Currency: "USD", Total: "200.49", Count: 2, Average: "100.245"},
				},
				ConvertedWithinHour: sh(4, 9),
				NewVisitors:         sh(6, 9),
				Series: marchSeries(map[int]analytics.SeriesPoint{
					3:  {Conversations: 2, Engaged: 1},
					4:  {Conversations: 2, Engaged: 2, HandedOver: 2, Leads: 1, Deals: 1},
					5:  {Conversations: 1, Engaged: 1, HandedOver: 1, Deals: 1},
					10: {Conversations: 2, Engaged: 1},
					15: {Conversations: 1, Engaged: 1, HandedOver: 1, Leads: 1, Deals: 1},
					28: {Conversations: 1, Deals: 1},
				}),
			}
			require.Equal(t, want, got)
		})

		t.Run("version 2", func(t *testing.T) {
			got, err := svc.Report(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, VersionID: d.v2.ID, VersionNumber: 2, Period: march2025})
			require.NoError(t, err)
			want := &analytics.Report{
				Header:                     header(d.assistant, intp(2), 7),
				Engaged:                    sh(4, 7),
				ResolvedByBot:              sh(1, 7),
				HandedOver:                 sh(2, 7),
				Claimed:                    sh(2, 2),
				ClaimedInTime:              sh(2, 2),
				MedianTimeToClaimSeconds:   f64(150), // 120, 180
				Responded:                  sh(2, 2),
				MedianFirstResponseSeconds: f64(195), // 180, 210
				OfflineCaptures:            0,
				Leads:                      1,
				Deals:                      3,
				DealValue: []analytics.DealValue{
					{Currency: "EUR", Total: "1000.25", Count: 1, Average: "1000.25"},
					{Currency: "USD", Total: "312.3456", Count: 2, Average: "156.1728"},
				},
				ConvertedWithinHour: sh(3, 7),
				NewVisitors:         sh(5, 7),
				Series: marchSeries(map[int]analytics.SeriesPoint{
					1:  {Conversations: 1},
					20: {Conversations: 2, Engaged: 2, HandedOver: 1, Deals: 1},
					21: {Conversations: 2},
					25: {Conversations: 1, Engaged: 1, HandedOver: 1, Deals: 1},
					30: {Conversations: 1, Engaged: 1, Leads: 1, Deals: 1},
				}),
			}
			require.Equal(t, want, got)
		})

		t.Run("nodes, all versions", func(t *testing.T) {
			got, err := svc.Nodes(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, Period: march2025})
			require.NoError(t, err)
			require.Equal(t, &analytics.NodeReport{
				Header: header(d.assistant, nil, 16), AbandonAfterSeconds: 1800, DropOffs: 4,
				Nodes: []analytics.NodeStat{
					{NodeID: "ask", Visits: 5, Conversations: 4, DropOffs: 2, DropOffRate: rate(2, 4)},
					{NodeID: "capture", Visits: 2, Conversations: 2, DropOffRate: rate(0, 2)},
					{NodeID: "end", Visits: 4, Conversations: 4, DropOffRate: rate(0, 4)},
					{NodeID: "greet", Visits: 16, Conversations: 16, DropOffs: 2, DropOffRate: rate(2, 16)},
					{NodeID: "handover", Visits: 6, Conversations: 6, DropOffRate: rate(0, 6)},
				},
			}, got)
		})

		t.Run("nodes per version", func(t *testing.T) {
			got, err := svc.Nodes(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, VersionID: d.v1.ID, VersionNumber: 1, Period: march2025})
			require.NoError(t, err)
			require.Equal(t, &analytics.NodeReport{
				Header: header(d.assistant, intp(1), 9), AbandonAfterSeconds: 1800, DropOffs: 2,
				Nodes: []analytics.NodeStat{
					{NodeID: "ask", Visits: 4, Conversations: 3, DropOffs: 1, DropOffRate: rate(1, 3)},
					{NodeID: "capture", Visits: 2, Conversations: 2, DropOffRate: rate(0, 2)},
					{NodeID: "end", Visits: 2, Conversations: 2, DropOffRate: rate(0, 2)},
					{NodeID: "greet", Visits: 9, Conversations: 9, DropOffs: 1, DropOffRate: rate(1, 9)},
					{NodeID: "handover", Visits: 4, Conversations: 4, DropOffRate: rate(0, 4)},
				},
			}, got)
			got, err = svc.Nodes(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, VersionID: d.v2.ID, VersionNumber: 2, Period: march2025})
			require.NoError(t, err)
			require.Equal(t, &analytics.NodeReport{
				Header: header(d.assistant, intp(2), 7), AbandonAfterSeconds: 1800, DropOffs: 2,
				Nodes: []analytics.NodeStat{
					{NodeID: "ask", Visits: 1, Conversations: 1, DropOffs: 1, DropOffRate: rate(1, 1)},
					{NodeID: "end", Visits: 2, Conversations: 2, DropOffRate: rate(0, 2)},
					{NodeID: "greet", Visits: 7, Conversations: 7, DropOffs: 1, DropOffRate: rate(1, 7)},
					{NodeID: "handover", Visits: 2, Conversations: 2, DropOffRate: rate(0, 2)},
				},
			}, got)
		})

		t.Run("tenancy", func(t *testing.T) {
			// Another workspace's assistant id selects nothing here, and
			// this assistant's selects nothing there.
			for _, c := range []struct{ ws, assistant string }{{d.ws, d.otherWSBot}, {d.otherWS, d.assistant}} {
				got, err := svc.Report(ctx, c.ws, analytics.Selection{AssistantID: c.assistant, Period: march2025})
				require.NoError(t, err)
				require.Zero(t, got.Conversations)
				require.Zero(t, got.Deals)
				require.Empty(t, got.DealValue)
				require.True(t, got.NotEnoughData)
				nodes, err := svc.Nodes(ctx, c.ws, analytics.Selection{AssistantID: c.assistant, Period: march2025})
				require.NoError(t, err)
				require.Empty(t, nodes.Nodes)
			}
			// The other assistant of the workspace has its one chat.
			got, err := svc.Report(ctx, d.ws, analytics.Selection{AssistantID: d.otherAsst, Period: march2025})
			require.NoError(t, err)
			require.EqualValues(t, 1, got.Conversations)
			require.Equal(t, []analytics.DealValue{{Currency: "USD", Total: "5000", Count: 1, Average: "5000"}}, got.DealValue)
			_, err = svc.Report(ctx, "", analytics.Selection{AssistantID: d.assistant, Period: march2025})
			require.ErrorIs(t, err, storage.ErrInvalid, "an empty workspace never widens the query")
		})

		t.Run("weekly over a long period", func(t *testing.T) {
			// 120 days, charted per ISO week; the chats just outside March
			// are inside this period.
			p := analytics.Period{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}
			got, err := svc.Report(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, Period: p})
			require.NoError(t, err)
			require.EqualValues(t, 18, got.Conversations)
			require.Equal(t, analytics.Weekly, got.Series.Granularity)
			require.Len(t, got.Series.Points, 18) // Mondays 2024-12-30 .. 2025-04-28
			require.Equal(t, time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), got.Series.Points[0].Start)
			byWeek := map[string]int64{}
			var sum int64
			for _, pt := range got.Series.Points {
				require.Equal(t, time.Monday, pt.Start.Weekday())
				if pt.Conversations > 0 {
					byWeek[pt.Start.Format("01-02")] = pt.Conversations
				}
				sum += pt.Conversations
			}
			require.EqualValues(t, 18, sum)
			require.Equal(t, map[string]int64{
				"02-24": 2, // the chat before March (Fri 02-28) and c16 (Sat 03-01)
				"03-03": 5, // c1-c5
				"03-10": 3, // c6-c8
				"03-17": 4, // c10-c13
				"03-24": 3, // c14, c9, c15
				"03-31": 1, // the chat at the end of March
			}, byWeek)
		})

		t.Run("bounded", func(t *testing.T) {
			small := &analytics.Service{Store: s, Now: svc.Now, MaxConversations: 15}
			_, err := small.Report(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, Period: march2025})
			var tooLarge *analytics.TooLargeError
			require.True(t, errors.As(err, &tooLarge), "got %v", err)
			require.Equal(t, analytics.TooLargeError{Conversations: 16, Max: 15}, *tooLarge)
			require.EqualError(t, err, "analytics: the selection has 16 conversations, more than the 15 a report covers; choose a shorter period or one version")
			_, err = small.Nodes(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, Period: march2025})
			require.ErrorAs(t, err, &tooLarge)
			_, err = small.Report(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, VersionID: d.v1.ID, Period: march2025})
			require.NoError(t, err, "one version is small enough")

			_, err = svc.Report(ctx, d.ws, analytics.Selection{AssistantID: d.assistant, Period: analytics.Period{From: periodFrom, To: periodFrom.Add(367 * analytics.Day)}})
			var pe *analytics.PeriodError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, "from", pe.Param)
		})
	})
}
