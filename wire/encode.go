package wire

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Encode returns f's JSON encoding in a new slice. Hot paths use
// f.AppendJSON with a reused buffer instead.
func Encode(f ServerFrame) []byte {
	return f.AppendJSON(make([]byte, 0, 128))
}

// EncodeClient returns f's JSON encoding in a new slice, for Go clients.
func EncodeClient(f ClientFrame) []byte {
	return f.AppendJSON(make([]byte, 0, 128))
}

// AppendJSON implements ServerFrame.
func (w *Welcome) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"welcome","conversation_id":`...)
	dst = appendString(dst, w.ConversationID)
	dst = append(dst, `,"token":`...)
	dst = appendString(dst, w.Token)
	dst = append(dst, `,"last_seq":`...)
	dst = strconv.AppendInt(dst, w.LastSeq, 10)
	dst = append(dst, `,"assistant":`...)
	dst = w.Assistant.appendJSON(dst)
	dst = append(dst, `,"language":`...)
	dst = appendString(dst, w.Language)
	return append(dst, '}')
}

func (p *Participant) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, p.Name)
	if p.AvatarURL != "" {
		dst = append(dst, `,"avatar_url":`...)
		dst = appendString(dst, p.AvatarURL)
	}
	return append(dst, '}')
}

// eventPrefix starts every encoded event; EventSeq relies on it.
const eventPrefix = `{"type":"event","seq":`

// AppendJSON implements ServerFrame. The encoding starts with
// {"type":"event","seq":N so EventSeq can read the seq without parsing.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, eventPrefix...)
	dst = strconv.AppendInt(dst, e.Seq, 10)
	dst = append(dst, `,"conversation_id":`...)
	dst = appendString(dst, e.ConversationID)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, e.Kind)
	if e.Message != nil {
		dst = append(dst, `,"message":`...)
		dst = e.Message.appendJSON(dst)
	}
	if e.Agent != nil {
		dst = append(dst, `,"agent":`...)
		dst = e.Agent.appendJSON(dst)
	}
	return append(dst, '}')
}

func (m *Message) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, m.ID)
	dst = append(dst, `,"author":`...)
	dst = appendString(dst, m.Author)
	if m.AuthorName != "" {
		dst = append(dst, `,"author_name":`...)
		dst = appendString(dst, m.AuthorName)
	}
	dst = append(dst, `,"text":`...)
	dst = appendString(dst, m.Text)
	if len(m.QuickReplies) > 0 {
		dst = append(dst, `,"quick_replies":[`...)
		for i := range m.QuickReplies {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"label":`...)
			dst = appendString(dst, m.QuickReplies[i].Label)
			dst = append(dst, `,"value":`...)
			dst = appendString(dst, m.QuickReplies[i].Value)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if m.ClientID != "" {
		dst = append(dst, `,"client_id":`...)
		dst = appendString(dst, m.ClientID)
	}
	dst = append(dst, `,"created_at":"`...)
	dst = m.CreatedAt.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, `"}`...)
}

// AppendJSON implements ServerFrame.
func (a *Ack) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"ack","client_id":`...)
	dst = appendString(dst, a.ClientID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, a.Seq, 10)
	dst = append(dst, `,"duplicate":`...)
	dst = strconv.AppendBool(dst, a.Duplicate)
	return append(dst, '}')
}

// AppendJSON implements ServerFrame.
func (t *Typing) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"typing","author":`...)
	dst = appendString(dst, t.Author)
	if t.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, t.Name)
	}
	dst = append(dst, `,"on":`...)
	dst = strconv.AppendBool(dst, t.On)
	return append(dst, '}')
}

// AppendJSON implements ServerFrame.
func (r *Resync) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"resync","reason":`...)
	dst = appendString(dst, r.Reason)
	return append(dst, '}')
}

// AppendJSON implements ServerFrame.
func (e *ErrorFrame) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"error","code":`...)
	dst = appendString(dst, string(e.Code))
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.Message)
	if e.Field != "" {
		dst = append(dst, `,"field":`...)
		dst = appendString(dst, e.Field)
	}
	return append(dst, '}')
}

// AppendJSON implements ServerFrame.
func (*Pong) AppendJSON(dst []byte) []byte {
	return append(dst, `{"type":"pong"}`...)
}

// AppendJSON implements ClientFrame. Vars are written in key order, so the
// encoding is deterministic.
func (h *Hello) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"hello"`...)
	if h.Token != "" {
		dst = append(dst, `,"token":`...)
		dst = appendString(dst, h.Token)
	}
	if h.LastSeq != 0 {
		dst = append(dst, `,"last_seq":`...)
		dst = strconv.AppendInt(dst, h.LastSeq, 10)
	}
	if h.Locale != "" {
		dst = append(dst, `,"locale":`...)
		dst = appendString(dst, h.Locale)
	}
	if h.PageURL != "" {
		dst = append(dst, `,"page_url":`...)
		dst = appendString(dst, h.PageURL)
	}
	if h.Referrer != "" {
		dst = append(dst, `,"referrer":`...)
		dst = appendString(dst, h.Referrer)
	}
	if len(h.Vars) > 0 {
		dst = append(dst, `,"vars":{`...)
		keys := make([]string, 0, len(h.Vars))
		for k := range h.Vars {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendVar(dst, h.Vars[k])
		}
		dst = append(dst, '}')
	}
	if h.Identity != nil {
		id := h.Identity
		dst = append(dst, `,"identity":{`...)
		if id.ID != "" {
			dst = append(dst, `"id":`...)
			dst = appendString(dst, id.ID)
			dst = append(dst, ',')
		}
		if id.Email != "" {
			dst = append(dst, `"email":`...)
			dst = appendString(dst, id.Email)
			dst = append(dst, ',')
		}
		if id.Name != "" {
			dst = append(dst, `"name":`...)
			dst = appendString(dst, id.Name)
			dst = append(dst, ',')
		}
		dst = append(dst, `"signature":`...)
		dst = appendString(dst, id.Signature)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendVar writes a var value. Types DecodeClient never produces (a Go
// caller's int, say) are written as null, which DecodeClient then refuses
// with a field error rather than guessing.
func appendVar(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendString(dst, v)
	case bool:
		return strconv.AppendBool(dst, v)
	case float64:
		return appendFloat(dst, v)
	}
	return append(dst, "null"...)
}

// AppendJSON implements ClientFrame.
func (m *ClientMessage) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"message","client_id":`...)
	dst = appendString(dst, m.ClientID)
	dst = append(dst, `,"text":`...)
	dst = appendString(dst, m.Text)
	if m.QuickReply != "" {
		dst = append(dst, `,"quick_reply":`...)
		dst = appendString(dst, m.QuickReply)
	}
	return append(dst, '}')
}

