package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/wire"
)

// Agent actions on a conversation. Each is one transaction on the locked
// conversation row, so two agents acting at once are serialized: one claim
// wins, the other gets a conflict.

// ErrNotInQueue: the conversation is not waiting in the queue (someone
// claimed it first, or the bot has it).
var ErrNotInQueue = fmt.Errorf("%w: the conversation is not waiting in the queue", storage.ErrConflict)

// ErrNotYours: the conversation is not assigned to this agent.
var ErrNotYours = fmt.Errorf("%w: the conversation is not assigned to you", storage.ErrConflict)

// Claim assigns a chat waiting in the queue to the agent ("Assign to me").
// A chat in a handover wait has its timer cancelled; the visitor is told
// the agent joined.
func (s *Service) Claim(ctx context.Context, ws, conversationID string, a engine.Agent) (*Result, error) {
	return s.agentAction(ctx, ws, conversationID, func(conv *storage.Conversation) error {
		if conv.Status != storage.StatusUnassigned {
			return ErrNotInQueue
		}
		return nil
	}, engine.Event{Type: engine.EventAgentClaimed, Agent: a}, &a.ID, "agent_claimed")
}

// TakeOver gives the agent a chat the bot is running (or one waiting in the
// queue). The bot falls silent until the chat is handed back.
func (s *Service) TakeOver(ctx context.Context, ws, conversationID string, a engine.Agent) (*Result, error) {
	return s.agentAction(ctx, ws, conversationID, func(conv *storage.Conversation) error {
		if conv.Status != storage.StatusBot && conv.Status != storage.StatusUnassigned {
			return fmt.Errorf("%w: only a chat with the bot or in the queue can be taken over", storage.ErrConflict)
		}
		return nil
	}, engine.Event{Type: engine.EventAgentTookOver, Agent: a}, &a.ID, "agent_took_over")
}

// Reassign gives an assigned chat to another agent, or (to == nil) puts it
// back in the queue.
func (s *Service) Reassign(ctx context.Context, ws, conversationID string, to *engine.Agent) (*Result, error) {
	check := func(conv *storage.Conversation) error {
		if conv.Status != storage.StatusAssigned && conv.Status != storage.StatusUnassigned {
			return fmt.Errorf("%w: only a chat with an agent or in the queue can be reassigned", storage.ErrConflict)
		}
		return nil
	}
	if to == nil {
		none := ""
		return s.agentAction(ctx, ws, conversationID, func(conv *storage.Conversation) error {
			if conv.Status != storage.StatusAssigned {
				return fmt.Errorf("%w: the conversation is not assigned", storage.ErrConflict)
			}
			return nil
		}, engine.Event{Type: engine.EventAgentReleased}, &none, "agent_released")
	}
	return s.agentAction(ctx, ws, conversationID, check, engine.Event{Type: engine.EventAgentClaimed, Agent: *to}, &to.ID, "agent_reassigned")
}

// HandBack returns an agent's chat to the bot, at node (or, with "", where
// the handover's claimed port leads).
func (s *Service) HandBack(ctx context.Context, ws, conversationID, node string) (*Result, error) {
	none := ""
	return s.agentAction(ctx, ws, conversationID, func(conv *storage.Conversation) error {
		if conv.Status != storage.StatusAssigned && conv.Status != storage.StatusUnassigned {
			return fmt.Errorf("%w: only a chat with an agent can be handed back", storage.ErrConflict)
		}
		return nil
	}, engine.Event{Type: engine.EventHandedBack, Node: node}, &none, "handed_back")
}

func (s *Service) agentAction(ctx context.Context, ws, conversationID string, check func(*storage.Conversation) error, ev engine.Event, assign *string, logType string) (*Result, error) {
	res, err := s.onConversation(ctx, ws, conversationID, true, func(tx *storage.Store, conv *storage.Conversation, res *Result) error {
		if conv.Status == storage.StatusClosed {
			return ErrClosed
		}
		if err := check(conv); err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"agent_id": ev.Agent.ID, "node": ev.Node})
		if _, err := tx.AppendEvent(ctx, ws, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID, VersionID: conv.VersionID,
			Type: logType, Data: data, Preview: conv.Preview}); err != nil {
			return err
		}
		res.assign = assign
		if err := s.step(ctx, tx, conv, ev, res); err != nil {
			return err
		}
		if res.Conversation.Status == storage.StatusAssigned && *assign != "" {
			return s.outbox(ctx, tx, res.Conversation, "conversation.assigned", map[string]any{"assignee_id": *assign})
		}
		return nil
	})
	if err != nil {
		return nil, mapEngineError(err)
	}
	return res, nil
}

