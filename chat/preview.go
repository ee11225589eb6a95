package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
)

// PreviewInput starts a preview chat: the admin plays a visitor.
type PreviewInput struct {
	AssistantID string
	// OwnerID is the admin; only they see the preview.
	OwnerID  string
	Locale   string
	IsNew    bool
	PageURL  string
	Vars     map[string]any
	Identity bool
}

// StartPreview starts a test chat on the assistant's draft (never a
// published version). It runs on the same runtime as real chats; its events
// are marked preview, so it never counts in analytics, and it has no
// channel, so no visitor can reach it.
func (s *Service) StartPreview(ctx context.Context, ws string, in PreviewInput) (*Result, error) {
	var res Result
	err := s.guard(func() error {
		return s.store.InTx(ctx, func(tx *storage.Store) error {
			d, err := tx.GetDraft(ctx, ws, in.AssistantID)
			if err != nil {
				return err
			}
			conv, err := tx.CreateConversation(ctx, ws, storage.NewConversation{
				AssistantID: in.AssistantID, VisitorID: in.OwnerID, State: storage.JSON(`{}`),
				Preview: true, DraftRevision: d.Revision,
			})
			if err != nil {
				return err
			}
			data, _ := json.Marshal(map[string]any{"is_new": in.IsNew, "agents_online": s.presence.OnlineAgents(ctx, ws)})
			if _, err := tx.AppendEvent(ctx, ws, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID,
				Type: "conversation_started", Data: data, Preview: true}); err != nil {
				return err
			}
			return s.step(ctx, tx, conv, engine.Event{Type: engine.EventStart, Locale: in.Locale, Vars: in.Vars,
				Visitor: engine.VisitorEnv{IsNew: in.IsNew, PageURL: truncate(in.PageURL, 2000), Identified: in.Identity}}, &res)
		})
	})
	if err != nil {
		return nil, err
	}
	s.afterCommit(ctx, &res)
	return &res, nil
}

// SkipTimers fires a preview chat's pending timers now ("timers can be
// skipped"): a handover wait ends at once, a slow answer's watchdog fails.
func (s *Service) SkipTimers(ctx context.Context, ws, conversationID string) (*Result, error) {
	return s.onConversation(ctx, ws, conversationID, true, func(tx *storage.Store, conv *storage.Conversation, res *Result) error {
		if !conv.Preview {
			return fmt.Errorf("%w: only a preview's timers can be skipped", storage.ErrConflict)
		}
		timers, err := tx.ListTimers(ctx, ws, conv.ID)
		if err != nil {
			return err
		}
		if _, err := tx.AppendEvent(ctx, ws, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID,
			Type: "timers_skipped", Preview: true}); err != nil {
			return err
		}
		for _, t := range timers {
			if err := tx.FinishTimer(ctx, ws, t.ID); err != nil {
				return err
			}
			if err := s.step(ctx, tx, conv, timerEvent(t.Name), res); err != nil {
				return err
			}
			if conv, err = tx.GetConversationForUpdate(ctx, ws, conversationID); err != nil {
				return err
			}
		}
		return nil
	})
}

// BuildTranscript turns a preview chat into a transcript test. The chat's
// inputs are read from the event log (the start settings, each visitor
// message, each skipped wait, each answer the answerer gave) and replayed
// on the draft the preview ran; the replay writes the expected bot
// messages, node path and status of each step. So a saved transcript
// replays clean on an unchanged draft, and answers are recorded: a replay
// tests the flow, not the knowledge base.
func BuildTranscript(ctx context.Context, store *storage.Store, c *engine.Compiled, ws string, conv *storage.Conversation, name string) (*playbooks.Transcript, error) {
	events, err := store.ListEvents(ctx, ws, storage.EventFilter{ConversationID: conv.ID, IncludePreview: true, Limit: storage.MaxListLimit})
	if err != nil {
		return nil, err
	}
	msgs, err := store.ListMessages(ctx, ws, conv.ID, storage.MaxListLimit)
	if err != nil {
		return nil, err
	}
	var visitorTexts []string
	for _, m := range msgs {
		if m.Author == storage.AuthorVisitor {
			visitorTexts = append(visitorTexts, m.Body)
		}
	}
	var st engine.State
	_ = json.Unmarshal(conv.State, &st)
	t := &playbooks.Transcript{Name: trimName(name)}
	isNew := st.Visitor.IsNew
	t.Visitor.IsNew = &isNew
	t.Visitor.Locale = st.Language
	t.Visitor.PageURL = st.Visitor.PageURL
	t.Steps = append(t.Steps, playbooks.Step{Start: true})
	visitor := 0
	for _, e := range events {
		switch e.Type {
		case "conversation_started":
			var d struct {
				AgentsOnline int `json:"agents_online"`
			}
			if json.Unmarshal(e.Data, &d) == nil {
				t.Visitor.AgentsOnline = d.AgentsOnline
			}
		case "visitor_message":
			if visitor < len(visitorTexts) {
				text := visitorTexts[visitor]
				t.Steps = append(t.Steps, playbooks.Step{Say: &text})
			}
			visitor++
		case "timers_skipped":
			w := playbooks.Wait{}
			t.Steps = append(t.Steps, playbooks.Step{Wait: &w})
		case "answer_ready":
			var a playbooks.AnswerStub
			if json.Unmarshal(e.Data, &a) == nil {
				t.Steps = append(t.Steps, playbooks.Step{Answer: &a})
			}
		}
	}
	res, err := playbooks.Replay(c, t)
	if err != nil {
		return nil, err
	}
	res.Update(t)
	return t, nil
}

// trimName keeps a transcript name short and on one line.
func trimName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, 200)
}
