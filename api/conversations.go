package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/storage"
)

// Transcript export bounds: an export is one response, so it stops at
// whichever comes first and says so in the X-Transcript-Truncated header.
const (
	conversationMaxTranscriptMessages = 10_000
	conversationMaxTranscriptBytes    = 16 << 20
)

// ConversationRoutes serves the conversations for admins under
// /api/v1/conversations: the filtered list, one conversation with its
// messages, and the transcript export. The agents' inbox, with its
// visibility rule, is not here.
//
// Every query is scoped by the caller's workspace; another workspace's
// conversation is not found, whether or not it exists.
type ConversationRoutes struct {
	// Store is the database.
	Store *storage.Store
}

// Register adds the operations to api.
func (r *ConversationRoutes) Register(api huma.API) {
	op := routeOp("listConversations", http.MethodGet, "/api/v1/conversations", "List conversations", AccessAgent, 0, 0)
	op.Description = "Lists the workspace's conversations (preview chats excluded), filtered and sorted by allow-listed parameters, a page at a time."
	huma.Register(api, op, r.list)

	op = routeOp("getConversation", http.MethodGet, "/api/v1/conversations/{id}", "Get a conversation with its messages", AccessAgent, 0, 0)
	op.Description = "Returns the conversation and its messages after after_seq, oldest first. When next_after_seq is set, ask again with it for more."
	huma.Register(api, op, r.get)

	op = routeOp("exportTranscript", http.MethodGet, "/api/v1/conversations/{id}/transcript", "Export a transcript", AccessAgent, 0, 0)
	op.Description = "Downloads the conversation's messages. format=json gives the messages as JSON. format=text gives one line per message, " +
		"\"[time] author: text\", with the text as stored: it is data, never markup, so nothing is rendered or HTML-escaped. " +
		"Only line breaks and other control characters in a text are written as escapes (\\n, \\r, \\u001b…), so that one message stays one line " +
		"and the file cannot drive a terminal."
	op.Responses = map[string]*huma.Response{"200": {
		Description: "The transcript.",
		Content: map[string]*huma.MediaType{
			"text/plain":       {Schema: &huma.Schema{Type: "string"}},
			"application/json": {Schema: &huma.Schema{Type: "object"}},
		},
	}}
	huma.Register(api, op, r.transcript)
}

type conversationView struct {
	ID          string     `json:"id"`
	ChannelID   string     `json:"channel_id,omitempty"`
	AssistantID string     `json:"assistant_id,omitempty"`
	VersionID   string     `json:"version_id,omitempty" doc:"The published version the chat is pinned to."`
	VisitorID   string     `json:"visitor_id"`
	Status      string     `json:"status" enum:"bot,unassigned,assigned,closed"`
	AssigneeID  string     `json:"assignee_id,omitempty"`
	Language    string     `json:"language,omitempty"`
	LastSeq     int64      `json:"last_seq" doc:"The seq of the newest message; 0 when there is none."`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
}

func newConversationView(c *storage.Conversation) conversationView {
	return conversationView{
		ID: c.ID, ChannelID: c.ChannelID, AssistantID: c.AssistantID, VersionID: c.VersionID,
		VisitorID: c.VisitorID, Status: string(c.Status), AssigneeID: c.AssigneeID, Language: c.Language,
		LastSeq: c.LastSeq, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt,
	}
}

type conversationMessageView struct {
	ID       string `json:"id"`
	Seq      int64  `json:"seq"`
	Author   string `json:"author" enum:"visitor,bot,agent,system"`
	AuthorID string `json:"author_id,omitempty" doc:"The agent's user id, for agent messages."`
	// Body is data: clients render it escaped.
	Body      string          `json:"body" doc:"The text as written. It is data: render it escaped."`
	Payload   json.RawMessage `json:"payload,omitempty" doc:"Structured parts such as quick replies."`
	CreatedAt time.Time       `json:"created_at"`
}

func newConversationMessageView(m *storage.Message) conversationMessageView {
	v := conversationMessageView{
		ID: m.ID, Seq: m.Seq, Author: string(m.Author), AuthorID: m.AuthorID, Body: m.Body, CreatedAt: m.CreatedAt,
	}
	if len(m.Payload) > 0 {
		v.Payload = json.RawMessage(m.Payload)
	}
	return v
}

type listConversationsInput struct {
	Status      []string `query:"status" enum:"bot,unassigned,assigned,closed" maxItems:"4" doc:"Keep conversations in any of these statuses (comma-separated)."`
	ChannelID   string   `query:"channel_id" maxLength:"64"`
	AssistantID string   `query:"assistant_id" maxLength:"64"`
	Sort        string   `query:"sort" enum:"newest,oldest,recent_activity" default:"newest" doc:"newest and oldest by creation, recent_activity by the last change."`
	Limit       int      `query:"limit" minimum:"1" maximum:"100" default:"50"`
	Offset      int      `query:"offset" minimum:"0" maximum:"10000" default:"0" doc:"Rows to skip; narrow the filters rather than page deeper."`
}

type listConversationsOutput struct {
	Body struct {
		Conversations []conversationView `json:"conversations"`
		NextOffset    int                `json:"next_offset,omitempty" doc:"The offset of the next page, when there may be one."`
	}
}

