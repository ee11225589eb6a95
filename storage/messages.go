package storage

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Author says who wrote a message.
type Author string

// The authors.
const (
	AuthorVisitor Author = "visitor"
	AuthorBot     Author = "bot"
	AuthorAgent   Author = "agent"
	// AuthorSystem is for notices such as "an agent joined".
	AuthorSystem Author = "system"
)

func (a Author) valid() bool {
	switch a {
	case AuthorVisitor, AuthorBot, AuthorAgent, AuthorSystem:
		return true
	}
	return false
}

// Message is one entry of a conversation's transcript. Seq orders the
// conversation's messages: it starts at 1 and only grows, and a client that
// reconnects asks for everything after the last seq it saw.
type Message struct {
	ID             string
	WorkspaceID    string
	ConversationID string
	Seq            int64
	// ClientID is the id the widget gave the message, which makes retries
	// idempotent; "" for server-made messages.
	ClientID string `gorm:"serializer:frontdesk_nullstring"`
	Author   Author
	// AuthorID is the agent's user id for agent messages, else "".
	AuthorID string `gorm:"serializer:frontdesk_nullstring"`
	// Body is the text as written; rendering escapes it.
	Body string
	// Payload carries structured parts (quick replies, rich content), or is
	// nil.
	Payload   JSON
	CreatedAt time.Time
}

// TableName is the messages table.
func (Message) TableName() string { return "messages" }

// NewMessage is the input of AppendMessage.
type NewMessage struct {
	ConversationID string
	ClientID       string
	Author         Author
	AuthorID       string
	Body           string
	Payload        JSON
}

// AppendMessage stores a message with the conversation's next seq and
// returns it. If in.ClientID is set and the conversation already has a
// message with that client id, nothing is stored: the existing message is
// returned with duplicate true, so a retried send is acked the same way.
//
// The conversation row is locked while the seq is taken, so concurrent
// appends get consecutive seqs with no gaps. Call it inside InTx to commit
// it together with a state change.
func (s *Store) AppendMessage(ctx context.Context, ws string, in NewMessage) (msg *Message, duplicate bool, err error) {
	if err := needWorkspace(ws); err != nil {
		return nil, false, err
	}
	if !in.Author.valid() {
		return nil, false, invalidf("author %q: want visitor, bot, agent or system", in.Author)
	}
	if err := checkText("body", in.Body, MaxMessageBytes); err != nil {
		return nil, false, err
	}
	for _, f := range []struct{ name, v string }{{"client id", in.ClientID}, {"author id", in.AuthorID}} {
		if err := checkText(f.name, f.v, MaxNameBytes); err != nil {
			return nil, false, err
		}
	}
	payload, err := checkJSON("payload", in.Payload, "", MaxJSONBytes)
	if err != nil {
		return nil, false, err
	}
	err = s.InTx(ctx, func(tx *Store) error {
		// Lock first, then look for the client id: a concurrent retry of
		// the same message waits here and then finds the first one, instead
		// of both inserting or one burning a seq. Inside a step the lock is
		// the one the step took, and the seq is written with its update.
		last, err := tx.lockConversationSeq(ctx, ws, in.ConversationID)
		if err != nil {
			return err
		}
		m := &Message{
			ID: newID(), WorkspaceID: ws, ConversationID: in.ConversationID, Seq: last + 1,
			ClientID: in.ClientID, Author: in.Author, AuthorID: in.AuthorID, Body: in.Body,
			Payload: payload, CreatedAt: tx.now(),
		}
		// A retry is the rare case: insert, and look the first one up only
		// when the client id's unique index refused it.
		inserted, err := tx.insertMessages(ctx, []Message{*m}, in.ClientID != "")
		if err != nil {
			return err
		}
		if inserted == 0 {
			var existing Message
			err := tx.conn(ctx).Where("conversation_id = ? AND client_id = ?", in.ConversationID, in.ClientID).
				Take(&existing).Error
			if err != nil {
				return mapError(err)
			}
			msg, duplicate = &existing, true
			return nil
		}
		tx.seqs.advance(in.ConversationID, m.Seq)
		msg = m
		return nil
	})
	if err != nil {
		return nil, false, wrap("append message", err)
	}
	return msg, duplicate, nil
}

// ListMessagesAfter returns the conversation's messages with seq greater
// than afterSeq, oldest first: the replay a reconnecting client needs. When
// more than limit are missing the caller gets the first limit and asks
// again, or tells the client to reload. An unknown conversation gives
// ErrNotFound.
func (s *Store) ListMessagesAfter(ctx context.Context, ws, conversationID string, afterSeq int64, limit int) ([]Message, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := s.needConversation(ctx, ws, conversationID); err != nil {
		return nil, err
	}
	var out []Message
	err := s.conn(ctx).Where("workspace_id = ? AND conversation_id = ? AND seq > ?", ws, conversationID, afterSeq).
		Order("seq").Limit(clampLimit(limit)).Find(&out).Error
	if err != nil {
		return nil, wrap("list messages after", err)
	}
	return out, nil
}

