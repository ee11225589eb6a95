package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/storage"
)

// Notification kinds: what the agent socket's notification frames say.
const (
	// NotifyNewUnassigned: a chat entered the Unassigned queue.
	NotifyNewUnassigned = "new_unassigned"
	// NotifyAssignedToYou: a chat was assigned to the caller.
	NotifyAssignedToYou = "assigned_to_you"
	// NotifyNewMessage: the visitor wrote in a chat the caller has.
	NotifyNewMessage = "new_message"
	// NotifyAsksForHuman: a visitor asked for a human (a global rule sent
	// the chat to the queue).
	NotifyAsksForHuman = "asks_for_human"
)

// Inbox event kinds, as chat publishes them on chat.InboxTopic.
const (
	inboxConversationUpdated = "conversation_updated"
	inboxHandoverRequested   = "handover_requested"
	inboxVisitorMessage      = "visitor_message"
)

// NotificationRoutes read and save the caller's notification settings.
type NotificationRoutes struct {
	Store *storage.Store
	// OnChange, when set, is told of every saved setting, so that the
	// caller's open agent sockets on this node apply it at once
	// (AgentSockets.SettingsChanged). Sockets on other nodes reload their
	// settings within AgentSockets.SettingsTTL.
	OnChange func(s storage.AgentSettings)
}

var _ Routes = (*NotificationRoutes)(nil)

// NotificationSettings are one member's notification settings. Each says
// whether the agent socket turns that kind of inbox change into a
// notification frame (and so a browser notification in the console).
type NotificationSettings struct {
	NotifyNewUnassigned bool       `json:"notify_new_unassigned" doc:"A chat entered the Unassigned queue (new_unassigned)."`
	NotifyAssigned      bool       `json:"notify_assigned" doc:"A chat was assigned to you (assigned_to_you)."`
	NotifyNewMessage    bool       `json:"notify_new_message" doc:"The visitor wrote in a chat you have (new_message)."`
	NotifyHumanRequest  bool       `json:"notify_human_request" doc:"A visitor asked for a human (asks_for_human)."`
	UpdatedAt           *time.Time `json:"updated_at,omitempty" readOnly:"true" doc:"When you last saved them; absent while you have the defaults."`
}

type notificationSettingsOutput struct {
	Body NotificationSettings
}

type notificationSettingsInput struct {
	Body struct {
		NotifyNewUnassigned bool `json:"notify_new_unassigned" doc:"A chat entered the Unassigned queue."`
		NotifyAssigned      bool `json:"notify_assigned" doc:"A chat was assigned to you."`
		NotifyNewMessage    bool `json:"notify_new_message" doc:"The visitor wrote in a chat you have."`
		NotifyHumanRequest  bool `json:"notify_human_request" doc:"A visitor asked for a human."`
	}
}

// Register implements Routes.
func (r *NotificationRoutes) Register(api huma.API) {
	op := Operation("getNotificationSettings", http.MethodGet, "/api/v1/me/notifications", "Get my notification settings", AccessAgent, "notifications")
	op.Description = "Which inbox changes the agent socket (GET /api/v1/agent/ws) notifies you of. Every notification is on until you change it."
	huma.Register(api, op, r.get)
	op = Operation("putNotificationSettings", http.MethodPut, "/api/v1/me/notifications", "Save my notification settings", AccessAgent, "notifications")
	op.Description = "Replaces every setting at once. Your open agent sockets apply them at once on this node, and within 30 seconds on the others."
	op.Errors = append(op.Errors, http.StatusUnprocessableEntity)
	op.MaxBodyBytes = 1 << 10
	huma.Register(api, op, r.put)
}

func settingsBody(s *storage.AgentSettings) NotificationSettings {
	out := NotificationSettings{NotifyNewUnassigned: s.NotifyNewUnassigned, NotifyAssigned: s.NotifyAssigned,
		NotifyNewMessage: s.NotifyNewMessage, NotifyHumanRequest: s.NotifyHumanRequest}
	if !s.UpdatedAt.IsZero() {
		at := s.UpdatedAt
		out.UpdatedAt = &at
	}
	return out
}

func (r *NotificationRoutes) get(ctx context.Context, _ *struct{}) (*notificationSettingsOutput, error) {
	p := PrincipalFrom(ctx)
	s, err := r.Store.GetAgentSettings(ctx, p.WorkspaceID, p.UserID)
	if err != nil {
		return nil, storeError(err, "member")
	}
	return &notificationSettingsOutput{Body: settingsBody(s)}, nil
}

func (r *NotificationRoutes) put(ctx context.Context, in *notificationSettingsInput) (*notificationSettingsOutput, error) {
	p := PrincipalFrom(ctx)
	s, err := r.Store.SaveAgentSettings(ctx, p.WorkspaceID, p.UserID, storage.AgentSettingsFields{
		NotifyNewUnassigned: in.Body.NotifyNewUnassigned, NotifyAssigned: in.Body.NotifyAssigned,
		NotifyNewMessage: in.Body.NotifyNewMessage, NotifyHumanRequest: in.Body.NotifyHumanRequest,
	})
	if err != nil {
		return nil, storeError(err, "member")
	}
	if r.OnChange != nil {
		r.OnChange(*s)
	}
	return &notificationSettingsOutput{Body: settingsBody(s)}, nil
}

// inboxVisible reports whether an inbox event may reach p: admins get every
// event; an agent gets those of the queue, the bot's chats, their own and
// closed ones, never those of a chat another agent has. It is CanSee for
// the event's view of the conversation; preview chats are the caller's
// business (AgentSockets looks them up).
func inboxVisible(p *Principal, ev *chat.InboxEvent) bool {
	if p.IsAdmin() {
		return true
	}
	return ev.AssigneeID == "" || ev.AssigneeID == p.UserID || ev.Status == string(storage.StatusClosed)
}

// notificationFor returns the notification an inbox event makes for p
// under settings s, or "" for none. The caller has checked that p may see
// the event. One event makes at most one notification, the most specific
// one the settings allow: a visitor asking for a human is asks_for_human
// rather than new_unassigned, unless the agent turned asks_for_human off.
//
// Every way into the queue (a handover node, a global rule, the loop
// breaker, an agent putting a chat back) emits handover_requested, so that
// kind alone makes new_unassigned; the conversation_updated that comes with
// it in the same commit does not notify twice.
//
// assigned_to_you is sent for every assignment to p, including p's own
// claim or take over made from another tab or over REST: the event does
// not say who acted. The console knows the chats it just claimed and does
// not show those as browser notifications.
func notificationFor(p *Principal, s *storage.AgentSettings, ev *chat.InboxEvent) string {
	switch ev.Kind {
	case inboxHandoverRequested:
		if ev.Summary != nil && strings.HasPrefix(ev.Summary.Reason, "rule:") && s.NotifyHumanRequest {
			return NotifyAsksForHuman
		}
		if s.NotifyNewUnassigned {
			return NotifyNewUnassigned
		}
	case inboxConversationUpdated:
		if ev.Status == string(storage.StatusAssigned) && ev.AssigneeID == p.UserID && s.NotifyAssigned {
			return NotifyAssignedToYou
		}
	case inboxVisitorMessage:
		if ev.AssigneeID == p.UserID && s.NotifyNewMessage {
			return NotifyNewMessage
		}
	}
	return ""
}