// AppendJSON implements ClientFrame.
func (t *ClientTyping) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"typing","on":`...)
	dst = strconv.AppendBool(dst, t.On)
	return append(dst, '}')
}

// AppendJSON implements ClientFrame.
func (r *Resume) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"type":"resume","last_seq":`...)
	dst = strconv.AppendInt(dst, r.LastSeq, 10)
	return append(dst, '}')
}

// AppendJSON implements ClientFrame.
func (*Ping) AppendJSON(dst []byte) []byte {
	return append(dst, `{"type":"ping"}`...)
}

// MarshalJSON implements json.Marshaler, so frames embedded in other JSON
// (logs, test fixtures) carry their type.
func (h *Hello) MarshalJSON() ([]byte, error) { return EncodeClient(h), nil }

// MarshalJSON implements json.Marshaler.
func (m *ClientMessage) MarshalJSON() ([]byte, error) { return EncodeClient(m), nil }

// MarshalJSON implements json.Marshaler.
func (t *ClientTyping) MarshalJSON() ([]byte, error) { return EncodeClient(t), nil }

// MarshalJSON implements json.Marshaler.
func (r *Resume) MarshalJSON() ([]byte, error) { return EncodeClient(r), nil }

// MarshalJSON implements json.Marshaler.
func (p *Ping) MarshalJSON() ([]byte, error) { return EncodeClient(p), nil }

// MarshalJSON implements json.Marshaler.
func (w *Welcome) MarshalJSON() ([]byte, error) { return Encode(w), nil }

// MarshalJSON implements json.Marshaler.
func (e *Event) MarshalJSON() ([]byte, error) { return Encode(e), nil }

// MarshalJSON implements json.Marshaler.
func (a *Ack) MarshalJSON() ([]byte, error) { return Encode(a), nil }

// MarshalJSON implements json.Marshaler.
func (t *Typing) MarshalJSON() ([]byte, error) { return Encode(t), nil }

// MarshalJSON implements json.Marshaler.
func (r *Resync) MarshalJSON() ([]byte, error) { return Encode(r), nil }

// MarshalJSON implements json.Marshaler.
func (e *ErrorFrame) MarshalJSON() ([]byte, error) { return Encode(e), nil }

// MarshalJSON implements json.Marshaler.
func (p *Pong) MarshalJSON() ([]byte, error) { return Encode(p), nil }

// EventSeq returns the seq of an event frame encoded by Event.AppendJSON
// without parsing it, and false for any other frame. The server uses it to
// skip live events a replay already sent.
func EventSeq(frame []byte) (int64, bool) {
	if len(frame) <= len(eventPrefix) || string(frame[:len(eventPrefix)]) != eventPrefix {
		return 0, false
	}
	rest := frame[len(eventPrefix):]
	end := 0
	if end < len(rest) && rest[end] == '-' {
		end++
	}
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. It escapes only what JSON
// requires: '"', '\\' and control characters (with the short forms where
// JSON has them). Invalid UTF-8 becomes U+FFFD, as in encoding/json, so the
// output is always valid. Unlike encoding/json it leaves <, >, & and
// U+2028/U+2029 alone: frames are read by JSON.parse, never spliced into
// HTML or script, and escaping them would make text grow on the wire.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendFloat writes f in the shorter of plain and exponent notation, with
// the fewest digits that read back as f, so a decoded number never
// re-encodes longer than it arrived. NaN and infinities, which JSON cannot
// carry, become null.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	var plain, exp, short [40]byte
	p := strconv.AppendFloat(plain[:0], f, 'f', -1, 64)
	e := strconv.AppendFloat(exp[:0], f, 'e', -1, 64)
	// Shorten "1e+20" to "1e20" and "1e-07" to "1e-7"; JSON allows both.
	// strconv always writes a sign and at least two exponent digits.
	if i := bytes.IndexByte(e, 'e'); i >= 0 {
		s := append(short[:0], e[:i+1]...)
		ex := e[i+1:]
		if ex[0] == '-' {
			s = append(s, '-')
		}
		ex = ex[1:]
		for len(ex) > 1 && ex[0] == '0' {
			ex = ex[1:]
		}
		e = append(s, ex...)
	}
	// Exponent notation of a whole mantissa ("1e2") is not shorter than
	// "100" and reads worse, so plain wins ties.
	if len(e) < len(p) {
		return append(dst, e...)
	}
	return append(dst, p...)
}
