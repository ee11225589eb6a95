package webhook

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/frontdesk/frontdesk/storage"
)

// The event types a subscription may ask for.
const (
	// EventConversationCreated: a visitor started a conversation.
	EventConversationCreated = "conversation.created"
	// EventConversationHandoverRequested: the bot asked for a human.
	EventConversationHandoverRequested = "conversation.handover_requested"
	// EventConversationAssigned: an agent claimed or was given the chat.
	EventConversationAssigned = "conversation.assigned"
	// EventConversationClosed: the conversation ended.
	EventConversationClosed = "conversation.closed"
	// EventLeadCreated: a lead was captured (by the bot or an agent).
	EventLeadCreated = "lead.created"
	// EventDealCreated: a deal was created.
	EventDealCreated = "deal.created"
	// EventAll subscribes to every type, including types added later.
	EventAll = storage.WebhookAllEvents
)

// EventTypes lists the event types a subscription may name, EventAll aside.
var EventTypes = []string{
	EventConversationCreated,
	EventConversationHandoverRequested,
	EventConversationAssigned,
	EventConversationClosed,
	EventLeadCreated,
	EventDealCreated,
}

// ValidEventFilter reports whether a subscription may name s: one of
// EventTypes, or EventAll.
func ValidEventFilter(s string) bool {
	return s == EventAll || slices.Contains(EventTypes, s)
}

// Event is the JSON body of every delivery.
type Event struct {
	// Type is the event type, e.g. "lead.created".
	Type string `json:"type"`
	// Timestamp is when the change happened (not when it was sent).
	Timestamp time.Time `json:"timestamp"`
	// Data is the event's payload, as queued with the change.
	Data json.RawMessage `json:"data"`
}

// EncodeEvent builds the body of an outbox entry's deliveries. It depends
// only on the entry, so every attempt and redelivery sends the same bytes.
func EncodeEvent(e *storage.OutboxEntry) ([]byte, error) {
	data := json.RawMessage(e.Payload)
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	return json.Marshal(Event{Type: e.EventType, Timestamp: e.CreatedAt.UTC(), Data: data})
}
