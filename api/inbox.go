package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// InboxRoutes are the agents' live chat operations: the folders with their
// counts, claim, take over, reassign, hand back, close, messages, typing,
// the handover summary, and presence.
type InboxRoutes struct {
	Store    *storage.Store
	Chat     *chat.Service
	Presence chat.PresenceTable
}

var _ Routes = (*InboxRoutes)(nil)

// Inbox folders.
const (
	FolderUnassigned = "unassigned"
	FolderMine       = "mine"
	FolderBot        = "bot"
	FolderAll        = "all"
	FolderClosed     = "closed"
)

// folderFilter turns a folder into a filter for p; All is for admins.
func folderFilter(p *Principal, folder string) (storage.ConversationFilter, error) {
	f := storage.ConversationFilter{}
	if !p.IsAdmin() {
		f.VisibleTo = p.UserID
	}
	switch folder {
	case FolderUnassigned:
		f.Statuses, f.Sort = []storage.ConversationStatus{storage.StatusUnassigned}, storage.SortOldest
	case FolderMine:
		f.Statuses, f.AssigneeID, f.Sort = []storage.ConversationStatus{storage.StatusAssigned}, p.UserID, storage.SortRecentActivity
	case FolderBot:
		f.Statuses, f.Sort = []storage.ConversationStatus{storage.StatusBot}, storage.SortRecentActivity
	case FolderClosed:
		f.Statuses, f.Sort = []storage.ConversationStatus{storage.StatusClosed}, storage.SortRecentActivity
	case FolderAll:
		if !p.IsAdmin() {
			return f, problem(http.StatusForbidden, "forbidden", "the All folder is for admins")
		}
		f.Sort = storage.SortRecentActivity
	default:
		return f, invalid("unknown folder", fieldError("query.folder", "want unassigned, mine, bot, all or closed", folder))
	}
	return f, nil
}

// InboxConversation is a conversation as the inbox lists it.
type InboxConversation struct {
	ID          string     `json:"id"`
	Status      string     `json:"status" enum:"bot,unassigned,assigned,closed"`
	AssigneeID  string     `json:"assignee_id,omitempty"`
	ChannelID   string     `json:"channel_id,omitempty"`
	AssistantID string     `json:"assistant_id,omitempty"`
	VisitorID   string     `json:"visitor_id"`
	Language    string     `json:"language,omitempty"`
	LastSeq     int64      `json:"last_seq"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty" doc:"When the conversation was closed."`
}

func inboxConversation(c *storage.Conversation) InboxConversation {
	return InboxConversation{ID: c.ID, Status: string(c.Status), AssigneeID: c.AssigneeID, ChannelID: c.ChannelID,
		AssistantID: c.AssistantID, VisitorID: c.VisitorID, Language: c.Language, LastSeq: c.LastSeq,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt}
}

type inboxInput struct {
	Folder string `query:"folder" required:"true" enum:"unassigned,mine,bot,all,closed" doc:"The folder to list."`
	Limit  int    `query:"limit" minimum:"0" maximum:"100" doc:"Page size; 0 means 50."`
	Offset int    `query:"offset" minimum:"0" maximum:"10000" doc:"Rows to skip."`
}

type inboxOutput struct {
	Body struct {
		Folder        string              `json:"folder"`
		Conversations []InboxConversation `json:"conversations"`
		Counts        FolderCounts        `json:"counts"`
	}
}

// FolderCounts are the number of conversations in each folder the caller
// may see; All is only counted for admins.
type FolderCounts struct {
	Unassigned int64  `json:"unassigned"`
	Mine       int64  `json:"mine"`
	Bot        int64  `json:"bot"`
	Closed     int64  `json:"closed"`
	All        *int64 `json:"all,omitempty"`
}

type countsOutput struct {
	Body FolderCounts
}

type idInput struct {
	ID string `path:"id" maxLength:"64" doc:"The conversation id."`
}

type inboxConversationOutput struct {
	Body InboxConversation
}

type reassignInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		AssigneeID *string `json:"assignee_id" maxLength:"64" doc:"The agent to give the chat to; null puts it back in the Unassigned queue."`
	}
}

type handBackInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Node string `json:"node,omitempty" maxLength:"64" doc:"The node the bot resumes at; empty follows the handover's claimed port."`
	}
}

type agentMessageInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		ClientID string `json:"client_id,omitempty" maxLength:"64" pattern:"^[A-Za-z0-9_-]*$" doc:"Makes retries idempotent."`
		Text     string `json:"text" minLength:"1" maxLength:"4000"`
	}
}

