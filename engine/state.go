package engine

import "time"

// Status is where a conversation stands.
type Status string

// The statuses.
const (
	// StatusNew is a state that has not been started.
	StatusNew Status = ""
	// StatusBot: the bot is talking.
	StatusBot Status = "bot"
	// StatusWaitingAgent: the chat sits in the Unassigned queue and the bot is
	// silent (a handover wait, or an agent released it).
	StatusWaitingAgent Status = "waiting_agent"
	// StatusAgent: an agent has the chat and the bot is silent.
	StatusAgent Status = "agent"
	// StatusEnded: an end node was reached.
	StatusEnded Status = "ended"
)

// Waiting is what the current node waits for.
type Waiting string

// The things a node waits for.
const (
	WaitingNothing Waiting = ""
	WaitingInput   Waiting = "input"
	WaitingAnswer  Waiting = "answer"
	WaitingHTTP    Waiting = "http"
	WaitingAgent   Waiting = "agent"
)

// State is one conversation's state. It is a plain value, saved as JSON by
// the runner between events. Step never modifies the maps and slices of the
// state it is given: it copies them before a change.
type State struct {
	Status  Status  `json:"status"`
	Node    string  `json:"node,omitempty"`
	Waiting Waiting `json:"waiting,omitempty"`
	// Field is the index of the field being asked on collect and capture.
	Field int `json:"field,omitempty"`
	// Retries counts invalid answers to the current field.
	Retries int `json:"retries,omitempty"`
	// Misses counts replies in a row the bot did not understand.
	Misses int `json:"misses,omitempty"`
	// Request is the id of the pending answer or HTTP request, or of the
	// handover wait timer: a result or timer with another id is stale.
	Request string `json:"request,omitempty"`
	// Counter makes request and timer ids unique within the conversation.
	Counter  int64          `json:"counter,omitempty"`
	Language string         `json:"language,omitempty"`
	Visitor  VisitorEnv     `json:"visitor"`
	Vars     map[string]any `json:"vars,omitempty"`
	// Path holds the latest MaxPath visited node ids, oldest first.
	Path []string `json:"path,omitempty"`
	// Questions holds the latest MaxQuestions questions the visitor asked.
	Questions []string `json:"questions,omitempty"`
	// Resume is the handover node whose claimed port a hand-back without a
	// chosen node follows.
	Resume string `json:"resume,omitempty"`
	// Carried is set when the last question was passed on from one
	// answerer node to another, so it is passed on once only.
	Carried bool   `json:"carried,omitempty"`
	Agent   *Agent `json:"agent,omitempty"`
}

// Agent is the human who has the chat.
type Agent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// EventType says what happened.
type EventType string

// The events.
const (
	EventStart          EventType = "start"
	EventVisitorMessage EventType = "visitor_message"
	EventTimerFired     EventType = "timer_fired"
	EventAgentClaimed   EventType = "agent_claimed"
	EventAgentReleased  EventType = "agent_released"
	EventAgentTookOver  EventType = "agent_took_over"
	EventHandedBack     EventType = "handed_back"
	EventAnswerReady    EventType = "answer_ready"
	EventHTTPResult     EventType = "http_result"
)

// Event is something that happened to a conversation. Besides its own
// fields, every event carries the facts conditions may read: AgentsOnline
// and BusinessHours.
type Event struct {
	Type EventType
	// Text is the visitor's message (visitor_message).
	Text string
	// Visitor, Locale and Vars describe a starting chat (start); Vars holds
	// values for declared variables only, others are ignored.
	Visitor VisitorEnv
	Locale  string
	Vars    map[string]any
	// ID is the timer's id (timer_fired) or the request's id (answer_ready,
	// http_result), as the effect that started it gave it.
	ID string
	// Answer is the answerer's result (answer_ready).
	Answer Answer
	// HTTP is the outbound call's result (http_result).
	HTTP HTTPResult
	// Agent is who claimed or took over (agent_claimed, agent_took_over).
	Agent Agent
	// Node is where a hand-back resumes; empty follows the claimed port of
	// the handover node that was claimed (handed_back).
	Node string

	AgentsOnline  int
	BusinessHours bool
}

// Answer is what the answerer found for a question.
type Answer struct {
	// Matched is true when the answerer is confident in Text.
	Matched bool
	Text    string
	// Handover is true when the visitor should go to a human (the model
	// asked for it, the question is out of scope with no decline text, or
	// the answerer failed).
	Handover bool
}

