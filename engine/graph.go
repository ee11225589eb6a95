package engine

// Graph is a workflow: nodes joined by ordered edges, global rules checked on
// every visitor message, and a loop breaker. It is the body of a playbook file
// and of a draft or published version; it carries JSON tags for that format.
type Graph struct {
	// DefaultLanguage is the language used when the visitor's is not
	// supported. Defaults to "en".
	DefaultLanguage string `json:"default_language,omitempty"`
	// Languages lists the supported languages; every text must exist in each.
	// The default language is always supported, listed or not.
	Languages []string `json:"languages,omitempty"`
	// Start is the id of the first node.
	Start string `json:"start"`
	// Variables declares variables set from outside the graph (the widget's
	// setVariables or a signed identity), so conditions can be type-checked.
	Variables []VariableDecl `json:"variables,omitempty"`
	Nodes     []Node         `json:"nodes"`
	// Edges are ordered: of the edges leaving one port, the first whose
	// condition holds wins; an edge with no condition is the default.
	Edges []Edge `json:"edges"`
	// Rules are checked, in order, on every visitor message before the
	// current node's own edges.
	Rules []Rule `json:"global_rules,omitempty"`
	// LoopBreaker sends the visitor to a human or to offline capture after a
	// number of replies in a row that the bot did not understand.
	LoopBreaker *LoopBreaker `json:"loop_breaker,omitempty"`
}

// Kind is the kind of a node.
type Kind string

// The node kinds.
const (
	KindGreet          Kind = "greet"
	KindMessage        Kind = "message"
	KindCollect        Kind = "collect"
	KindFAQ            Kind = "faq"
	KindLLMAnswer      Kind = "llm_answer"
	KindHandover       Kind = "handover"
	KindOfflineCapture Kind = "offline_capture"
	KindBranch         Kind = "branch"
	KindSetVariable    Kind = "set_variable"
	KindHTTPCall       Kind = "http_call"
	KindEnd            Kind = "end"
)

// Kinds lists every node kind, in the order the builder's palette shows them.
var Kinds = []Kind{
	KindGreet, KindMessage, KindCollect, KindFAQ, KindLLMAnswer, KindHandover,
	KindOfflineCapture, KindBranch, KindSetVariable, KindHTTPCall, KindEnd,
}

// Port names. A node leaves through one of its kind's ports (see Ports).
const (
	PortNext       = "next"
	PortDone       = "done"
	PortInvalid    = "invalid"
	PortMatched    = "matched"
	PortNotMatched = "not_matched"
	PortAnswered   = "answered"
	PortHandover   = "handover"
	PortClaimed    = "claimed"
	PortTimedOut   = "timed_out"
	PortSuccess    = "success"
	PortFailure    = "failure"
)

// Ports returns the ports of a node kind; the first is the port an edge with
// no port uses. An end node has none.
func Ports(k Kind) []string {
	switch k {
	case KindGreet, KindMessage, KindBranch, KindSetVariable:
		return []string{PortNext}
	case KindCollect:
		return []string{PortDone, PortInvalid}
	case KindFAQ:
		return []string{PortMatched, PortNotMatched}
	case KindLLMAnswer:
		return []string{PortAnswered, PortHandover}
	case KindHandover:
		return []string{PortClaimed, PortTimedOut}
	case KindOfflineCapture:
		return []string{PortDone}
	case KindHTTPCall:
		return []string{PortSuccess, PortFailure}
	}
	return nil
}

// Text is a text in several languages, keyed by language code ("en", "fr").
// It may hold {{vars.NAME}} and {{agent.name}} placeholders.
type Text map[string]string

// Position is where the builder draws a node. The engine ignores it.
type Position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Node is one step of a workflow. Exactly the config field named like its
// kind is set (a branch node needs none).
type Node struct {
	ID       string    `json:"id"`
	Kind     Kind      `json:"kind"`
	Label    string    `json:"label,omitempty"`
	Position *Position `json:"position,omitempty"`

	Greet          *GreetConfig       `json:"greet,omitempty"`
	Message        *MessageConfig     `json:"message,omitempty"`
	Collect        *CollectConfig     `json:"collect,omitempty"`
	FAQ            *AnswerConfig      `json:"faq,omitempty"`
	LLMAnswer      *AnswerConfig      `json:"llm_answer,omitempty"`
	Handover       *HandoverConfig    `json:"handover,omitempty"`
	OfflineCapture *CaptureConfig     `json:"offline_capture,omitempty"`
	Branch         *BranchConfig      `json:"branch,omitempty"`
	SetVariable    *SetVariableConfig `json:"set_variable,omitempty"`
	HTTPCall       *HTTPCallConfig    `json:"http_call,omitempty"`
	End            *EndConfig         `json:"end,omitempty"`
}

