package storage

import (
	"context"
	"strings"
	"time"
)

// Event is one entry of the append-only conversation event log that
// analytics read: node visits, handovers, claims, captures. There is no
// method to change or delete one, and the schema refuses UPDATEs.
type Event struct {
	// ID increases in insertion order; use it to page.
	ID          int64 `gorm:"primaryKey;autoIncrement"`
	WorkspaceID string
	// AssistantID and VersionID attribute the event; they are kept after the
	// assistant is deleted.
	AssistantID    string `gorm:"serializer:frontdesk_nullstring"`
	VersionID      string `gorm:"serializer:frontdesk_nullstring"`
	ConversationID string
	Type           string
	NodeID         string `gorm:"serializer:frontdesk_nullstring"`
	Data           JSON
	// Preview events come from test chats and never count in analytics.
	Preview   bool
	CreatedAt time.Time
}

// TableName is the conversation_events table.
func (Event) TableName() string { return "conversation_events" }

// NewEvent is the input of AppendEvent.
type NewEvent struct {
	ConversationID string
	AssistantID    string
	VersionID      string
	Type           string
	NodeID         string
	Data           JSON
	Preview        bool
}

// AppendEvent adds an event to the log. The conversation must be in the
// workspace (the schema's composite foreign key checks it in the same
// statement).
func (s *Store) AppendEvent(ctx context.Context, ws string, in NewEvent) (*Event, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("conversation id", in.ConversationID); err != nil {
		return nil, err
	}
	if in.Type == "" {
		return nil, invalidf("event type is empty")
	}
	for _, f := range []struct{ name, v string }{
		{"event type", in.Type}, {"node id", in.NodeID}, {"assistant id", in.AssistantID}, {"version id", in.VersionID},
	} {
		if err := checkText(f.name, f.v, MaxNameBytes); err != nil {
			return nil, err
		}
	}
	data, err := checkJSON("data", in.Data, "{}", MaxJSONBytes)
	if err != nil {
		return nil, err
	}
	e := &Event{
		WorkspaceID: ws, AssistantID: in.AssistantID, VersionID: in.VersionID,
		ConversationID: in.ConversationID, Type: in.Type, NodeID: in.NodeID, Data: data,
		Preview: in.Preview, CreatedAt: s.now(),
	}
	if err := s.conn(ctx).Create(e).Error; err != nil {
		return nil, wrap("append event", err)
	}
	return e, nil
}

// EventFilter selects events for ListEvents.
type EventFilter struct {
	// ConversationID keeps one conversation's events; another workspace's
	// id gives ErrNotFound.
	ConversationID string
	AssistantID    string
	VersionID      string
	Type           string
	// Since and Until bound CreatedAt: Since <= CreatedAt < Until. Zero
	// means no bound.
	Since time.Time
	Until time.Time
	// AfterID pages: only events with a greater ID.
	AfterID int64
	// IncludePreview includes preview events, left out by default.
	IncludePreview bool
	// Limit: see DefaultListLimit and MaxListLimit.
	Limit int
}

// ListEvents returns the workspace's events matching f, in insertion order.
func (s *Store) ListEvents(ctx context.Context, ws string, f EventFilter) ([]Event, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	q := s.conn(ctx).Where("workspace_id = ?", ws)
	if f.ConversationID != "" {
		if err := s.needConversation(ctx, ws, f.ConversationID); err != nil {
			return nil, err
		}
		q = q.Where("conversation_id = ?", f.ConversationID)
	}
	if f.AssistantID != "" {
		q = q.Where("assistant_id = ?", f.AssistantID)
	}
	if f.VersionID != "" {
		q = q.Where("version_id = ?", f.VersionID)
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", utc(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", utc(f.Until))
	}
	if f.AfterID > 0 {
		q = q.Where("id > ?", f.AfterID)
	}
	if !f.IncludePreview {
		q = q.Where("preview = ?", false)
	}
	var out []Event
	if err := q.Order("id").Limit(clampLimit(f.Limit)).Find(&out).Error; err != nil {
		return nil, wrap("list events", err)
	}
	return out, nil
}

// AppendEvents adds several events to the log with one insert, in order.
func (s *Store) AppendEvents(ctx context.Context, ws string, in []NewEvent) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	if len(in) == 0 {
		return nil
	}
	if len(in) > MaxBatch {
		return invalidf("%d events in one batch; the limit is %d", len(in), MaxBatch)
	}
	now := s.now()
	// Hand-written: the hot path's one insert of a step's events, without
	// gorm's reflection and without reading back ids nobody uses.
	var q strings.Builder
	q.WriteString(`INSERT INTO conversation_events (workspace_id, assistant_id, version_id, conversation_id, type, node_id, data, preview, created_at) VALUES `)
	args := make([]any, 0, 9*len(in))
	for i, e := range in {
		if err := needID("conversation id", e.ConversationID); err != nil {
			return err
		}
		if e.Type == "" {
			return invalidf("event type is empty")
		}
		for _, f := range []struct{ name, v string }{
			{"event type", e.Type}, {"node id", e.NodeID}, {"assistant id", e.AssistantID}, {"version id", e.VersionID},
		} {
			if err := checkText(f.name, f.v, MaxNameBytes); err != nil {
				return err
			}
		}
		data, err := checkJSON("data", e.Data, "{}", MaxJSONBytes)
		if err != nil {
			return err
		}
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, ws, nullable(e.AssistantID), nullable(e.VersionID), e.ConversationID, e.Type, nullable(e.NodeID), data, e.Preview, now)
	}
	if err := s.conn(ctx).Exec(q.String(), args...).Error; err != nil {
		return wrap("append events", err)
	}
	return nil
}