// HTTPResult is the outcome of an http_call.
type HTTPResult struct {
	// Status is the HTTP status code, 0 when the call failed.
	Status int
	// Body is the response body, JSON for mappings to apply.
	Body []byte
	// Err says why the call failed (timeout, refused, blocked target).
	Err string
}

// EffectType says what the runner must do.
type EffectType string

// The effects.
const (
	// EffectEnterNode records that the chat entered Node (analytics, path).
	EffectEnterNode EffectType = "enter_node"
	// EffectSend sends Message to the visitor.
	EffectSend EffectType = "send"
	// EffectStartTimer starts the durable timer ID, firing After from now.
	EffectStartTimer EffectType = "start_timer"
	// EffectCancelTimer cancels the timer ID.
	EffectCancelTimer EffectType = "cancel_timer"
	// EffectRequestHandover puts the chat in the Unassigned queue and
	// notifies agents, with Handover's summary.
	EffectRequestHandover EffectType = "request_handover"
	// EffectHandoverTimedOut says nobody claimed the chat in time (or nobody
	// was online); the bot goes on along the timed_out port.
	EffectHandoverTimedOut EffectType = "handover_timed_out"
	// EffectCaptureLead creates a lead or deal from Lead.
	EffectCaptureLead EffectType = "capture_lead"
	// EffectAskAnswerer asks the answerer Ask; the result comes back as an
	// answer_ready event with the same ID.
	EffectAskAnswerer EffectType = "ask_answerer"
	// EffectCallHTTP makes the call HTTP; the result comes back as an
	// http_result event with the same ID.
	EffectCallHTTP EffectType = "call_http"
	// EffectEnd ends the conversation.
	EffectEnd EffectType = "end"
)

// Effect is one thing the runner must do, in order.
type Effect struct {
	Type EffectType
	// Node is the node that caused the effect.
	Node string
	// ID names the timer or request.
	ID string
	// After is a timer's delay.
	After time.Duration

	Message  *OutMessage
	Ask      *AnswerRequest
	HTTP     *HTTPRequest
	Handover *HandoverRequest
	Lead     *Lead
}

// Author is who wrote a message.
type Author string

// The authors.
const (
	AuthorVisitor Author = "visitor"
	AuthorBot     Author = "bot"
	AuthorAgent   Author = "agent"
	// AuthorSystem is a notice such as "Ana joined the chat".
	AuthorSystem Author = "system"
)

// OutMessage is a message from the bot (or a system notice) to the visitor.
type OutMessage struct {
	Author       Author  `json:"author"`
	Text         string  `json:"text"`
	QuickReplies []Reply `json:"quick_replies,omitempty"`
	// DelayMS is how long to show a typing indicator first.
	DelayMS int `json:"delay_ms,omitempty"`
}

// Reply is a quick reply in the chat's language.
type Reply struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// AnswerMode says which answerer a node asks.
type AnswerMode string

// The answer modes.
const (
	AnswerFAQ AnswerMode = "faq"
	AnswerLLM AnswerMode = "llm"
)

// AnswerRequest asks the answerer a question.
type AnswerRequest struct {
	Mode     AnswerMode
	Question string
	Language string
}

// HTTPRequest is an outbound call, its placeholders already rendered.
type HTTPRequest struct {
	Method  string
	URL     string
	Headers map[string]string
	Body    string
	Timeout time.Duration
}

// HandoverRequest asks for a human.
type HandoverRequest struct {
	Wait    time.Duration
	Summary Summary
}

// Summary is the built-in, structured handover summary for the agent.
type Summary struct {
	// Reason is why the chat was handed over: "handover" (a handover node),
	// "rule:ID" (a global rule), "loop_breaker" or "answerer".
	Reason    string         `json:"reason"`
	Language  string         `json:"language"`
	Page      string         `json:"page,omitempty"`
	Vars      map[string]any `json:"vars,omitempty"`
	Questions []string       `json:"questions,omitempty"`
	Path      []string       `json:"path,omitempty"`
}

// Lead is contact data captured by an offline_capture node.
type Lead struct {
	// Kind is "lead" or "deal".
	Kind   string            `json:"kind"`
	Fields map[string]string `json:"fields"`
}
