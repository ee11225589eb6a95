package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestNotificationSettingsDefaultSaveAndStayPersonal(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		auth := &bearerAuth{byToken: map[string]Principal{}}
		var (
			mu      sync.Mutex
			changed []storage.AgentSettings
		)
		routes := &NotificationRoutes{Store: s, OnChange: func(st storage.AgentSettings) {
			mu.Lock()
			defer mu.Unlock()
			changed = append(changed, st)
		}}
		env := &routesEnv{t: t, store: s, auth: auth, srv: New(Deps{Config: config.Default(), Store: s, Auth: auth, Services: []Routes{routes}})}
		w, err := s.CreateWorkspace(ctx, "Acme")
		require.NoError(t, err)
		mk := func(email string, role storage.Role) (string, *storage.User) {
			u, err := s.CreateUser(ctx, w.ID, storage.NewUser{Email: email, Role: role})
			require.NoError(t, err)
			return auth.add(Principal{WorkspaceID: w.ID, UserID: u.ID, Email: email, Role: string(role)}), u
		}
		ann, annUser := mk("ann@acme.test", storage.RoleAgent)
		bob, _ := mk("bob@acme.test", storage.RoleAgent)

		var got NotificationSettings
		env.do(ann, http.MethodGet, "/api/v1/me/notifications", nil).ok(http.StatusOK, &got)
		require.Equal(t, NotificationSettings{NotifyNewUnassigned: true, NotifyAssigned: true, NotifyNewMessage: true, NotifyHumanRequest: true}, got,
			"every notification is on until the member changes it")

		body := map[string]bool{"notify_new_unassigned": false, "notify_assigned": true, "notify_new_message": false, "notify_human_request": true}
		env.do(ann, http.MethodPut, "/api/v1/me/notifications", body).ok(http.StatusOK, &got)
		require.False(t, got.NotifyNewUnassigned)
		require.False(t, got.NotifyNewMessage)
		require.True(t, got.NotifyAssigned && got.NotifyHumanRequest)
		require.NotNil(t, got.UpdatedAt)

		var again NotificationSettings
		env.do(ann, http.MethodGet, "/api/v1/me/notifications", nil).ok(http.StatusOK, &again)
		require.Equal(t, got.NotifyNewUnassigned, again.NotifyNewUnassigned)
		require.Equal(t, got.NotifyNewMessage, again.NotifyNewMessage)

		mu.Lock()
		require.Len(t, changed, 1, "open sockets are told")
		require.Equal(t, annUser.ID, changed[0].UserID)
		require.Equal(t, w.ID, changed[0].WorkspaceID)
		require.False(t, changed[0].NotifyNewUnassigned)
		mu.Unlock()

		// Settings are the caller's own: Bob still has the defaults.
		var bobs NotificationSettings
		env.do(bob, http.MethodGet, "/api/v1/me/notifications", nil).ok(http.StatusOK, &bobs)
		require.True(t, bobs.NotifyNewUnassigned && bobs.NotifyNewMessage)
		require.Nil(t, bobs.UpdatedAt)

		// PUT replaces everything: a missing setting is refused, naming it.
		p := env.do(ann, http.MethodPut, "/api/v1/me/notifications", map[string]bool{"notify_assigned": false}).problem(http.StatusUnprocessableEntity)
		var messages []string
		for _, e := range p.Errors {
			messages = append(messages, e.Location+": "+e.Message)
		}
		require.Contains(t, strings.Join(messages, "\n"), "notify_new_unassigned", "the refusal names the missing setting")
		// Unknown members (a user id to write someone else's) are refused.
		p = env.do(ann, http.MethodPut, "/api/v1/me/notifications", map[string]any{
			"notify_new_unassigned": true, "notify_assigned": true, "notify_new_message": true, "notify_human_request": true,
			"user_id": "someone-else"}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, "invalid", p.Code)

		env.do("", http.MethodGet, "/api/v1/me/notifications", nil).problem(http.StatusUnauthorized)
		env.do("", http.MethodPut, "/api/v1/me/notifications", body).problem(http.StatusUnauthorized)
	})
}

