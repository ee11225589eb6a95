package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/analytics"
	"github.com/frontdesk/frontdesk/storage"
)

// A small graph, start → q1 → q2 → end, with a handover node beside it:
// visits count every entry, and a conversation is a drop-off at its last
// node only once nobody has done anything for AbandonAfter.
func TestNodeVisitsAndDropOffOnASmallGraph(t *testing.T) {
	t.Parallel()
	eachOnClock(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		sd := newSeed(t, s, clock, "Small", 1)
		v := sd.versions[0]
		day := march(12, 9, 0, 0)
		chats := map[string]convo{
			// a: silent at q1.
			"a": {steps: []step{node(0, "start"), node(sec(1), "q1")}},
			// b: answered q1, silent at q2.
			"b": {steps: []step{node(0, "start"), node(sec(1), "q1"), visitor(sec(5)), node(sec(6), "q2")}},
			// c: to the end.
			"c": {steps: []step{node(0, "start"), node(sec(1), "q1"), visitor(sec(5)), node(sec(6), "q2"), visitor(sec(9)),
				node(sec(10), "end"), {at: sec(10), typ: "conversation_ended", node: "end"}}},
			// d: a wrong answer, q1 asked again, then silence: two visits,
			// one conversation, one drop-off.
			"d": {steps: []step{node(0, "start"), node(sec(1), "q1"), visitor(sec(5)), node(sec(6), "q1")}},
			// f: the visitor answered and the bot said nothing more: the
			// visitor did not leave at q1.
			"f": {steps: []step{node(0, "start"), node(sec(1), "q1"), visitor(sec(5))}},
			// g: handed over and claimed: with an agent, not abandoned.
			"g": {steps: []step{node(0, "start"), node(sec(1), "handover"), handover(sec(1), "handover"), agent(sec(30), "agent_claimed")}},
			// h: closed by an agent at q1.
			"h": {steps: []step{node(0, "start"), node(sec(1), "q1"), closed(sec(60))}},
		}
		for name, c := range chats {
			c.version, c.start = v, day
			if name == "h" {
				c.start = day.Add(time.Minute)
			}
			sd.add(c)
		}
		// e: silent at q1 since 10:00; asked about at 10:10 it is still in
		// progress, at 10:30 abandoned.
		recent := march(12, 10, 0, 0)
		sd.add(convo{version: v, start: recent.Add(-sec(1)), steps: []step{node(0, "start"), node(sec(1), "q1")}})

		sel := analytics.Selection{AssistantID: sd.assistant, Period: march2025}
		nodesAt := func(now time.Time) *analytics.NodeReport {
			svc := &analytics.Service{Store: s, Now: func() time.Time { return now }}
			r, err := svc.Nodes(context.Background(), sd.ws, sel)
			require.NoError(t, err)
			return r
		}
		want := func(q1Drops int64) *analytics.NodeReport {
			return &analytics.NodeReport{
				Header: analytics.Header{AssistantID: sd.assistant, From: periodFrom, To: periodTo, Conversations: 8,
					NotEnoughData: true, MinConversations: 15,
					Message: "Not enough data: 8 conversations in this selection, and figures mean little below 15. They are shown as they are."},
				AbandonAfterSeconds: 1800,
				DropOffs:            q1Drops + 1,
				Nodes: []analytics.NodeStat{
					{NodeID: "end", Visits: 1, Conversations: 1, DropOffRate: rate(0, 1)},
					{NodeID: "handover", Visits: 1, Conversations: 1, DropOffRate: rate(0, 1)},
					{NodeID: "q1", Visits: 8, Conversations: 7, DropOffs: q1Drops, DropOffRate: rate(q1Drops, 7)},
					{NodeID: "q2", Visits: 2, Conversations: 2, DropOffs: 1, DropOffRate: rate(1, 2)},
					{NodeID: "start", Visits: 8, Conversations: 8, DropOffRate: rate(0, 8)},
				},
			}
		}
		require.Equal(t, want(2), nodesAt(recent.Add(10*time.Minute)), "a and d; e is in progress")
		require.Equal(t, want(2), nodesAt(recent.Add(analytics.AbandonAfter-time.Microsecond)))
		require.Equal(t, want(3), nodesAt(recent.Add(analytics.AbandonAfter)), "a, d and e")
	})
}

// The "not enough data" flag turns off at the fifteenth conversation.
func TestNotEnoughDataBelowFifteenConversations(t *testing.T) {
	t.Parallel()
	eachOnClock(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		sd := newSeed(t, s, clock, "Few", 1)
		svc := &analytics.Service{Store: s, Now: func() time.Time { return reportNow }}
		sel := analytics.Selection{AssistantID: sd.assistant, Period: march2025}
		for i := range 14 {
			sd.add(convo{version: sd.versions[0], start: march(2+i, 12, 0, 0), steps: []step{node(0, "greet"), visitor(sec(3))}})
		}
		// A preview chat and one after the period do not make the count.
		sd.add(convo{version: sd.versions[0], start: march(20, 12, 0, 0), preview: true, previewEvents: true})
		sd.add(convo{version: sd.versions[0], start: periodTo})

		r, err := svc.Report(context.Background(), sd.ws, sel)
		require.NoError(t, err)
		require.EqualValues(t, 14, r.Conversations)
		require.True(t, r.NotEnoughData)
		require.Equal(t, "Not enough data: 14 conversations in this selection, and figures mean little below 15. They are shown as they are.", r.Message)
		require.Equal(t, sh(14, 14), r.Engaged, "the figures are still given")
		n, err := svc.Nodes(context.Background(), sd.ws, sel)
		require.NoError(t, err)
		require.True(t, n.NotEnoughData)
		require.Equal(t, r.Message, n.Message)

		sd.add(convo{version: sd.versions[0], start: march(30, 12, 0, 0)})
		r, err = svc.Report(context.Background(), sd.ws, sel)
		require.NoError(t, err)
		require.EqualValues(t, 15, r.Conversations)
		require.False(t, r.NotEnoughData)
		require.Empty(t, r.Message)
		require.Equal(t, sh(14, 15), r.Engaged)
		n, err = svc.Nodes(context.Background(), sd.ws, sel)
		require.NoError(t, err)
		require.False(t, n.NotEnoughData)
	})
}