// mapEngineError turns the engine's refusals of an agent action into
// conflicts the API answers with 409.
func mapEngineError(err error) error {
	switch {
	case errors.Is(err, engine.ErrNotWithAgent):
		return fmt.Errorf("%w: %v", storage.ErrConflict, err)
	case errors.Is(err, engine.ErrUnknownNode):
		return fmt.Errorf("%w: no such node in the conversation's version", storage.ErrInvalid)
	case errors.Is(err, engine.ErrEnded):
		return ErrClosed
	}
	return err
}

// closedText tells the visitor the conversation was closed.
var closedText = engine.Text{
	"en": "This conversation has been closed.",
	"fr": "Cette conversation est terminée.",
	"es": "Esta conversación se ha cerrado.",
	"de": "Dieses Gespräch wurde beendet.",
}

// Close ends a conversation for good: it cannot be reopened, but data can
// still be added and leads created from it. Its timers are cancelled and
// the bot stops.
func (s *Service) Close(ctx context.Context, ws, conversationID, byUserID string) (*Result, error) {
	return s.onConversation(ctx, ws, conversationID, true, func(tx *storage.Store, conv *storage.Conversation, res *Result) error {
		if conv.Status == storage.StatusClosed {
			return ErrClosed
		}
		var st engine.State
		if len(conv.State) > 0 {
			if err := json.Unmarshal(conv.State, &st); err != nil {
				return err
			}
		}
		st.Status, st.Waiting, st.Request = engine.StatusEnded, engine.WaitingNothing, ""
		state, _ := json.Marshal(st)
		timers, err := tx.ListTimers(ctx, ws, conv.ID)
		if err != nil {
			return err
		}
		for _, t := range timers {
			if _, err := tx.CancelTimer(ctx, ws, conv.ID, t.Name); err != nil {
				return err
			}
		}
		text := closedText["en"]
		if t, ok := closedText[st.Language]; ok {
			text = t
		}
		msg, _, err := tx.AppendMessage(ctx, ws, storage.NewMessage{ConversationID: conv.ID, Author: storage.AuthorSystem, Body: text})
		if err != nil {
			return err
		}
		res.Messages = append(res.Messages, *msg)
		data, _ := json.Marshal(map[string]any{"by": byUserID})
		if _, err := tx.AppendEvent(ctx, ws, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID, VersionID: conv.VersionID,
			Type: "conversation_closed", Data: data, Preview: conv.Preview}); err != nil {
			return err
		}
		updated, err := tx.UpdateLockedConversation(ctx, conv, storage.ConversationUpdate{State: state, Status: storage.StatusClosed})
		if err != nil {
			return err
		}
		res.Conversation = updated
		res.inbox = append(res.inbox, InboxEvent{Type: "inbox", Kind: "conversation_updated", ConversationID: conv.ID,
			Status: string(storage.StatusClosed), AssigneeID: updated.AssigneeID, At: s.now()})
		return s.outbox(ctx, tx, updated, "conversation.closed", map[string]any{"reason": "closed_by_agent", "by": byUserID})
	})
}

// AgentMessage stores a message from the agent who has the chat, once per
// client id, and sends it to the visitor. The bot stays silent.
func (s *Service) AgentMessage(ctx context.Context, ws, conversationID string, a engine.Agent, clientID, text string) (*Result, error) {
	if err := CheckText(text); err != nil {
		return nil, err
	}
	return s.onConversation(ctx, ws, conversationID, true, func(tx *storage.Store, conv *storage.Conversation, res *Result) error {
		if conv.Status == storage.StatusClosed {
			return ErrClosed
		}
		if conv.Status != storage.StatusAssigned || conv.AssigneeID != a.ID {
			return ErrNotYours
		}
		payload, _ := json.Marshal(messagePayload{AuthorName: a.Name})
		msg, dup, err := tx.AppendMessage(ctx, ws, storage.NewMessage{ConversationID: conv.ID, ClientID: clientID,
			Author: storage.AuthorAgent, AuthorID: a.ID, Body: text, Payload: payload})
		if err != nil {
			return err
		}
		res.Conversation, res.Stored, res.Duplicate = conv, msg, dup
		if dup {
			return nil
		}
		res.Messages = append(res.Messages, *msg)
		// The agent answered: no follow-up is needed.
		if _, err := tx.CancelTimer(ctx, ws, conv.ID, followUpTimer); err != nil {
			return err
		}
		_, err = tx.AppendEvent(ctx, ws, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID, VersionID: conv.VersionID,
			Type: "agent_message", Data: storage.JSON(`{"agent_id":` + jsonString(a.ID) + `}`), Preview: conv.Preview})
		return err
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Typing relays a typing indicator to the conversation's sockets. It is
// not stored.
func (s *Service) Typing(ctx context.Context, ws, conversationID, author, name string, on bool) error {
	return s.pub.Publish(ctx, ConversationTopic(ws, conversationID), wire.Encode(&wire.Typing{Author: author, Name: name, On: on}))
}