func TestNotificationFor(t *testing.T) {
	t.Parallel()
	me := &Principal{WorkspaceID: "ws", UserID: "me", Role: "agent"}
	all := storage.DefaultAgentSettings("ws", "me")
	none := storage.AgentSettings{}
	only := func(f func(*storage.AgentSettings)) storage.AgentSettings {
		s := storage.AgentSettings{}
		f(&s)
		return s
	}
	rule := &engine.Summary{Reason: "rule:human"}
	node := &engine.Summary{Reason: "handover"}
	tests := []struct {
		name     string
		settings storage.AgentSettings
		ev       chat.InboxEvent
		want     string
	}{
		{"a chat enters the queue", all, chat.InboxEvent{Kind: "handover_requested", Status: "unassigned", Summary: node}, NotifyNewUnassigned},
		{"queue without summary", all, chat.InboxEvent{Kind: "handover_requested", Status: "unassigned"}, NotifyNewUnassigned},
		{"queue, setting off", only(func(s *storage.AgentSettings) { s.NotifyHumanRequest = true }), chat.InboxEvent{Kind: "handover_requested", Summary: node}, ""},
		{"the status change of the same commit does not notify twice", all, chat.InboxEvent{Kind: "conversation_updated", Status: "unassigned"}, ""},
		{"a visitor asks for a human", all, chat.InboxEvent{Kind: "handover_requested", Status: "unassigned", Summary: rule}, NotifyAsksForHuman},
		{"asks for a human, that setting off: still a new chat", only(func(s *storage.AgentSettings) { s.NotifyNewUnassigned = true }), chat.InboxEvent{Kind: "handover_requested", Summary: rule}, NotifyNewUnassigned},
		{"asks for a human, both off", none, chat.InboxEvent{Kind: "handover_requested", Summary: rule}, ""},
		{"the loop breaker is not the visitor asking", all, chat.InboxEvent{Kind: "handover_requested", Summary: &engine.Summary{Reason: "loop_breaker"}}, NotifyNewUnassigned},
		{"assigned to me", all, chat.InboxEvent{Kind: "conversation_updated", Status: "assigned", AssigneeID: "me"}, NotifyAssignedToYou},
		{"assigned to me, setting off", only(func(s *storage.AgentSettings) { s.NotifyNewUnassigned = true }), chat.InboxEvent{Kind: "conversation_updated", Status: "assigned", AssigneeID: "me"}, ""},
		{"assigned to someone else", all, chat.InboxEvent{Kind: "conversation_updated", Status: "assigned", AssigneeID: "you"}, ""},
		{"my chat closed", all, chat.InboxEvent{Kind: "conversation_updated", Status: "closed", AssigneeID: "me"}, ""},
		{"a message in my chat", all, chat.InboxEvent{Kind: "visitor_message", Status: "assigned", AssigneeID: "me"}, NotifyNewMessage},
		{"a message in my chat, setting off", only(func(s *storage.AgentSettings) { s.NotifyAssigned = true }), chat.InboxEvent{Kind: "visitor_message", Status: "assigned", AssigneeID: "me"}, ""},
		{"a message in a queued chat", all, chat.InboxEvent{Kind: "visitor_message", Status: "unassigned"}, ""},
		{"a message in someone else's chat", all, chat.InboxEvent{Kind: "visitor_message", Status: "assigned", AssigneeID: "you"}, ""},
		{"a new bot chat", all, chat.InboxEvent{Kind: "conversation_started", Status: "bot"}, ""},
		{"a handover that timed out", all, chat.InboxEvent{Kind: "handover_timed_out", Status: "bot"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, notificationFor(me, &tt.settings, &tt.ev))
		})
	}
}

func TestInboxVisible(t *testing.T) {
	t.Parallel()
	agent := &Principal{WorkspaceID: "ws", UserID: "me", Role: "agent"}
	admin := &Principal{WorkspaceID: "ws", UserID: "boss", Role: "admin"}
	tests := []struct {
		ev           chat.InboxEvent
		agent, admin bool
	}{
		{chat.InboxEvent{Kind: "conversation_started", Status: "bot"}, true, true},
		{chat.InboxEvent{Kind: "handover_requested", Status: "unassigned"}, true, true},
		{chat.InboxEvent{Kind: "conversation_updated", Status: "assigned", AssigneeID: "me"}, true, true},
		{chat.InboxEvent{Kind: "conversation_updated", Status: "assigned", AssigneeID: "you"}, false, true},
		{chat.InboxEvent{Kind: "visitor_message", Status: "assigned", AssigneeID: "you"}, false, true},
		{chat.InboxEvent{Kind: "conversation_updated", Status: "closed", AssigneeID: "you"}, true, true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.agent, inboxVisible(agent, &tt.ev), "%+v", tt.ev)
		require.Equal(t, tt.admin, inboxVisible(admin, &tt.ev), "%+v", tt.ev)
	}
}
