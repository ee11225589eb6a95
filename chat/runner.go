package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// SlowWorkGrace is added to a slow effect's own timeout for its watchdog
// timer: if the node running it dies, the timer delivers a failure so the
// chat never waits forever.
const SlowWorkGrace = 5 * time.Second

// AnswerTimeout bounds one answerer call.
const AnswerTimeout = 20 * time.Second

// Result is what one event stored.
type Result struct {
	Conversation *storage.Conversation
	// Messages are the messages stored by the event, in seq order: the
	// visitor's (when it sent one) and the bot's.
	Messages []storage.Message
	// Stored is the message the caller sent: the visitor's or the agent's
	// (the existing one on a retry).
	Stored *storage.Message
	// Duplicate is true when the sender's client id was seen before:
	// nothing was stored or stepped.
	Duplicate bool
	// Lead is set when the event captured a lead.
	Lead *storage.Lead

	inbox []InboxEvent
	slow  []engine.Effect
	// assign, when set, makes its value the assignee in the same update.
	assign *string
	// messages and events wait for the step's flush.
	messages []storage.NewMessage
	events   []storage.NewEvent
}

// InboxEvent tells a workspace's agents that a chat changed in the queue.
type InboxEvent struct {
	Type           string          `json:"type"`
	Kind           string          `json:"kind"`
	ConversationID string          `json:"conversation_id"`
	Status         string          `json:"status,omitempty"`
	AssigneeID     string          `json:"assignee_id,omitempty"`
	Summary        *engine.Summary `json:"summary,omitempty"`
	At             time.Time       `json:"at"`
}

// StartInput starts a conversation on a channel.
type StartInput struct {
	Channel    *storage.Channel
	VisitorID  string
	IsNew      bool
	Identified bool
	Locale     string
	PageURL    string
	Referrer   string
	// Vars sets declared variables (the widget's setVariables).
	Vars map[string]any
}

// Start creates a conversation on the channel's published assistant,
// pinned to its latest version, or on the channel's default response when
// nothing is published; and runs the start event.
func (s *Service) Start(ctx context.Context, in StartInput) (*Result, error) {
	if in.Channel == nil || in.VisitorID == "" {
		return nil, fmt.Errorf("%w: channel and visitor id are required", storage.ErrInvalid)
	}
	ws := in.Channel.WorkspaceID
	ev := engine.Event{
		Type:   engine.EventStart,
		Locale: in.Locale,
		Vars:   in.Vars,
		Visitor: engine.VisitorEnv{
			IsNew: in.IsNew, PageURL: truncate(in.PageURL, 2000), Referrer: truncate(in.Referrer, 2000), Identified: in.Identified,
		},
	}
	var res Result
	err := s.guard(func() error {
		return s.store.InTx(ctx, func(tx *storage.Store) error {
			nc := storage.NewConversation{ChannelID: in.Channel.ID, VisitorID: in.VisitorID, State: storage.JSON(`{}`)}
			if in.Channel.AssistantID != "" {
				v, err := tx.LatestVersion(ctx, ws, in.Channel.AssistantID)
				switch {
				case err == nil:
					if err := s.route(ctx, tx, ws, in, v, &nc); err != nil {
						return err
					}
				case errors.Is(err, storage.ErrNotFound):
					// Connected but never published: the default response.
				default:
					return err
				}
			}
			conv, err := tx.CreateConversation(ctx, ws, nc)
			if err != nil {
				return err
			}
			data, _ := json.Marshal(map[string]any{"is_new": in.IsNew, "page_url": ev.Visitor.PageURL, "locale": in.Locale})
			// Written with the step's events, in one insert (see flush).
			res.events = append(res.events, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID, VersionID: conv.VersionID, Type: "conversation_started", Data: data})
			if err := s.outbox(ctx, tx, conv, "conversation.created", nil); err != nil {
				return err
			}
			res.inbox = append(res.inbox, InboxEvent{Type: "inbox", Kind: "conversation_started", ConversationID: conv.ID, Status: string(conv.Status), At: s.now()})
			return s.step(ctx, tx, conv, ev, &res)
		})
	})
	if err != nil {
		return nil, err
	}
	s.afterCommit(ctx, &res)
	return &res, nil
}

