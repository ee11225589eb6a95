package analytics_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/analytics"
	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
)

// The hand-built data set speaks the chat runtime's event vocabulary; this
// test checks that vocabulary against the runtime itself, with two chats on
// the live-chat template: one claimed and answered, one whose handover
// wait times out into an offline capture.
func TestReportOfChatsRunByTheRuntime(t *testing.T) {
	t.Parallel()
	eachOnClock(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		ctx := context.Background()
		start := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
		clock.set(start)
		advance := func(d time.Duration) { clock.set(clock.now().Add(d)) }

		w, err := s.CreateWorkspace(ctx, "Acme")
		require.NoError(t, err)
		u, err := s.CreateUser(ctx, w.ID, storage.NewUser{Email: "agent@acme.test", Name: "Bob", Role: storage.RoleAgent})
		require.NoError(t, err)
		ch, err := s.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Website", AllowedOrigins: []string{"https://shop.example"}})
		require.NoError(t, err)
		a, err := s.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Ava"})
		require.NoError(t, err)
		f, err := playbooks.Template("live-chat")
		require.NoError(t, err)
		graph, err := json.Marshal(f.Graph)
		require.NoError(t, err)
		v, err := s.PublishVersion(ctx, w.ID, a.ID, graph, "")
		require.NoError(t, err)
		require.NoError(t, s.ConnectAssistant(ctx, w.ID, ch.ID, a.ID))
		ch, err = s.GetChannel(ctx, w.ID, ch.ID)
		require.NoError(t, err)
		presence := chat.NewMemoryPresence()
		presence.Set(w.ID, u.ID, chat.Online)
		svc := chat.New(chat.Config{Store: s, Presence: presence, Now: clock.now})

		// Claimed after 40 s, answered 20 s later, closed.
		res, err := svc.Start(ctx, chat.StartInput{Channel: ch, VisitorID: "v1", IsNew: true, Locale: "en"})
		require.NoError(t, err)
		claimed := res.Conversation.ID
		require.Equal(t, storage.StatusUnassigned, res.Conversation.Status, "the template hands over at once")
		advance(40 * time.Second)
		bob := engine.Agent{ID: u.ID, Name: "Bob"}
		_, err = svc.Claim(ctx, w.ID, claimed, bob)
		require.NoError(t, err)
		advance(20 * time.Second)
		_, err = svc.AgentMessage(ctx, w.ID, claimed, bob, "m1", "Hello, I'm Bob.")
		require.NoError(t, err)
		advance(time.Minute)
		_, err = svc.Close(ctx, w.ID, claimed, u.ID)
		require.NoError(t, err)

		// A returning visitor; nobody claims, the wait times out, the bot
		// captures the visitor's details.
		advance(time.Hour)
		res, err = svc.Start(ctx, chat.StartInput{Channel: ch, VisitorID: "v2", Locale: "en"})
		require.NoError(t, err)
		captured := res.Conversation.ID
		advance(10 * time.Minute)
		require.Equal(t, 1, svc.FireDueTimers(ctx))
		for i, in := range []string{"Jane Doe", "jane@example.com", "Call me back please"} {
			advance(10 * time.Second)
			_, err = svc.VisitorMessage(ctx, w.ID, captured, "m"+string(rune('0'+i)), in)
			require.NoError(t, err)
		}
		leads, err := s.ListLeads(ctx, w.ID, storage.LeadFilter{ConversationID: captured})
		require.NoError(t, err)
		require.Len(t, leads, 1)

		an := &analytics.Service{Store: s, Now: func() time.Time { return start.Add(30 * 24 * time.Hour) }}
		sel := analytics.Selection{AssistantID: a.ID, VersionID: v.ID, VersionNumber: 1, Period: march2025}
		r, err := an.Report(ctx, w.ID, sel)
		require.NoError(t, err)
		require.EqualValues(t, 2, r.Conversations)
		require.Equal(t, sh(1, 2), r.Engaged, "only the second visitor wrote")
		require.Equal(t, sh(0, 2), r.ResolvedByBot, "both were handed over")
		require.Equal(t, sh(2, 2), r.HandedOver)
		require.Equal(t, sh(1, 2), r.Claimed)
		require.Equal(t, sh(1, 2), r.ClaimedInTime)
		require.Equal(t, f64(40), r.MedianTimeToClaimSeconds)
		require.Equal(t, sh(1, 2), r.Responded)
		require.Equal(t, f64(60), r.MedianFirstResponseSeconds)
		require.EqualValues(t, 1, r.OfflineCaptures)
		require.EqualValues(t, 1, r.Leads+r.Deals)
		require.Equal(t, sh(1, 2), r.ConvertedWithinHour)
		require.Equal(t, sh(1, 2), r.NewVisitors)

		n, err := an.Nodes(ctx, w.ID, sel)
		require.NoError(t, err)
		require.NotEmpty(t, n.Nodes)
		nodeIDs := map[string]bool{}
		for _, nd := range f.Graph.Nodes {
			nodeIDs[nd.ID] = true
		}
		for _, st := range n.Nodes {
			require.True(t, nodeIDs[st.NodeID], "node %q is in the graph", st.NodeID)
			require.Positive(t, st.Visits)
		}
	})
}
