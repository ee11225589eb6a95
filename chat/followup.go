package chat

import (
	"context"
	"encoding/json"
	"time"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// followUpTimer is the name of the follow-up timer of a conversation.
const followUpTimer = "followup"

// followUpText is the built-in follow-up, when the settings give none.
var followUpText = engine.Text{
	"en": "Sorry for the wait: our team has not been able to answer yet. We have your message and will get back to you as soon as we can.",
	"fr": "Désolé pour l'attente : notre équipe n'a pas encore pu répondre. Nous avons votre message et revenons vers vous au plus vite.",
	"es": "Perdona la espera: nuestro equipo aún no ha podido responder. Tenemos tu mensaje y te responderemos lo antes posible.",
	"de": "Entschuldigung für die Wartezeit: Unser Team konnte noch nicht antworten. Wir haben Ihre Nachricht und melden uns so bald wie möglich.",
}

// armFollowUp (re)starts the follow-up timer after a visitor message in a
// chat a human handles, when the assistant's settings enable it.
func (s *Service) armFollowUp(ctx context.Context, tx *storage.Store, conv *storage.Conversation) error {
	if conv.Status != storage.StatusUnassigned && conv.Status != storage.StatusAssigned {
		return nil
	}
	f := s.settingsOf(ctx, tx, conv.WorkspaceID, conv.AssistantID).FollowUp
	if !f.Enabled {
		return nil
	}
	after := f.AfterSeconds
	if after == 0 {
		after = DefaultFollowUpSeconds
	}
	_, err := tx.SetTimer(ctx, conv.WorkspaceID, storage.NewTimer{ConversationID: conv.ID, Name: followUpTimer, FireAt: s.now().Add(time.Duration(after) * time.Second)})
	return err
}

// sendFollowUp runs when the follow-up timer fires: if the chat still
// waits for a human, the visitor gets the follow-up message, once.
func (s *Service) sendFollowUp(ctx context.Context, tx *storage.Store, conv *storage.Conversation, res *Result) error {
	if conv.Status != storage.StatusUnassigned && conv.Status != storage.StatusAssigned {
		return nil
	}
	f := s.settingsOf(ctx, tx, conv.WorkspaceID, conv.AssistantID).FollowUp
	var st engine.State
	_ = json.Unmarshal(conv.State, &st)
	text := f.Text[st.Language]
	if text == "" {
		text = f.Text["en"]
	}
	if text == "" {
		if text = followUpText[st.Language]; text == "" {
			text = followUpText["en"]
		}
	}
	msg, _, err := tx.AppendMessage(ctx, conv.WorkspaceID, storage.NewMessage{ConversationID: conv.ID, Author: storage.AuthorBot, Body: text})
	if err != nil {
		return err
	}
	res.Messages = append(res.Messages, *msg)
	res.Conversation = conv
	_, err = tx.AppendEvent(ctx, conv.WorkspaceID, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID, VersionID: conv.VersionID,
		Type: "followup_sent", Preview: conv.Preview})
	return err
}