// route decides how a chat on a published assistant starts: on the
// assistant's version; with the channel's default response when the
// assistant is off (workspace out of office, outside its availability); or
// straight to the agents' queue for a returning visitor when the assistant
// talks to new visitors only.
func (s *Service) route(ctx context.Context, tx *storage.Store, ws string, in StartInput, v *storage.Version, nc *storage.NewConversation) error {
	w, err := tx.GetWorkspace(ctx, ws)
	if err != nil {
		return err
	}
	st := s.settingsOf(ctx, tx, ws, v.AssistantID)
	switch {
	case w.OutOfOffice || !st.Availability.On(s.now(), s.presence.OnlineAgents(ctx, ws)):
		// Off: the channel's default response (nc keeps no version).
	case st.Audience == AudienceNewOnly && !in.IsNew:
		nc.Route = storage.RouteQueue
	default:
		nc.AssistantID, nc.VersionID = v.AssistantID, v.ID
	}
	return nil
}

// MaxVisitorText bounds a visitor message in bytes.
const MaxVisitorText = engine.MaxVisitorText

// VisitorMessage stores a visitor's message, once per client id, and runs
// the bot on it. A retried client id returns the stored message with
// Duplicate set and runs nothing.
func (s *Service) VisitorMessage(ctx context.Context, ws, conversationID, clientID, text string) (*Result, error) {
	if err := CheckText(text); err != nil {
		return nil, err
	}
	return s.onConversation(ctx, ws, conversationID, true, func(tx *storage.Store, conv *storage.Conversation, res *Result) error {
		if clientID != "" {
			// A retry of a message stored before the chat closed is
			// still acked the same way.
			msg, dup, err := tx.AppendMessage(ctx, ws, storage.NewMessage{ConversationID: conv.ID, ClientID: clientID, Author: storage.AuthorVisitor, Body: text})
			if err != nil {
				return err
			}
			if dup {
				res.Conversation, res.Stored, res.Duplicate = conv, msg, true
				return nil
			}
			if conv.Status == storage.StatusClosed {
				return ErrClosed
			}
			res.Stored = msg
		} else {
			if conv.Status == storage.StatusClosed {
				return ErrClosed
			}
			msg, _, err := tx.AppendMessage(ctx, ws, storage.NewMessage{ConversationID: conv.ID, Author: storage.AuthorVisitor, Body: text})
			if err != nil {
				return err
			}
			res.Stored = msg
		}
		res.Messages = append(res.Messages, *res.Stored)
		// Written with the step's events, in one insert (see flush).
		res.events = append(res.events, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID, VersionID: conv.VersionID, Type: "visitor_message", Preview: conv.Preview})
		if conv.Status != storage.StatusBot {
			// Agents are told of messages in chats a human handles, and
			// the visitor gets a follow-up if nobody answers in time.
			res.inbox = append(res.inbox, InboxEvent{Type: "inbox", Kind: "visitor_message", ConversationID: conv.ID,
				Status: string(conv.Status), AssigneeID: conv.AssigneeID, At: s.now()})
			if err := s.armFollowUp(ctx, tx, conv); err != nil {
				return err
			}
		}
		return s.step(ctx, tx, conv, engine.Event{Type: engine.EventVisitorMessage, Text: text}, res)
	})
}

// Handle runs an event that is not a visitor message on a conversation:
// a fired timer, an answer, an HTTP result, an agent's action.
func (s *Service) Handle(ctx context.Context, ws, conversationID string, ev engine.Event) (*Result, error) {
	return s.onConversation(ctx, ws, conversationID, true, func(tx *storage.Store, conv *storage.Conversation, res *Result) error {
		return s.step(ctx, tx, conv, ev, res)
	})
}