func (r *ConversationRoutes) list(ctx context.Context, in *listConversationsInput) (*listConversationsOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	f := storage.ConversationFilter{
		ChannelID: in.ChannelID, AssistantID: in.AssistantID,
		Sort: storage.ConversationSort(in.Sort), Limit: in.Limit, Offset: in.Offset,
	}
	if !p.IsAdmin() {
		// Agents never see chats assigned to another agent.
		f.VisibleTo = p.UserID
	}
	for _, st := range in.Status {
		f.Statuses = append(f.Statuses, storage.ConversationStatus(st))
	}
	cs, err := r.Store.ListConversations(ctx, p.WorkspaceID, f)
	if err != nil {
		return nil, storeError(err, "conversations")
	}
	out := &listConversationsOutput{}
	out.Body.Conversations = make([]conversationView, 0, len(cs))
	for i := range cs {
		out.Body.Conversations = append(out.Body.Conversations, newConversationView(&cs[i]))
	}
	if next := in.Offset + len(cs); len(cs) == in.Limit && next <= storage.MaxListOffset {
		out.Body.NextOffset = next
	}
	return out, nil
}

type conversationPath struct {
	ID string `path:"id" maxLength:"64" doc:"The conversation's id."`
}

type getConversationInput struct {
	ID       string `path:"id" maxLength:"64" doc:"The conversation's id."`
	AfterSeq int64  `query:"after_seq" minimum:"0" default:"0" doc:"Return the messages after this seq."`
	Limit    int    `query:"limit" minimum:"1" maximum:"500" default:"100"`
}

type conversationDetail struct {
	Conversation conversationView          `json:"conversation"`
	Messages     []conversationMessageView `json:"messages" doc:"Oldest first."`
	NextAfterSeq int64                     `json:"next_after_seq,omitempty" doc:"Set when more messages follow: pass it as after_seq."`
}

type conversationOutput struct {
	Body conversationDetail
}

func (r *ConversationRoutes) get(ctx context.Context, in *getConversationInput) (*conversationOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	c, err := r.Store.GetConversation(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "conversation")
	}
	if !CanSee(p, c) {
		return nil, notFound("conversation")
	}
	ms, err := r.Store.ListMessagesAfter(ctx, p.WorkspaceID, c.ID, in.AfterSeq, in.Limit)
	if err != nil {
		return nil, storeError(err, "conversation")
	}
	out := &conversationOutput{Body: conversationDetail{Conversation: newConversationView(c), Messages: make([]conversationMessageView, 0, len(ms))}}
	for i := range ms {
		out.Body.Messages = append(out.Body.Messages, newConversationMessageView(&ms[i]))
	}
	if n := len(ms); n > 0 && ms[n-1].Seq < c.LastSeq {
		out.Body.NextAfterSeq = ms[n-1].Seq
	}
	return out, nil
}

type conversationTranscriptInput struct {
	ID     string `path:"id" maxLength:"64" doc:"The conversation's id."`
	Format string `query:"format" enum:"json,text" default:"json"`
}

type conversationTranscriptOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	NoSniff            string `header:"X-Content-Type-Options"`
	Truncated          string `header:"X-Transcript-Truncated" doc:"true when the transcript was cut at the export's size bound."`
	Body               []byte
}

func (r *ConversationRoutes) transcript(ctx context.Context, in *conversationTranscriptInput) (*conversationTranscriptOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	c, err := r.Store.GetConversation(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "conversation")
	}
	if !CanSee(p, c) {
		return nil, notFound("conversation")
	}
	var (
		msgs      []conversationMessageView
		size      int
		after     int64
		truncated bool
	)
	for {
		page, err := r.Store.ListMessagesAfter(ctx, p.WorkspaceID, c.ID, after, storage.MaxListLimit)
		if err != nil {
			return nil, storeError(err, "conversation")
		}
		for i := range page {
			if len(msgs) >= conversationMaxTranscriptMessages || size+len(page[i].Body) > conversationMaxTranscriptBytes {
				truncated = true
				break
			}
			size += len(page[i].Body)
			msgs = append(msgs, newConversationMessageView(&page[i]))
		}
		if truncated || len(page) < storage.MaxListLimit {
			break
		}
		after = page[len(page)-1].Seq
	}

	out := &conversationTranscriptOutput{NoSniff: "nosniff"}
	if truncated {
		out.Truncated = "true"
	}
	name := "conversation-" + downloadSlug(c.ID)
	switch in.Format {
	case "text":
		var b bytes.Buffer
		for _, m := range msgs {
			author := m.Author
			fmt.Fprintf(&b, "[%s] %s: %s\n", m.CreatedAt.UTC().Format(time.RFC3339), author, conversationTranscriptText(m.Body))
		}
		out.ContentType = "text/plain; charset=utf-8"
		out.ContentDisposition = downloadDisposition(name + ".txt")
		out.Body = b.Bytes()
	default:
		doc := struct {
			Conversation conversationView          `json:"conversation"`
			Messages     []conversationMessageView `json:"messages"`
			Truncated    bool                      `json:"truncated,omitempty"`
		}{newConversationView(c), msgs, truncated}
		if doc.Messages == nil {
			doc.Messages = []conversationMessageView{}
		}
		// encoding/json escapes <, > and & as \u003c…: still the exact
		// text once decoded, and inert should the file be opened as HTML.
		raw, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		out.ContentType = "application/json"
		out.ContentDisposition = downloadDisposition(name + ".json")
		out.Body = raw
	}
	return out, nil
}

// conversationTranscriptText writes a message's text for the text transcript: exactly
// as stored (markup stays markup, as plain text), except the characters
// that would break the one-line-per-message format or act on a reader's
// terminal or editor. Line breaks and controls become escapes (\n, \r,
// \u001b), and so do bidi overrides, which could make a line read as
// another.
func conversationTranscriptText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || conversationBidiControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func conversationBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}