// QuickReply is a button under a bot message. Clicking it sends Label as the
// visitor's text; conditions see Value as message.choice whatever the language.
type QuickReply struct {
	Value string `json:"value"`
	Label Text   `json:"label"`
}

// GreetConfig is the first message of a chat. OfflineText, when set, replaces
// Text while no agent is online.
type GreetConfig struct {
	Text         Text         `json:"text"`
	OfflineText  Text         `json:"offline_text,omitempty"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
	// AwaitReply makes the node wait for the visitor's reply before its edges
	// are tried (quick replies imply it).
	AwaitReply bool `json:"await_reply,omitempty"`
	// SaveAs stores the visitor's reply (the choice's value for a quick
	// reply) in this variable.
	SaveAs string `json:"save_as,omitempty"`
}

// MessageConfig is a bot message: rich text (a small markdown subset), quick
// replies, and an optional typing delay.
type MessageConfig struct {
	Text         Text         `json:"text"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
	AwaitReply   bool         `json:"await_reply,omitempty"`
	SaveAs       string       `json:"save_as,omitempty"`
	// DelayMS shows a typing indicator for this long before the message.
	DelayMS int `json:"delay_ms,omitempty"`
}

// FieldType is the type of a collected field.
type FieldType string

// The field types.
const (
	FieldText   FieldType = "text"
	FieldEmail  FieldType = "email"
	FieldPhone  FieldType = "phone"
	FieldNumber FieldType = "number"
	FieldChoice FieldType = "choice"
	FieldDate   FieldType = "date"
	FieldURL    FieldType = "url"
)

// Field is one question of a collect or offline_capture node. The answer is
// validated by type and stored in vars[Var].
type Field struct {
	Var    string    `json:"var"`
	Type   FieldType `json:"type"`
	Prompt Text      `json:"prompt"`
	// Reask is sent when an answer is invalid. Defaults to a generic text.
	Reask   Text         `json:"reask,omitempty"`
	Choices []QuickReply `json:"choices,omitempty"`
	// Min and Max bound a number field.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Optional fields accept "skip" (or an empty quick reply) as no answer.
	Optional bool `json:"optional,omitempty"`
}

// CollectConfig asks for fields one by one, with validation and re-asking.
type CollectConfig struct {
	Fields []Field `json:"fields"`
	// Retries is how many invalid answers to one field are re-asked before the
	// node leaves through its invalid port. Defaults to 2.
	Retries int `json:"retries,omitempty"`
}

// AnswerConfig configures a faq or llm_answer node: it waits for the
// visitor's question and asks the answerer.
type AnswerConfig struct {
	// Prompt, when set, is sent on entering the node.
	Prompt Text `json:"prompt,omitempty"`
	// NoMatch, when set, is sent before leaving through the not_matched or
	// handover port.
	NoMatch Text `json:"no_match,omitempty"`
}

// HandoverConfig is the live chat card: the chat waits in the Unassigned
// queue for an agent to claim it.
type HandoverConfig struct {
	// WaitSeconds is how long agents have to claim the chat. Defaults to 120.
	WaitSeconds int `json:"wait_seconds,omitempty"`
	// OnlineText is sent when at least one agent is online.
	OnlineText Text `json:"online_text"`
	// OfflineText is sent when nobody claims in time or nobody is online.
	OfflineText Text `json:"offline_text"`
	// JoinedText announces the agent; {{agent.name}} is replaced. Defaults to
	// a generic text.
	JoinedText Text `json:"joined_text,omitempty"`
}