// onConversation runs fn in one transaction on the locked conversation,
// then publishes what it stored and starts its slow work. guarded refuses
// new work while the service drains for shutdown; results of work the
// service started itself pass (guarded false).
func (s *Service) onConversation(ctx context.Context, ws, conversationID string, guarded bool, fn func(tx *storage.Store, conv *storage.Conversation, res *Result) error) (*Result, error) {
	var res Result
	run := func() error {
		return s.store.InTx(ctx, func(tx *storage.Store) error {
			conv, err := tx.GetConversationForUpdate(ctx, ws, conversationID)
			if err != nil {
				return err
			}
			return fn(tx, conv, &res)
		})
	}
	var err error
	if guarded {
		err = s.guard(run)
	} else {
		err = run()
	}
	if err != nil {
		return nil, err
	}
	s.afterCommit(ctx, &res)
	return &res, nil
}

// CheckText refuses visitor text the product never stores: empty, over
// MaxVisitorText bytes, invalid UTF-8 or holding NUL.
func CheckText(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return fmt.Errorf("%w: text is empty", storage.ErrInvalid)
	case len(text) > MaxVisitorText:
		return fmt.Errorf("%w: text is %d bytes; the limit is %d", storage.ErrInvalid, len(text), MaxVisitorText)
	case !utf8.ValidString(text):
		return fmt.Errorf("%w: text is not valid UTF-8", storage.ErrInvalid)
	case strings.IndexByte(text, 0) >= 0:
		return fmt.Errorf("%w: text holds a NUL byte", storage.ErrInvalid)
	}
	return nil
}

func (s *Service) guard(fn func() error) error {
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.pending.Add(1)
	}
	s.mu.Unlock()
	if closed {
		return ErrShuttingDown
	}
	defer s.pending.Done()
	if err := s.admit(); err != nil {
		return err
	}
	defer func() { <-s.inFlight }()
	return fn()
}

// admit takes a turn among Config.MaxInFlight, waiting at most
// Config.MaxWait.
func (s *Service) admit() error {
	select {
	case s.inFlight <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(s.maxWait)
	defer t.Stop()
	select {
	case s.inFlight <- struct{}{}:
		return nil
	case <-t.C:
		return ErrOverloaded
	}
}

// step runs the engine on the locked conversation and stores what it
// produced, in the caller's transaction.
func (s *Service) step(ctx context.Context, tx *storage.Store, conv *storage.Conversation, ev engine.Event, res *Result) (err error) {
	began := s.now()
	defer func() {
		if s.metrics != nil {
			s.metrics.StepDone(ev.Type, time.Since(began), err)
		}
	}()
	c, err := s.compiled(ctx, tx, conv)
	if err != nil {
		return err
	}
	var st engine.State
	if len(conv.State) > 0 {
		if err := json.Unmarshal(conv.State, &st); err != nil {
			return fmt.Errorf("chat: conversation %s state: %w", conv.ID, err)
		}
	}
	ws := conv.WorkspaceID
	if ev.Type == engine.EventAnswerReady || ev.Type == engine.EventHTTPResult {
		// The result came in time: its watchdog is no longer needed.
		if _, err := tx.CancelTimer(ctx, ws, conv.ID, slowTimerName(ev.ID)); err != nil {
			return err
		}
	}
	now := s.now()
	ev.AgentsOnline = s.presence.OnlineAgents(ctx, ws)
	ev.BusinessHours = s.settingsOf(ctx, tx, ws, conv.AssistantID).Availability.InSchedule(now)
	if ev.Type == engine.EventAnswerReady {
		// The answer is kept in the log: a preview saved as a transcript
		// replays it as it was.
		data, _ := json.Marshal(map[string]any{"id": ev.ID, "matched": ev.Answer.Matched, "text": ev.Answer.Text, "handover": ev.Answer.Handover})
		res.events = append(res.events, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID, VersionID: conv.VersionID,
			Type: "answer_ready", Data: data, Preview: conv.Preview})
	}
	next, effects, err := engine.Step(c, st, ev, now)
	if err != nil {
		return err
	}
	for i := range effects {
		if err := s.apply(ctx, tx, conv, &effects[i], now, res); err != nil {
			return err
		}
	}
	if err := s.flush(ctx, tx, conv, res); err != nil {
		return err
	}
	state, err := json.Marshal(next)
	if err != nil {
		return err
	}
	res.Conversation = conv
	if bytes.Equal(state, conv.State) && len(effects) == 0 {
		return nil // a stale event: nothing changed
	}
	upd := storage.ConversationUpdate{State: state, Status: statusOf(next.Status, conv.Status)}
	if conv.Language == "" && next.Language != "" {
		upd.Language = next.Language
	}
	switch {
	case res.assign != nil:
		upd.SetAssignee, upd.AssigneeID = true, *res.assign
	case upd.Status == storage.StatusBot || upd.Status == storage.StatusUnassigned:
		// Back with the bot or in the queue: nobody has the chat.
		upd.SetAssignee = conv.AssigneeID != ""
	}
	updated, err := tx.UpdateLockedConversation(ctx, conv, upd)
	if err != nil {
		return err
	}
	if updated.Status != conv.Status || updated.AssigneeID != conv.AssigneeID {
		res.inbox = append(res.inbox, InboxEvent{Type: "inbox", Kind: "conversation_updated", ConversationID: conv.ID,
			Status: string(updated.Status), AssigneeID: updated.AssigneeID, At: now})
	}
	res.Conversation = updated
	return nil
}

