package wire

import (
	"strconv"
	"unicode/utf8"
)

// ErrorCode is the machine-readable code of an ErrorFrame and a FrameError.
// Clients switch on it; the message is for people and may change.
type ErrorCode string

// Error codes. An error frame answers one client frame; the socket stays
// open unless a close frame follows.
const (
	// CodeBadFrame: the frame is not a JSON object with a "type" string, is
	// not valid UTF-8, or nests deeper than MaxDepth.
	CodeBadFrame ErrorCode = "bad_frame"
	// CodeUnknownType: "type" names no client frame.
	CodeUnknownType ErrorCode = "unknown_type"
	// CodeTooLarge: the frame is over MaxFrameBytes. The server normally
	// closes with CloseTooBig before it can say so; the code exists for
	// decoders that see the bytes first.
	CodeTooLarge ErrorCode = "too_large"
	// CodeInvalidField: a member has the wrong JSON type or breaks its
	// bounds; Field names it ("text", "vars.plan", "identity.email").
	CodeInvalidField ErrorCode = "invalid_field"
	// CodeRateLimited: the socket is over RateLimit; the frame was dropped
	// and may be sent again later (a message with the same client_id).
	CodeRateLimited ErrorCode = "rate_limited"
	// CodeNotReady: a frame other than hello arrived before the welcome.
	CodeNotReady ErrorCode = "not_ready"
	// CodeConversationClosed: the conversation no longer takes messages.
	CodeConversationClosed ErrorCode = "conversation_closed"
	// CodeInternal: the server failed; the frame may be retried. A message
	// was not stored (it is acked only after it is).
	CodeInternal ErrorCode = "internal"
)

// Close codes. 1000-1011 are RFC 6455's; 4000-4999 are this protocol's.
// A client reconnects (with jittered backoff, sending its token and
// last_seq) after every code except CloseUnauthorized and ClosePolicy, which
// need a fresh start or a fixed page, and CloseProtocol, which means a bug in
// the client.
const (
	// CloseNormal: the conversation was ended on purpose (by either side).
	CloseNormal = 1000
	// CloseGoingAway: the server is shutting down or being redeployed;
	// reconnect to another node.
	CloseGoingAway = 1001
	// ClosePolicy: the channel key is unknown or disabled, or the page's
	// Origin is not on the channel's allow-list. Sent only when the refusal
	// happens after the upgrade; before it, the handshake gets 403.
	ClosePolicy = 1008
	// CloseTooBig: a frame exceeded MaxFrameBytes.
	CloseTooBig = 1009
	// CloseInternal: the server hit an unexpected condition; reconnect.
	CloseInternal = 1011
	// CloseProtocol: no hello within HelloTimeout, a bad or repeated hello,
	// or a frame that breaks the protocol in a way an error frame cannot
	// answer.
	CloseProtocol = 4000
	// CloseUnauthorized: the hello's token is invalid, expired, belongs to
	// another channel, or the identity signature does not verify. Start
	// again without the token.
	CloseUnauthorized = 4001
	// CloseRateLimited: the socket kept flooding after rate_limited errors
	// (FloodRefusals within FloodWindow), or its hello would start a
	// conversation past the starts-per-address limit that all nodes share.
	// Wait at least 10 s before reconnecting.
	CloseRateLimited = 4008
	// CloseSlowConsumer: the socket's send queue (SendQueueSize) filled up
	// because the client reads too slowly; resume reconnects and replays.
	CloseSlowConsumer = 4009
	// CloseIdleTimeout: nothing arrived for IdleTimeout (no frame, no pong).
	CloseIdleTimeout = 4010
	// CloseTooManyConnections: the node, the channel or the visitor has too
	// many open sockets; back off before reconnecting.
	CloseTooManyConnections = 4011
)

// CloseText returns a short name for a close code, for logs and metrics
// labels; "unknown" for codes this protocol does not define.
func CloseText(code int) string {
	switch code {
	case CloseNormal:
		return "normal"
	case CloseGoingAway:
		return "going_away"
	case ClosePolicy:
		return "policy"
	case CloseTooBig:
		return "too_big"
	case CloseInternal:
		return "internal"
	case CloseProtocol:
		return "protocol"
	case CloseUnauthorized:
		return "unauthorized"
	case CloseRateLimited:
		return "rate_limited"
	case CloseSlowConsumer:
		return "slow_consumer"
	case CloseIdleTimeout:
		return "idle_timeout"
	case CloseTooManyConnections:
		return "too_many_connections"
	}
	return "unknown"
}

// TrimCloseReason cuts reason to MaxCloseReasonBytes on a rune boundary, so
// it fits in a close frame.
func TrimCloseReason(reason string) string {
	if len(reason) <= MaxCloseReasonBytes {
		return reason
	}
	cut := MaxCloseReasonBytes
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
}

// FrameError is why DecodeClient refused a frame. It maps one to one onto
// the ErrorFrame the server sends back.
type FrameError struct {
	// Code is CodeBadFrame, CodeUnknownType, CodeTooLarge or
	// CodeInvalidField.
	Code ErrorCode
	// Field names the offending member as a path ("text", "vars.plan",
	// "identity.email"), or is "" when the frame as a whole is at fault.
	Field string
	// Message says what is wrong and what is allowed, for the developer
	// reading the console. It never quotes more than a few bytes of input.
	Message string
}

// Error implements error.
func (e *FrameError) Error() string {
	if e.Field != "" {
		return "wire: " + string(e.Code) + ": " + e.Field + ": " + e.Message
	}
	return "wire: " + string(e.Code) + ": " + e.Message
}

// Frame returns the error frame that answers e.
func (e *FrameError) Frame() *ErrorFrame {
	return &ErrorFrame{Code: e.Code, Message: e.Message, Field: e.Field}
}

// quoteShort quotes s for an error message, cut to a few bytes so a refusal
// never echoes a large input back.
func quoteShort(s string) string {
	const max = 32
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