type messageOutput struct {
	Body struct {
		Seq       int64 `json:"seq"`
		Duplicate bool  `json:"duplicate"`
	}
}

type typingInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		On bool `json:"on"`
	}
}

type summaryOutput struct {
	Body struct {
		Summary *engine.Summary `json:"summary,omitempty" doc:"The latest handover summary, if the chat was handed over."`
		At      *time.Time      `json:"at,omitempty"`
		Written string          `json:"written,omitempty" doc:"The summary the language model wrote, when one is configured."`
	}
}

type presenceInput struct {
	Body struct {
		Status string `json:"status" enum:"online,away,offline"`
	}
}

type presenceOutput struct {
	Body struct {
		Status string            `json:"status"`
		Team   map[string]string `json:"team,omitempty" doc:"Every member's status by user id."`
	}
}

// Register adds the operations to api.
func (r *InboxRoutes) Register(api huma.API) {
	op := Operation("listInbox", http.MethodGet, "/api/v1/inbox", "List an inbox folder", AccessAgent, "inbox")
	op.Description = "Lists a folder (Unassigned oldest first, the others by recent activity) with every folder's count. Agents never see chats assigned to another agent."
	huma.Register(api, op, r.list)
	huma.Register(api, Operation("inboxCounts", http.MethodGet, "/api/v1/inbox/counts", "Count the inbox folders", AccessAgent, "inbox"), r.counts)

	action := func(id, path, summary string) huma.Operation {
		op := Operation(id, http.MethodPost, path, summary, AccessAgent, "inbox")
		op.Errors = append(op.Errors, http.StatusNotFound, http.StatusConflict)
		op.MaxBodyBytes = 16 << 10
		return op
	}
	op = action("claimConversation", "/api/v1/conversations/{id}/claim", "Assign a queued chat to me")
	op.Description = "Atomic: of concurrent claims one wins and the others get 409. Claiming during the handover wait cancels its timer; the visitor is told the agent joined."
	huma.Register(api, op, r.claim)
	op = action("takeOverConversation", "/api/v1/conversations/{id}/takeover", "Take over a chat from the bot")
	huma.Register(api, op, r.takeOver)
	op = action("reassignConversation", "/api/v1/conversations/{id}/reassign", "Give a chat to another agent, or back to the queue")
	huma.Register(api, op, r.reassign)
	op = action("handBackConversation", "/api/v1/conversations/{id}/handback", "Hand a chat back to the bot")
	huma.Register(api, op, r.handBack)
	op = action("closeConversation", "/api/v1/conversations/{id}/close", "Close a chat for good")
	op.Description = "A closed chat cannot be reopened; its data can still be edited and leads created from it."
	huma.Register(api, op, r.close)
	op = action("sendAgentMessage", "/api/v1/conversations/{id}/messages", "Send a message to the visitor")
	huma.Register(api, op, r.message)
	op = action("sendAgentTyping", "/api/v1/conversations/{id}/typing", "Show or hide the agent's typing indicator")
	huma.Register(api, op, r.typing)

	op = Operation("getHandoverSummary", http.MethodGet, "/api/v1/conversations/{id}/summary", "Get the handover summary", AccessAgent, "inbox")
	op.Errors = append(op.Errors, http.StatusNotFound)
	huma.Register(api, op, r.summary)

	huma.Register(api, Operation("getPresence", http.MethodGet, "/api/v1/presence", "Get my presence and the team's", AccessAgent, "presence"), r.getPresence)
	op = Operation("setPresence", http.MethodPut, "/api/v1/presence", "Set my presence", AccessAgent, "presence")
	op.Description = "online, away or offline. Only online agents count for handovers: with none online, the handover node takes its offline path at once."
	op.MaxBodyBytes = 1 << 10
	huma.Register(api, op, r.setPresence)
}