// statusOf maps the engine's status to the inbox status.
func statusOf(st engine.Status, current storage.ConversationStatus) storage.ConversationStatus {
	switch st {
	case engine.StatusBot:
		return storage.StatusBot
	case engine.StatusWaitingAgent:
		return storage.StatusUnassigned
	case engine.StatusAgent:
		return storage.StatusAssigned
	case engine.StatusEnded:
		return storage.StatusClosed
	}
	return current
}

func slowTimerName(requestID string) string { return "slow:" + requestID }

// messagePayload is what a bot message stores beside its text.
type messagePayload struct {
	QuickReplies []engine.Reply `json:"quick_replies,omitempty"`
	DelayMS      int            `json:"delay_ms,omitempty"`
	Node         string         `json:"node,omitempty"`
	AuthorName   string         `json:"author_name,omitempty"`
}

// apply carries out one effect inside the transaction. Slow effects are
// only recorded here, with a watchdog timer, and start after the commit.
func (s *Service) apply(ctx context.Context, tx *storage.Store, conv *storage.Conversation, e *engine.Effect, now time.Time, res *Result) error {
	ws := conv.WorkspaceID
	// Events and messages of one step are written together after the
	// effects (see flush): one insert each instead of one per effect.
	event := func(typ string, data any) error {
		var raw storage.JSON
		if data != nil {
			raw, _ = json.Marshal(data)
		}
		res.events = append(res.events, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID, VersionID: conv.VersionID,
			Type: typ, NodeID: e.Node, Data: raw, Preview: conv.Preview})
		return nil
	}
	switch e.Type {
	case engine.EffectEnterNode:
		return event("node_entered", nil)
	case engine.EffectSend:
		author := storage.AuthorBot
		if e.Message.Author == engine.AuthorSystem {
			author = storage.AuthorSystem
		}
		p := messagePayload{QuickReplies: e.Message.QuickReplies, DelayMS: e.Message.DelayMS, Node: e.Node}
		payload, _ := json.Marshal(p)
		res.messages = append(res.messages, storage.NewMessage{ConversationID: conv.ID, Author: author, Body: e.Message.Text, Payload: payload})
	case engine.EffectStartTimer:
		_, err := tx.SetTimer(ctx, ws, storage.NewTimer{ConversationID: conv.ID, Name: e.ID, FireAt: now.Add(e.After)})
		return err
	case engine.EffectCancelTimer:
		_, err := tx.CancelTimer(ctx, ws, conv.ID, e.ID)
		return err
	case engine.EffectRequestHandover:
		if err := event("handover_requested", e.Handover.Summary); err != nil {
			return err
		}
		if err := s.outbox(ctx, tx, conv, "conversation.handover_requested", map[string]any{"summary": e.Handover.Summary}); err != nil {
			return err
		}
		sum := e.Handover.Summary
		res.inbox = append(res.inbox, InboxEvent{Type: "inbox", Kind: "handover_requested", ConversationID: conv.ID, Status: string(storage.StatusUnassigned), Summary: &sum, At: now})
	case engine.EffectHandoverTimedOut:
		if err := event("handover_timed_out", nil); err != nil {
			return err
		}
		res.inbox = append(res.inbox, InboxEvent{Type: "inbox", Kind: "handover_timed_out", ConversationID: conv.ID, Status: string(storage.StatusBot), At: now})
	case engine.EffectCaptureLead:
		kind := storage.LeadKind(e.Lead.Kind)
		f := e.Lead.Fields
		lead, err := tx.CreateLead(ctx, ws, storage.NewLead{ConversationID: conv.ID, Kind: kind,
			PersonName: f["name"], Email: f["email"], Phone: f["phone"], OrgName: f["company"], Notes: f["note"]})
		if err != nil {
			return err
		}
		res.Lead = lead
		if err := event("lead_captured", map[string]any{"lead_id": lead.ID, "kind": lead.Kind}); err != nil {
			return err
		}
		return s.outbox(ctx, tx, conv, "lead.created", map[string]any{"lead_id": lead.ID, "kind": lead.Kind, "fields": f})
	case engine.EffectAskAnswerer, engine.EffectCallHTTP:
		timeout := AnswerTimeout
		if e.HTTP != nil {
			timeout = e.HTTP.Timeout
		}
		if _, err := tx.SetTimer(ctx, ws, storage.NewTimer{ConversationID: conv.ID, Name: slowTimerName(e.ID), FireAt: now.Add(timeout + SlowWorkGrace)}); err != nil {
			return err
		}
		res.slow = append(res.slow, *e)
	case engine.EffectEnd:
		if err := event("conversation_ended", nil); err != nil {
			return err
		}
		return s.outbox(ctx, tx, conv, "conversation.closed", map[string]any{"reason": "bot_end"})
	}
	return nil
}

