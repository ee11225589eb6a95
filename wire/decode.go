package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// clientUnion holds the members of every client frame, so a frame is parsed
// in one pass whatever its type. Members that only some frames require are
// pointers, to tell "absent" from zero. Vars stay raw until the type is
// known to be hello, because their values need checks encoding/json cannot
// express (scalars only, finite numbers).
type clientUnion struct {
	Type       string          `json:"type"`
	Token      string          `json:"token"`
	LastSeq    *int64          `json:"last_seq"`
	Locale     string          `json:"locale"`
	PageURL    string          `json:"page_url"`
	Referrer   string          `json:"referrer"`
	Vars       json.RawMessage `json:"vars"`
	Identity   *Identity       `json:"identity"`
	ClientID   string          `json:"client_id"`
	Text       string          `json:"text"`
	QuickReply string          `json:"quick_reply"`
	On         *bool           `json:"on"`
}

// DecodeClient parses and validates one client frame. It returns *Hello,
// *ClientMessage, *ClientTyping, *Resume or *Ping, or a *FrameError.
//
// The cheap refusals come first, before encoding/json sees the bytes: size
// (MaxFrameBytes), UTF-8 validity and nesting depth (MaxDepth). Members the
// frame's type does not define are ignored, but still must have the JSON
// type their name has in other frames ("text" is always a string).
func DecodeClient(data []byte) (ClientFrame, error) {
	if err := precheck(data, MaxFrameBytes); err != nil {
		return nil, err
	}
	var u clientUnion
	if err := json.Unmarshal(data, &u); err != nil {
		return nil, jsonError(err)
	}
	var f ClientFrame
	switch u.Type {
	case TypeHello:
		vars, err := decodeVars(u.Vars)
		if err != nil {
			return nil, err
		}
		h := &Hello{Token: u.Token, Locale: u.Locale, PageURL: u.PageURL, Referrer: u.Referrer, Vars: vars, Identity: u.Identity}
		if u.LastSeq != nil {
			h.LastSeq = *u.LastSeq
		}
		f = h
	case TypeMessage:
		f = &ClientMessage{ClientID: u.ClientID, Text: u.Text, QuickReply: u.QuickReply}
	case TypeTyping:
		if u.On == nil {
			return nil, fieldError("on", "is required: true or false")
		}
		f = &ClientTyping{On: *u.On}
	case TypeResume:
		if u.LastSeq == nil {
			return nil, fieldError("last_seq", "is required: the highest seq the client has, or 0")
		}
		f = &Resume{LastSeq: *u.LastSeq}
	case TypePing:
		f = &Ping{}
	case "":
		return nil, &FrameError{Code: CodeBadFrame, Field: "type", Message: `a frame needs a "type" string`}
	default:
		return nil, &FrameError{Code: CodeUnknownType, Field: "type",
			Message: "unknown frame type " + quoteShort(u.Type) + "; a client sends hello, message, typing, resume or ping"}
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// DecodeServer parses one server frame, for Go clients (tests, the bench).
// It checks size (MaxServerFrameBytes), UTF-8 and depth like DecodeClient,
// and the JSON types of members, but trusts the server on the rest. An
// unknown type is a *FrameError with CodeUnknownType, which a client should
// ignore.
func DecodeServer(data []byte) (ServerFrame, error) {
	if err := precheck(data, MaxServerFrameBytes); err != nil {
		return nil, err
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(err)
	}
	var f ServerFrame
	switch head.Type {
	case TypeWelcome:
		f = &Welcome{}
	case TypeEvent:
		f = &Event{}
	case TypeAck:
		f = &Ack{}
	case TypeTyping:
		f = &Typing{}
	case TypeResync:
		f = &Resync{}
	case TypeError:
		f = &ErrorFrame{}
	case TypePong:
		return &Pong{}, nil
	case "":
		return nil, &FrameError{Code: CodeBadFrame, Field: "type", Message: `a frame needs a "type" string`}
	default:
		return nil, &FrameError{Code: CodeUnknownType, Field: "type", Message: "unknown frame type " + quoteShort(head.Type)}
	}
	// The frame types have MarshalJSON but no UnmarshalJSON, so this fills
	// the struct fields from their tags.
	if err := json.Unmarshal(data, f); err != nil {
		return nil, jsonError(err)
	}
	return f, nil
}

// precheck refuses what must never reach encoding/json.
func precheck(data []byte, max int) error {
	if len(data) > max {
		return &FrameError{Code: CodeTooLarge, Message: fmt.Sprintf("the frame has %d bytes; the limit is %d", len(data), max)}
	}
	if len(data) == 0 {
		return &FrameError{Code: CodeBadFrame, Message: "the frame is empty"}
	}
	if !utf8.Valid(data) {
		return &FrameError{Code: CodeBadFrame, Message: "the frame is not valid UTF-8"}
	}
	return checkDepth(data, MaxDepth)
}

// checkDepth refuses JSON that nests objects and arrays deeper than max. It
// counts brackets outside strings in one pass with no recursion, so a
// megabyte of "[" costs a scan, not a stack; it need not validate the JSON,
// because encoding/json runs next and refuses anything malformed.
func checkDepth(data []byte, max int) error {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			// Skip the string, honouring escapes, so brackets in text do
			// not count.
			for i++; i < len(data); i++ {
				if data[i] == '\\' {
					i++
				} else if data[i] == '"' {
					break
				}
			}
		case '{', '[':
			depth++
			if depth > max {
				return &FrameError{Code: CodeBadFrame, Message: fmt.Sprintf("the frame nests deeper than %d levels", max)}
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// jsonError maps encoding/json's errors to frame errors that name the field.
func jsonError(err error) *FrameError {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return &FrameError{Code: CodeBadFrame, Message: fmt.Sprintf("not valid JSON at byte %d: %s", syn.Offset, syn.Error())}
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		if typ.Field == "" {
			return &FrameError{Code: CodeBadFrame, Message: "a frame must be a JSON object, not " + typ.Value}
		}
		return fieldError(typ.Field, "must be "+kindName(typ.Type.Kind().String())+", not "+shorten(typ.Value))
	}
	// Unexpected EOF and similar come without a type.
	return &FrameError{Code: CodeBadFrame, Message: "not valid JSON: " + err.Error()}
}

// shorten cuts encoding/json's description of a value ("number 1e999…"),
// which quotes number literals whole.
func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func kindName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int64", "int", "uint64":
		return "an integer"
	case "float64":
		return "a number"
	case "struct", "map", "ptr":
		return "an object"
	case "slice":
		return "an array"
	}
	return "a " + kind
}

func fieldError(field, msg string) *FrameError {
	return &FrameError{Code: CodeInvalidField, Field: field, Message: msg}
}

func (m *ClientMessage) validate() error {
	if !isClientID(m.ClientID) {
		return fieldError("client_id", fmt.Sprintf("must be 1 to %d characters of A-Z, a-z, 0-9, '_' and '-'", MaxClientIDBytes))
	}
	if m.Text == "" {
		return fieldError("text", "is required")
	}
	if len(m.Text) > MaxTextBytes {
		return fieldError("text", fmt.Sprintf("has %d bytes; the limit is %d", len(m.Text), MaxTextBytes))
	}
	if !utf8.ValidString(m.Text) || strings.IndexByte(m.Text, 0) >= 0 {
		return fieldError("text", "must be valid UTF-8 without NUL characters")
	}
	if len(m.QuickReply) > MaxQuickReplyBytes || !isLine(m.QuickReply) {
		return fieldError("quick_reply", fmt.Sprintf("must be at most %d bytes without control characters", MaxQuickReplyBytes))
	}
	return nil
}

func (*ClientTyping) validate() error { return nil }

func (r *Resume) validate() error {
	if r.LastSeq < 0 {
		return fieldError("last_seq", "must not be negative")
	}
	return nil
}

func (*Ping) validate() error { return nil }

func (h *Hello) validate() error {
	if len(h.Token) > MaxTokenBytes || !isToken(h.Token) {
		return fieldError("token", fmt.Sprintf("must be the token from a welcome frame: at most %d bytes of printable ASCII", MaxTokenBytes))
	}
	if h.LastSeq < 0 {
		return fieldError("last_seq", "must not be negative")
	}
	if len(h.Locale) > MaxLocaleBytes || !isLocale(h.Locale) {
		return fieldError("locale", fmt.Sprintf("must be a language tag such as \"en-US\": at most %d characters of A-Z, a-z, 0-9, '-' and '_'", MaxLocaleBytes))
	}
	if h.PageURL != "" {
		if len(h.PageURL) > MaxURLBytes || !isLine(h.PageURL) {
			return fieldError("page_url", fmt.Sprintf("must be at most %d bytes without control characters", MaxURLBytes))
		}
		u, err := url.Parse(h.PageURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fieldError("page_url", "must be an absolute http or https URL")
		}
	}
	// The referrer is shown to agents as text only, and browsers send odd
	// schemes (android-app:, about:), so it is bounded, not parsed.
	if len(h.Referrer) > MaxURLBytes || !isLine(h.Referrer) {
		return fieldError("referrer", fmt.Sprintf("must be at most %d bytes without control characters", MaxURLBytes))
	}
	if len(h.Vars) > MaxVars {
		return fieldError("vars", fmt.Sprintf("has %d entries; the limit is %d", len(h.Vars), MaxVars))
	}
	// Vars from DecodeClient were checked as they were parsed; these checks
	// matter for frames a Go caller built.
	for k, v := range h.Vars {
		if !isVarName(k) {
			return fieldError("vars", "name "+quoteShort(k)+varNameRule)
		}
		if err := checkVar(k, v); err != nil {
			return err
		}
	}
	if id := h.Identity; id != nil {
		if id.ID == "" && id.Email == "" {
			return fieldError("identity", "needs an id or an email")
		}
		if len(id.ID) > MaxIdentityIDBytes || !isLine(id.ID) {
			return fieldError("identity.id", fmt.Sprintf("must be at most %d bytes without control characters", MaxIdentityIDBytes))
		}
		if id.Email != "" && (len(id.Email) > MaxEmailBytes || !isEmail(id.Email)) {
			return fieldError("identity.email", fmt.Sprintf("must be an email address of at most %d bytes", MaxEmailBytes))
		}
		if len(id.Name) > MaxNameBytes || !isLine(id.Name) {
			return fieldError("identity.name", fmt.Sprintf("must be at most %d bytes without control characters", MaxNameBytes))
		}
		if id.Signature == "" || len(id.Signature) > MaxSignatureBytes || !isSignature(id.Signature) {
			return fieldError("identity.signature", fmt.Sprintf("is required: 1 to %d characters of hex or base64", MaxSignatureBytes))
		}
	}
	return nil
}

const varNameRule = " must start with a letter or '_' and hold only letters, digits and '_' (at most 64 bytes)"

// decodeVars parses hello's vars: an object of at most MaxVars entries whose
// values are strings, finite numbers or booleans.
func decodeVars(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, fieldError("vars", "must be an object of strings, numbers and booleans")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, jsonError(err)
	}
	if len(m) > MaxVars {
		return nil, fieldError("vars", fmt.Sprintf("has %d entries; the limit is %d", len(m), MaxVars))
	}
	if len(m) == 0 {
		// Empty and absent mean the same; keeping one form makes decoded
		// frames compare equal after a round trip.
		return nil, nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Sorted, so the error reported for a frame with several bad vars does
	// not depend on map order.
	slices.Sort(keys)
	out := make(map[string]any, len(m))
	for _, k := range keys {
		if !isVarName(k) {
			return nil, fieldError("vars", "name "+quoteShort(k)+varNameRule)
		}
		v := m[k]
		var val any
		switch v[0] {
		case '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fieldError("vars."+k, "must be a valid string")
			}
			val = s
		case 't':
			val = true
		case 'f':
			val = false
		case 'n', '{', '[':
			return nil, fieldError("vars."+k, "must be a string, a number or a boolean")
		default:
			n, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return nil, fieldError("vars."+k, "must be a finite number")
			}
			val = n
		}
		if err := checkVar(k, val); err != nil {
			return nil, err
		}
		out[k] = val
	}
	return out, nil
}

func checkVar(name string, v any) error {
	switch v := v.(type) {
	case string:
		if len(v) > MaxVarValueBytes || !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return fieldError("vars."+name, fmt.Sprintf("must be at most %d bytes of UTF-8 without NUL characters", MaxVarValueBytes))
		}
	case bool, float64:
	default:
		return fieldError("vars."+name, "must be a string, a number or a boolean")
	}
	return nil
}

func isClientID(s string) bool {
	if s == "" || len(s) > MaxClientIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isVarName(s string) bool {
	if s == "" || len(s) > MaxVarNameBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || isAlnum(c) && (i > 0 || c > '9') {
			continue
		}
		return false
	}
	return true
}

func isLocale(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// isToken accepts printable ASCII except quote and backslash: enough for any
// signed-token encoding, and safe to log as is.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func isSignature(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '+' && c != '/' && c != '=' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// isLine refuses control characters (C0, DEL and C1), which have no place in
// one-line values and are how header and log injection starts.
func isLine(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return false
		}
	}
	return true
}

func isEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == ',' || r == ';' || r == '"' {
			return false
		}
	}
	return isLine(s)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
