package chat

import (
	"encoding/json"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/wire"
)

// MessageFrame turns a stored message into the wire event clients get,
// both live and when replaying a gap.
func MessageFrame(conversationID string, m *storage.Message) *wire.Event {
	msg := &wire.Message{
		ID:        m.ID,
		Author:    string(m.Author),
		Text:      m.Body,
		ClientID:  m.ClientID,
		CreatedAt: m.CreatedAt,
	}
	if len(m.Payload) > 0 {
		var p messagePayload
		if json.Unmarshal(m.Payload, &p) == nil {
			msg.AuthorName = p.AuthorName
			for _, q := range p.QuickReplies {
				msg.QuickReplies = append(msg.QuickReplies, wire.QuickReply{Label: q.Label, Value: q.Value})
			}
		}
	}
	return &wire.Event{Seq: m.Seq, ConversationID: conversationID, Kind: wire.KindMessage, Message: msg}
}

// EncodeMessageEvent is the payload published for a stored message.
func EncodeMessageEvent(conv *storage.Conversation, m *storage.Message) []byte {
	return wire.Encode(MessageFrame(conv.ID, m))
}
