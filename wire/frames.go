package wire

import "time"

// Frame type names: the "type" member of every frame. Typing is both a
// client and a server frame, with different members.
const (
	// TypeHello is Hello's type.
	TypeHello = "hello"
	// TypeMessage is ClientMessage's type.
	TypeMessage = "message"
	// TypeTyping is ClientTyping's and Typing's type.
	TypeTyping = "typing"
	// TypeResume is Resume's type.
	TypeResume = "resume"
	// TypePing is Ping's type.
	TypePing = "ping"

	// TypeWelcome is Welcome's type.
	TypeWelcome = "welcome"
	// TypeEvent is Event's type.
	TypeEvent = "event"
	// TypeAck is Ack's type.
	TypeAck = "ack"
	// TypeResync is Resync's type.
	TypeResync = "resync"
	// TypeError is ErrorFrame's type.
	TypeError = "error"
	// TypePong is Pong's type.
	TypePong = "pong"
)

// Authors of a Message, and of a Typing frame.
const (
	// AuthorVisitor is the person using the widget.
	AuthorVisitor = "visitor"
	// AuthorBot is the assistant's playbook.
	AuthorBot = "bot"
	// AuthorAgent is a human agent from the inbox.
	AuthorAgent = "agent"
	// AuthorSystem is Frontdesk itself (e.g. "Sam joined").
	AuthorSystem = "system"
)

// Event kinds. Clients ignore kinds they do not know but still take the
// event's seq as seen, so a newer server can add kinds without breaking
// gap detection.
const (
	// KindMessage: a message was added; Event.Message holds it.
	KindMessage = "message"
	// KindAgentJoined: an agent took the conversation; Event.Agent names them.
	KindAgentJoined = "agent_joined"
	// KindAgentLeft: the agent handed the conversation back or left.
	KindAgentLeft = "agent_left"
	// KindClosed: the conversation was closed; further messages are
	// refused with CodeConversationClosed.
	KindClosed = "closed"
)

// Resync reasons.
const (
	// ResyncGapTooOld: the client's last_seq is more than MaxReplayEvents
	// behind, or older than what the server keeps for replay.
	ResyncGapTooOld = "gap_too_old"
	// ResyncMissed: this node may have missed live events (its broker
	// subscription overflowed or reconnected).
	ResyncMissed = "missed"
)

// ClientFrame is a frame a client sends: *Hello, *ClientMessage,
// *ClientTyping, *Resume or *Ping. The set is closed; switch on the
// concrete type.
type ClientFrame interface {
	// Type returns the frame's "type" member.
	Type() string
	// AppendJSON appends the frame's JSON encoding to dst.
	AppendJSON(dst []byte) []byte
	validate() error
}

// ServerFrame is a frame the server sends: *Welcome, *Event, *Ack, *Typing,
// *Resync, *ErrorFrame or *Pong.
type ServerFrame interface {
	// Type returns the frame's "type" member.
	Type() string
	// AppendJSON appends the frame's JSON encoding to dst and returns the
	// extended buffer. It allocates only when dst must grow.
	AppendJSON(dst []byte) []byte
	serverFrame()
}

// Hello opens a visitor socket; it must be the first frame. A new visitor
// sends no token; a returning one sends the token from its last Welcome and
// the last seq it saw, and the server replays what it missed.
type Hello struct {
	// Token is the signed visitor token from a previous Welcome.
	Token string `json:"token,omitempty"`
	// LastSeq is the highest event seq the client has (0: none).
	LastSeq int64 `json:"last_seq,omitempty"`
	// Locale is the browser's language tag, e.g. "en-US".
	Locale string `json:"locale,omitempty"`
	// PageURL is the http(s) URL of the page the widget runs on.
	PageURL string `json:"page_url,omitempty"`
	// Referrer is document.referrer, informational only.
	Referrer string `json:"referrer,omitempty"`
	// Vars are page variables for the playbook. Values are string, float64
	// or bool; send large integer ids as strings.
	Vars map[string]any `json:"vars,omitempty"`
	// Identity is a logged-in user the host site vouches for.
	Identity *Identity `json:"identity,omitempty"`
}

// Identity is a host site's signed claim about who the visitor is. Without a
// valid signature the server treats the visitor as anonymous.
type Identity struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	// Signature is the HMAC the host site computed over the id (or the
	// email when there is no id) with the channel's identity secret.
	Signature string `json:"signature"`
}

// ClientMessage is a message the visitor typed or a quick reply they chose.
// Sending it again with the same ClientID stores it once and gets the same
// Ack, so clients retry freely after a reconnect.
type ClientMessage struct {
	// ClientID is unique per message per visitor.
	ClientID string `json:"client_id"`
	// Text is what the visitor sees in the transcript (for a quick reply,
	// its label).
	Text string `json:"text"`
	// QuickReply is the value of the chosen quick reply, if any.
	QuickReply string `json:"quick_reply,omitempty"`
}

// ClientTyping says the visitor started (On) or stopped typing.
type ClientTyping struct {
	On bool `json:"on"`
}

// Resume asks for the events after LastSeq on an open socket, e.g. after
// the tab was asleep. The server replays them or answers Resync.
type Resume struct {
	LastSeq int64 `json:"last_seq"`
}