// ListMessages returns the conversation's latest limit messages, oldest
// first: the transcript an agent opens. Page back with ListMessagesBefore.
func (s *Store) ListMessages(ctx context.Context, ws, conversationID string, limit int) ([]Message, error) {
	return s.ListMessagesBefore(ctx, ws, conversationID, 0, limit)
}

// ListMessagesBefore returns up to limit messages with seq below beforeSeq
// (0: no bound), the newest of them, oldest first.
func (s *Store) ListMessagesBefore(ctx context.Context, ws, conversationID string, beforeSeq int64, limit int) ([]Message, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := s.needConversation(ctx, ws, conversationID); err != nil {
		return nil, err
	}
	q := s.conn(ctx).Where("workspace_id = ? AND conversation_id = ?", ws, conversationID)
	if beforeSeq > 0 {
		q = q.Where("seq < ?", beforeSeq)
	}
	var out []Message
	if err := q.Order("seq DESC").Limit(clampLimit(limit)).Find(&out).Error; err != nil {
		return nil, wrap("list messages", err)
	}
	slices.Reverse(out)
	return out, nil
}

// needConversation returns ErrNotFound unless the conversation is in the
// workspace; list methods use it so another tenant's id is not an empty
// page.
func (s *Store) needConversation(ctx context.Context, ws, id string) error {
	if err := needID("conversation id", id); err != nil {
		return err
	}
	return s.needRef(ctx, "conversations", "conversation", ws, id)
}

// MaxBatch bounds AppendMessages and AppendEvents.
const MaxBatch = 256

// AppendMessages stores server messages (no client ids) of one
// conversation with its next seqs, in order, with one lock and one insert
// (the seq is written with the conversation's next update, or before the
// commit): a bot's reply to one event is usually several messages.
// Call it inside InTx to commit it together with a state change.
func (s *Store) AppendMessages(ctx context.Context, ws, conversationID string, in []NewMessage) ([]Message, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > MaxBatch {
		return nil, invalidf("%d messages in one batch; the limit is %d", len(in), MaxBatch)
	}
	for i := range in {
		m := &in[i]
		if m.ConversationID != conversationID || m.ClientID != "" {
			return nil, invalidf("a batch holds server messages of one conversation")
		}
		if !m.Author.valid() {
			return nil, invalidf("author %q: want visitor, bot, agent or system", m.Author)
		}
		if err := checkText("body", m.Body, MaxMessageBytes); err != nil {
			return nil, err
		}
		if err := checkText("author id", m.AuthorID, MaxNameBytes); err != nil {
			return nil, err
		}
	}
	var out []Message
	err := s.InTx(ctx, func(tx *Store) error {
		last, err := tx.lockConversationSeq(ctx, ws, conversationID)
		if err != nil {
			return err
		}
		now := tx.now()
		out = make([]Message, len(in))
		for i, m := range in {
			payload, err := checkJSON("payload", m.Payload, "", MaxJSONBytes)
			if err != nil {
				return err
			}
			out[i] = Message{ID: newID(), WorkspaceID: ws, ConversationID: conversationID, Seq: last + int64(i) + 1,
				Author: m.Author, AuthorID: m.AuthorID, Body: m.Body, Payload: payload, CreatedAt: now}
		}
		if _, err := tx.insertMessages(ctx, out, false); err != nil {
			return err
		}
		tx.seqs.advance(conversationID, last+int64(len(in)))
		return nil
	})
	if err != nil {
		return nil, wrap("append messages", err)
	}
	return out, nil
}

// insertMessages inserts rows with one hand-written statement: the hot
// path's insert, without gorm's reflection. With skipDuplicates a row whose
// client id the conversation has already is left out (ON CONFLICT DO
// NOTHING); the count says how many went in.
func (s *Store) insertMessages(ctx context.Context, rows []Message, skipDuplicates bool) (int64, error) {
	var q strings.Builder
	q.WriteString(`INSERT INTO messages (id, workspace_id, conversation_id, seq, client_id, author, author_id, body, payload, created_at) VALUES `)
	args := make([]any, 0, 10*len(rows))
	for i := range rows {
		m := &rows[i]
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, m.ID, m.WorkspaceID, m.ConversationID, m.Seq, nullable(m.ClientID), string(m.Author), nullable(m.AuthorID), m.Body, m.Payload, m.CreatedAt)
	}
	if skipDuplicates {
		q.WriteString(" ON CONFLICT DO NOTHING")
	}
	res := s.conn(ctx).Exec(q.String(), args...)
	if res.Error != nil {
		return 0, mapError(res.Error)
	}
	return res.RowsAffected, nil
}