func (r *InboxRoutes) list(ctx context.Context, in *inboxInput) (*inboxOutput, error) {
	p := PrincipalFrom(ctx)
	f, err := folderFilter(p, in.Folder)
	if err != nil {
		return nil, err
	}
	f.Limit, f.Offset = in.Limit, in.Offset
	convs, err := r.Store.ListConversations(ctx, p.WorkspaceID, f)
	if err != nil {
		return nil, storeError(err, "conversations")
	}
	counts, err := r.countFolders(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &inboxOutput{}
	out.Body.Folder = in.Folder
	out.Body.Counts = counts
	out.Body.Conversations = make([]InboxConversation, 0, len(convs))
	for i := range convs {
		out.Body.Conversations = append(out.Body.Conversations, inboxConversation(&convs[i]))
	}
	return out, nil
}

func (r *InboxRoutes) counts(ctx context.Context, _ *struct{}) (*countsOutput, error) {
	c, err := r.countFolders(ctx, PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return &countsOutput{Body: c}, nil
}

func (r *InboxRoutes) countFolders(ctx context.Context, p *Principal) (FolderCounts, error) {
	var c FolderCounts
	folders := map[string]*int64{FolderUnassigned: &c.Unassigned, FolderMine: &c.Mine, FolderBot: &c.Bot, FolderClosed: &c.Closed}
	if p.IsAdmin() {
		c.All = new(int64)
		folders[FolderAll] = c.All
	}
	for folder, dst := range folders {
		f, err := folderFilter(p, folder)
		if err != nil {
			return c, err
		}
		n, err := r.Store.CountConversations(ctx, p.WorkspaceID, f)
		if err != nil {
			return c, storeError(err, "conversations")
		}
		*dst = n
	}
	return c, nil
}

// visible loads a conversation the caller may see, or answers 404.
func (r *InboxRoutes) visible(ctx context.Context, id string) (*Principal, *storage.Conversation, error) {
	p := PrincipalFrom(ctx)
	c, err := r.Store.GetConversation(ctx, p.WorkspaceID, id)
	if err != nil {
		return nil, nil, storeError(err, "conversation")
	}
	if !CanSee(p, c) {
		return nil, nil, notFound("conversation")
	}
	return p, c, nil
}

func agentOf(p *Principal) engine.Agent {
	name := p.Name
	if name == "" {
		name = p.Email
	}
	return engine.Agent{ID: p.UserID, Name: name}
}

// chatError maps the runtime's errors to problems.
func chatError(err error) error {
	switch {
	case errors.Is(err, chat.ErrClosed):
		return problem(http.StatusConflict, "conversation_closed", "the conversation is closed")
	case errors.Is(err, chat.ErrNotInQueue):
		return problem(http.StatusConflict, "already_claimed", "the conversation is not waiting in the queue: someone claimed it first")
	case errors.Is(err, chat.ErrNotYours):
		return problem(http.StatusConflict, "not_assigned_to_you", "the conversation is not assigned to you")
	case errors.Is(err, chat.ErrShuttingDown):
		return problem(http.StatusServiceUnavailable, "unavailable", "the server is shutting down; retry")
	}
	return storeError(err, "conversation")
}

func done(res *chat.Result, err error) (*inboxConversationOutput, error) {
	if err != nil {
		return nil, chatError(err)
	}
	return &inboxConversationOutput{Body: inboxConversation(res.Conversation)}, nil
}

func (r *InboxRoutes) claim(ctx context.Context, in *idInput) (*inboxConversationOutput, error) {
	p := PrincipalFrom(ctx)
	c, err := r.Store.GetConversation(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "conversation")
	}
	if !CanSee(p, c) && c.Status != storage.StatusAssigned {
		return nil, notFound("conversation")
	}
	// A claim that lost the race finds the chat assigned to the winner:
	// the loser saw it in the queue, so it is told it was claimed (409)
	// rather than that it does not exist.
	return done(r.Chat.Claim(ctx, p.WorkspaceID, c.ID, agentOf(p)))
}

func (r *InboxRoutes) takeOver(ctx context.Context, in *idInput) (*inboxConversationOutput, error) {
	p, c, err := r.visible(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return done(r.Chat.TakeOver(ctx, p.WorkspaceID, c.ID, agentOf(p)))
}

// mayManage reports whether p may act on a chat someone has: its assignee,
// or an admin.
func mayManage(p *Principal, c *storage.Conversation) bool {
	return p.IsAdmin() || c.AssigneeID == p.UserID
}

func (r *InboxRoutes) reassign(ctx context.Context, in *reassignInput) (*inboxConversationOutput, error) {
	p, c, err := r.visible(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if c.AssigneeID != "" && !mayManage(p, c) {
		return nil, notFound("conversation")
	}
	if in.Body.AssigneeID == nil || *in.Body.AssigneeID == "" {
		return done(r.Chat.Reassign(ctx, p.WorkspaceID, c.ID, nil))
	}
	u, err := r.Store.GetUser(ctx, p.WorkspaceID, *in.Body.AssigneeID)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, invalid("no such member", fieldError("body.assignee_id", "no member of this workspace has this id", *in.Body.AssigneeID))
		}
		return nil, storeError(err, "member")
	}
	if !u.Active() {
		return nil, invalid("member is deactivated", fieldError("body.assignee_id", "this member is deactivated; reactivate them or pick another", *in.Body.AssigneeID))
	}
	name := u.Name
	if name == "" {
		name = u.Email
	}
	return done(r.Chat.Reassign(ctx, p.WorkspaceID, c.ID, &engine.Agent{ID: u.ID, Name: name}))
}

func (r *InboxRoutes) handBack(ctx context.Context, in *handBackInput) (*inboxConversationOutput, error) {
	p, c, err := r.visible(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if !mayManage(p, c) {
		return nil, problem(http.StatusConflict, "not_assigned_to_you", "only the agent who has the chat (or an admin) can hand it back")
	}
	res, err := r.Chat.HandBack(ctx, p.WorkspaceID, c.ID, in.Body.Node)
	if errors.Is(err, storage.ErrInvalid) {
		return nil, invalid("no such node", fieldError("body.node", "the conversation's version has no node with this id", in.Body.Node))
	}
	return done(res, err)
}

func (r *InboxRoutes) close(ctx context.Context, in *idInput) (*inboxConversationOutput, error) {
	p, c, err := r.visible(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if c.AssigneeID != "" && !mayManage(p, c) {
		return nil, notFound("conversation")
	}
	return done(r.Chat.Close(ctx, p.WorkspaceID, c.ID, p.UserID))
}

func (r *InboxRoutes) message(ctx context.Context, in *agentMessageInput) (*messageOutput, error) {
	p, c, err := r.visible(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if err := chat.CheckText(in.Body.Text); err != nil {
		return nil, invalid("bad text", fieldError("body.text", err.Error(), nil))
	}
	res, err := r.Chat.AgentMessage(ctx, p.WorkspaceID, c.ID, agentOf(p), in.Body.ClientID, in.Body.Text)
	if err != nil {
		return nil, chatError(err)
	}
	out := &messageOutput{}
	out.Body.Seq, out.Body.Duplicate = res.Stored.Seq, res.Duplicate
	return out, nil
}

func (r *InboxRoutes) typing(ctx context.Context, in *typingInput) (*struct{}, error) {
	p, c, err := r.visible(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if c.AssigneeID != p.UserID {
		return nil, problem(http.StatusConflict, "not_assigned_to_you", "the conversation is not assigned to you")
	}
	if err := r.Chat.Typing(ctx, p.WorkspaceID, c.ID, "agent", agentOf(p).Name, in.Body.On); err != nil {
		return nil, problem(http.StatusServiceUnavailable, "unavailable", "could not relay the typing indicator")
	}
	return nil, nil
}

func (r *InboxRoutes) summary(ctx context.Context, in *idInput) (*summaryOutput, error) {
	p, c, err := r.visible(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	events, err := r.Store.ListEvents(ctx, p.WorkspaceID, storage.EventFilter{ConversationID: c.ID, Type: "handover_requested", IncludePreview: true, Limit: 500})
	if err != nil {
		return nil, storeError(err, "conversation")
	}
	out := &summaryOutput{}
	if written, err := r.Store.ListEvents(ctx, p.WorkspaceID, storage.EventFilter{ConversationID: c.ID, Type: "handover_summary_written", IncludePreview: true, Limit: 500}); err == nil && len(written) > 0 {
		var w struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(written[len(written)-1].Data, &w) == nil {
			out.Body.Written = w.Text
		}
	}
	if len(events) > 0 {
		last := events[len(events)-1]
		var s engine.Summary
		if json.Unmarshal(last.Data, &s) == nil {
			out.Body.Summary = &s
			at := last.CreatedAt
			out.Body.At = &at
		}
	}
	return out, nil
}

func (r *InboxRoutes) getPresence(ctx context.Context, _ *struct{}) (*presenceOutput, error) {
	p := PrincipalFrom(ctx)
	out := &presenceOutput{}
	out.Body.Status = string(r.Presence.Status(p.WorkspaceID, p.UserID))
	users, err := r.Store.ListUsers(ctx, p.WorkspaceID, 500)
	if err != nil {
		return nil, storeError(err, "members")
	}
	out.Body.Team = map[string]string{}
	for _, u := range users {
		out.Body.Team[u.ID] = string(r.Presence.Status(p.WorkspaceID, u.ID))
	}
	return out, nil
}

func (r *InboxRoutes) setPresence(ctx context.Context, in *presenceInput) (*presenceOutput, error) {
	p := PrincipalFrom(ctx)
	r.Presence.Set(p.WorkspaceID, p.UserID, chat.PresenceStatus(in.Body.Status))
	out := &presenceOutput{}
	out.Body.Status = in.Body.Status
	return out, nil
}