// CaptureConfig asks for contact details and creates a lead or a deal.
type CaptureConfig struct {
	// Create is "lead" (default) or "deal".
	Create string `json:"create,omitempty"`
	// Intro is sent before the first field.
	Intro Text `json:"intro,omitempty"`
	// Fields are asked in order; their Var must be one of name, email,
	// phone, company, note.
	Fields []Field `json:"fields"`
	// Confirm is sent once the lead is captured.
	Confirm Text `json:"confirm"`
	// Retries is how many invalid answers are re-asked before the field is
	// skipped, keeping any value collected for it earlier in the chat (the
	// lead is never lost over one field). Defaults to 2.
	Retries int `json:"retries,omitempty"`
}

// BranchConfig is a pure router: its edges' conditions choose the way.
type BranchConfig struct{}

// Assignment sets a variable to the value of an expression.
type Assignment struct {
	Var   string `json:"var"`
	Value string `json:"value"`
}

// SetVariableConfig sets variables from expressions, in order.
type SetVariableConfig struct {
	Assignments []Assignment `json:"assignments"`
}

// ResponseMapping copies a value from an HTTP JSON response into a variable.
// Path is a dotted path ("data.items.0.name").
type ResponseMapping struct {
	Var  string  `json:"var"`
	Path string  `json:"path"`
	Type VarType `json:"type,omitempty"`
}

// HTTPCallConfig is a bounded outbound call. URL, header values and Body may
// hold {{vars.NAME}} placeholders (escaped for the URL).
type HTTPCallConfig struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// TimeoutMS bounds the call. Defaults to 5000; at most MaxHTTPTimeoutMS.
	TimeoutMS int               `json:"timeout_ms,omitempty"`
	Map       []ResponseMapping `json:"map,omitempty"`
}

// EndConfig ends the chat, optionally with a last message.
type EndConfig struct {
	Text Text `json:"text,omitempty"`
}

// Edge joins a port of one node to another node.
type Edge struct {
	ID   string `json:"id"`
	From string `json:"from"`
	// Port defaults to the first port of the From node's kind.
	Port string `json:"port,omitempty"`
	To   string `json:"to"`
	// Condition is a boolean expr-lang expression; empty means always.
	Condition string `json:"condition,omitempty"`
}

// Rule is a global rule: on every visitor message, before the current node's
// own edges, the first rule whose condition holds sends the chat to To.
type Rule struct {
	ID        string `json:"id"`
	Label     string `json:"label,omitempty"`
	Condition string `json:"condition"`
	To        string `json:"to"`
	Disabled  bool   `json:"disabled,omitempty"`
}

// LoopBreaker sends the chat to To (a handover or offline_capture node) after
// Threshold replies in a row that the bot did not understand.
type LoopBreaker struct {
	// Threshold defaults to 3.
	Threshold int    `json:"threshold,omitempty"`
	To        string `json:"to"`
}

// VarType is the type of a variable as conditions see it.
type VarType string

// The variable types. Numbers are always float64.
const (
	VarString VarType = "string"
	VarNumber VarType = "number"
	VarBool   VarType = "bool"
)

// VariableDecl declares a variable set from outside the graph.
type VariableDecl struct {
	Name string  `json:"name"`
	Type VarType `json:"type"`
}

// Port returns the edge's port, or the default port of the from node's kind.
func (e Edge) port(from Kind) string {
	if e.Port != "" {
		return e.Port
	}
	if p := Ports(from); len(p) > 0 {
		return p[0]
	}
	return ""
}

// awaitsReply reports whether a greet or message node waits for the visitor.
func (n *Node) awaitsReply() bool {
	switch n.Kind {
	case KindGreet:
		return n.Greet != nil && (n.Greet.AwaitReply || len(n.Greet.QuickReplies) > 0)
	case KindMessage:
		return n.Message != nil && (n.Message.AwaitReply || len(n.Message.QuickReplies) > 0)
	}
	return false
}

// waits reports whether the node stops the chat until something outside the
// bot happens: a visitor message, an agent, or a timer. A cycle through such
// a node cannot spin on its own.
func (n *Node) waits() bool {
	switch n.Kind {
	case KindCollect, KindFAQ, KindLLMAnswer, KindHandover, KindOfflineCapture:
		return true
	case KindGreet, KindMessage:
		return n.awaitsReply()
	}
	return false
}