// Ping asks for a Pong. Browsers cannot send websocket pings, so the widget
// uses this to keep the socket alive and to measure latency.
type Ping struct{}

// Welcome answers a good Hello.
type Welcome struct {
	ConversationID string `json:"conversation_id"`
	// Token identifies the visitor and conversation on the next Hello. It
	// is signed by the server; clients store it and never parse it.
	Token string `json:"token"`
	// LastSeq is the conversation's current highest seq.
	LastSeq   int64       `json:"last_seq"`
	Assistant Participant `json:"assistant"`
	// Language is the conversation's language, chosen from the hello's
	// locale and the assistant's languages.
	Language string `json:"language"`
}

// Participant is someone shown in the widget header or beside messages.
type Participant struct {
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url,omitempty"`
}

// Event is one stored conversation event. Seq grows by one per event in a
// conversation, so a client that sees a jump knows it missed some.
type Event struct {
	Seq            int64  `json:"seq"`
	ConversationID string `json:"conversation_id"`
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Message is set for KindMessage.
	Message *Message `json:"message,omitempty"`
	// Agent is set for KindAgentJoined and KindAgentLeft.
	Agent *Participant `json:"agent,omitempty"`
}

// Message is a message as the widget shows it. Text is plain text: the
// widget escapes it when rendering.
type Message struct {
	ID string `json:"id"`
	// Author is one of the Author constants.
	Author     string `json:"author"`
	AuthorName string `json:"author_name,omitempty"`
	Text       string `json:"text"`
	// QuickReplies offered with this message; choosing one sends a
	// ClientMessage with Text = Label and QuickReply = Value.
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
	// ClientID echoes the visitor's ClientMessage.ClientID, so the widget
	// can replace its pending bubble.
	ClientID string `json:"client_id,omitempty"`
	// CreatedAt is when the server stored the message (UTC by convention).
	CreatedAt time.Time `json:"created_at"`
}

// QuickReply is a button offered under a message.
type QuickReply struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Ack confirms that a ClientMessage is stored. It is sent only after the
// transaction commits. A retried ClientID gets the first Seq again, with
// Duplicate set.
type Ack struct {
	ClientID  string `json:"client_id"`
	Seq       int64  `json:"seq"`
	Duplicate bool   `json:"duplicate"`
}

// Typing shows that the bot, an agent or (on agent sockets) the visitor is
// typing.
type Typing struct {
	// Author is AuthorBot, AuthorAgent or AuthorVisitor.
	Author string `json:"author"`
	Name   string `json:"name,omitempty"`
	On     bool   `json:"on"`
}

// Resync tells the client to reload the conversation's history over HTTP
// and carry on from the newest seq there, because the gap cannot be
// replayed.
type Resync struct {
	// Reason is one of the Resync constants.
	Reason string `json:"reason"`
}

// ErrorFrame answers a client frame that was refused. See the ErrorCode
// constants.
type ErrorFrame struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
	// Field names the offending member, when there is one.
	Field string `json:"field,omitempty"`
}

// Pong answers Ping.
type Pong struct{}

// Type implements ClientFrame.
func (*Hello) Type() string { return TypeHello }

// Type implements ClientFrame.
func (*ClientMessage) Type() string { return TypeMessage }

// Type implements ClientFrame.
func (*ClientTyping) Type() string { return TypeTyping }

// Type implements ClientFrame.
func (*Resume) Type() string { return TypeResume }

// Type implements ClientFrame.
func (*Ping) Type() string { return TypePing }

// Type implements ServerFrame.
func (*Welcome) Type() string { return TypeWelcome }

// Type implements ServerFrame.
func (*Event) Type() string { return TypeEvent }

// Type implements ServerFrame.
func (*Ack) Type() string { return TypeAck }

// Type implements ServerFrame.
func (*Typing) Type() string { return TypeTyping }

// Type implements ServerFrame.
func (*Resync) Type() string { return TypeResync }

// Type implements ServerFrame.
func (*ErrorFrame) Type() string { return TypeError }

// Type implements ServerFrame.
func (*Pong) Type() string { return TypePong }

func (*Welcome) serverFrame()    {}
func (*Event) serverFrame()      {}
func (*Ack) serverFrame()        {}
func (*Typing) serverFrame()     {}
func (*Resync) serverFrame()     {}
func (*ErrorFrame) serverFrame() {}
func (*Pong) serverFrame()       {}

var (
	_ ClientFrame = (*Hello)(nil)
	_ ClientFrame = (*ClientMessage)(nil)
	_ ClientFrame = (*ClientTyping)(nil)
	_ ClientFrame = (*Resume)(nil)
	_ ClientFrame = (*Ping)(nil)

	_ ServerFrame = (*Welcome)(nil)
	_ ServerFrame = (*Event)(nil)
	_ ServerFrame = (*Ack)(nil)
	_ ServerFrame = (*Typing)(nil)
	_ ServerFrame = (*Resync)(nil)
	_ ServerFrame = (*ErrorFrame)(nil)
	_ ServerFrame = (*Pong)(nil)
)