// flush writes the messages and events the step's effects produced, in
// their order, with one insert each.
func (s *Service) flush(ctx context.Context, tx *storage.Store, conv *storage.Conversation, res *Result) error {
	if len(res.messages) > 0 {
		msgs, err := tx.AppendMessages(ctx, conv.WorkspaceID, conv.ID, res.messages)
		if err != nil {
			return err
		}
		res.Messages = append(res.Messages, msgs...)
		res.messages = nil
	}
	if len(res.events) > 0 {
		if err := tx.AppendEvents(ctx, conv.WorkspaceID, res.events); err != nil {
			return err
		}
		res.events = nil
	}
	return nil
}

// outbox queues a webhook event in the same transaction as the change.
func (s *Service) outbox(ctx context.Context, tx *storage.Store, conv *storage.Conversation, typ string, data map[string]any) error {
	if conv.Preview {
		return nil
	}
	body := map[string]any{"conversation_id": conv.ID, "channel_id": conv.ChannelID, "assistant_id": conv.AssistantID}
	for k, v := range data {
		body[k] = v
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	_, err = tx.InsertOutbox(ctx, conv.WorkspaceID, storage.NewOutboxEntry{EventType: typ, Payload: payload})
	return err
}

// afterCommit publishes what the event stored and starts its slow work.
// Publishing is best effort: a subscriber that misses an event catches up
// from the database by seq.
func (s *Service) afterCommit(ctx context.Context, res *Result) {
	if res.Conversation == nil {
		return
	}
	conv := res.Conversation
	ws := conv.WorkspaceID
	pubCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if !res.Duplicate {
		for i := range res.Messages {
			if err := s.pub.Publish(pubCtx, ConversationTopic(ws, conv.ID), EncodeMessageEvent(conv, &res.Messages[i])); err != nil {
				s.log.Warn("publish message", "conversation", conv.ID, "err", err)
			}
		}
	}
	for _, ie := range res.inbox {
		payload, _ := json.Marshal(ie)
		if err := s.pub.Publish(pubCtx, InboxTopic(ws), payload); err != nil {
			s.log.Warn("publish inbox event", "conversation", conv.ID, "err", err)
		}
	}
	for _, e := range res.slow {
		s.startSlow(ws, conv, e)
	}
	if s.summary != nil {
		for _, ie := range res.inbox {
			if ie.Kind == "handover_requested" {
				s.startSummary(ws, conv)
			}
		}
	}
}
