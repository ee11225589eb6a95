package wire

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var created = time.Date(2025, 3, 1, 12, 30, 45, 123000000, time.UTC)

func sampleServerFrames() []ServerFrame {
	return []ServerFrame{
		&Welcome{ConversationID: "cv_1", Token: "tok.sig", LastSeq: 12,
			Assistant: Participant{Name: "Ava", AvatarURL: "https://cdn.example/a.png"}, Language: "en"},
		&Welcome{ConversationID: "cv_2", Token: "t", Assistant: Participant{Name: "Bot"}, Language: "de"},
		&Event{Seq: 13, ConversationID: "cv_1", Kind: KindMessage, Message: &Message{
			ID: "m_1", Author: AuthorBot, AuthorName: "Ava", Text: "Hi! <b>How</b> can I help? \"quoted\" \\ \n é 😀 \u2028",
			QuickReplies: []QuickReply{{Label: "Pricing", Value: "pricing"}, {Label: "Talk to a human", Value: "human"}},
			CreatedAt:    created}},
		&Event{Seq: 14, ConversationID: "cv_1", Kind: KindMessage, Message: &Message{
			ID: "m_2", Author: AuthorVisitor, Text: "pricing", ClientID: "c-1", CreatedAt: created}},
		&Event{Seq: 15, ConversationID: "cv_1", Kind: KindAgentJoined, Agent: &Participant{Name: "Sam"}},
		&Event{Seq: 16, ConversationID: "cv_1", Kind: KindClosed},
		&Ack{ClientID: "c-1", Seq: 14},
		&Ack{ClientID: "c-1", Seq: 14, Duplicate: true},
		&Typing{Author: AuthorAgent, Name: "Sam", On: true},
		&Typing{Author: AuthorBot},
		&Resync{Reason: ResyncGapTooOld},
		&ErrorFrame{Code: CodeInvalidField, Field: "text", Message: "is required"},
		&ErrorFrame{Code: CodeRateLimited, Message: "slow down"},
		&Pong{},
	}
}

func TestEncodeGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    interface{ AppendJSON([]byte) []byte }
		want string
	}{
		{&Welcome{ConversationID: "cv_1", Token: "tok.sig", LastSeq: 12, Assistant: Participant{Name: "Ava", AvatarURL: "https://cdn.example/a.png"}, Language: "en"},
			`{"type":"welcome","conversation_id":"cv_1","token":"tok.sig","last_seq":12,"assistant":{"name":"Ava","avatar_url":"https://cdn.example/a.png"},"language":"en"}`},
		{&Event{Seq: 13, ConversationID: "cv_1", Kind: KindMessage, Message: &Message{ID: "m_1", Author: AuthorBot, AuthorName: "Ava", Text: "Hi <b> & \"you\"\n",
			QuickReplies: []QuickReply{{Label: "Yes", Value: "y"}, {Label: "No", Value: "n"}}, CreatedAt: created}},
			`{"type":"event","seq":13,"conversation_id":"cv_1","kind":"message","message":{"id":"m_1","author":"bot","author_name":"Ava","text":"Hi <b> & \"you\"\n","quick_replies":[{"label":"Yes","value":"y"},{"label":"No","value":"n"}],"created_at":"2025-03-01T12:30:45.123Z"}}`},
		{&Event{Seq: 14, ConversationID: "cv_1", Kind: KindMessage, Message: &Message{ID: "m_2", Author: AuthorVisitor, Text: "hi", ClientID: "c-1", CreatedAt: created}},
			`{"type":"event","seq":14,"conversation_id":"cv_1","kind":"message","message":{"id":"m_2","author":"visitor","text":"hi","client_id":"c-1","created_at":"2025-03-01T12:30:45.123Z"}}`},
		{&Event{Seq: 15, ConversationID: "cv_1", Kind: KindAgentJoined, Agent: &Participant{Name: "Sam"}},
			`{"type":"event","seq":15,"conversation_id":"cv_1","kind":"agent_joined","agent":{"name":"Sam"}}`},
		{&Ack{ClientID: "c-1", Seq: 14, Duplicate: true}, `{"type":"ack","client_id":"c-1","seq":14,"duplicate":true}`},
		{&Ack{ClientID: "c-1", Seq: 14}, `{"type":"ack","client_id":"c-1","seq":14,"duplicate":false}`},
		{&Typing{Author: AuthorAgent, Name: "Sam", On: true}, `{"type":"typing","author":"agent","name":"Sam","on":true}`},
		{&Typing{Author: AuthorBot}, `{"type":"typing","author":"bot","on":false}`},
		{&Resync{Reason: ResyncMissed}, `{"type":"resync","reason":"missed"}`},
		{&ErrorFrame{Code: CodeInvalidField, Field: "text", Message: "is required"}, `{"type":"error","code":"invalid_field","message":"is required","field":"text"}`},
		{&Pong{}, `{"type":"pong"}`},
		{&Hello{}, `{"type":"hello"}`},
		{&Hello{Token: "t", LastSeq: 3, Locale: "en-US", PageURL: "https://a.example/", Referrer: "r", Vars: map[string]any{"b": true, "a": 1.5, "c": "x"},
			Identity: &Identity{ID: "u", Email: "e@x.y", Name: "N", Signature: "s"}},
			`{"type":"hello","token":"t","last_seq":3,"locale":"en-US","page_url":"https://a.example/","referrer":"r","vars":{"a":1.5,"b":true,"c":"x"},"identity":{"id":"u","email":"e@x.y","name":"N","signature":"s"}}`},
		{&ClientMessage{ClientID: "c", Text: "t", QuickReply: "q"}, `{"type":"message","client_id":"c","text":"t","quick_reply":"q"}`},
		{&ClientTyping{On: true}, `{"type":"typing","on":true}`},
		{&Resume{LastSeq: 9}, `{"type":"resume","last_seq":9}`},
		{&Ping{}, `{"type":"ping"}`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, string(tt.f.AppendJSON(nil)))
		// Appending keeps what the buffer held.
		require.Equal(t, "x"+tt.want, string(tt.f.AppendJSON([]byte("x"))))
		// json.Marshal goes through MarshalJSON and agrees (it re-escapes
		// <, > and & for HTML, which changes bytes, not values).
		m, err := json.Marshal(tt.f)
		require.NoError(t, err)
		require.JSONEq(t, tt.want, string(m))
	}
}

// TestEncodeAgreesWithEncodingJSON checks the hand-written encoders against
// encoding/json's reading of the same struct tags, so a field added to a
// struct but forgotten in AppendJSON is caught.
func TestEncodeAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, f := range sampleServerFrames() {
		got := Encode(f)
		require.True(t, json.Valid(got), "%s", got)
		var fromOurs, fromStd map[string]any
		require.NoError(t, json.Unmarshal(got, &fromOurs))
		require.NoError(t, json.Unmarshal(stdEncode(t, f), &fromStd))
		fromStd["type"] = f.Type()
		require.Equal(t, fromStd, fromOurs)
	}
}

// stdEncode marshals f with encoding/json, bypassing its MarshalJSON.
func stdEncode(t *testing.T, f ServerFrame) []byte {
	t.Helper()
	var v any
	switch f := f.(type) {
	case *Welcome:
		type plain Welcome
		v = (*plain)(f)
	case *Event:
		type plain Event
		v = (*plain)(f)
	case *Ack:
		type plain Ack
		v = (*plain)(f)
	case *Typing:
		type plain Typing
		v = (*plain)(f)
	case *Resync:
		type plain Resync
		v = (*plain)(f)
	case *ErrorFrame:
		type plain ErrorFrame
		v = (*plain)(f)
	case *Pong:
		type plain Pong
		v = (*plain)(f)
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "plain", `"quoted" \ back`, "\x00\x01\x1f\x7f", "\b\f\n\r\t", "<>&", "é😀\u2028\u2029",
		"bad \xff utf8 \xc3", "\xed\xa0\x80 surrogate", strings.Repeat("ab\n", 100),
	} {
		got := appendString(nil, s)
		require.True(t, json.Valid(got), "%q -> %s", s, got)
		var back string
		require.NoError(t, json.Unmarshal(got, &back))
		want := strings.ToValidUTF8(s, "\uFFFD")
		if want != s {
			// encoding/json replaces each invalid byte; ToValidUTF8 each run.
			want = stdRoundTrip(t, s)
		}
		require.Equal(t, want, back)
	}
	// DEL is not a JSON control character, so it passes through.
	require.Equal(t, `"\u0000\u001f`+"\x7f"+`"`, string(appendString(nil, "\x00\x1f\x7f")))
}

func stdRoundTrip(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var out string
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "é", "\xff", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		if !json.Valid(got) {
			t.Fatalf("invalid JSON %q for %q", got, s)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if want := stdRoundTrip(t, s); back != want {
			t.Fatalf("%q: got %q, encoding/json gives %q", s, back, want)
		}
	})
}

func TestAppendFloat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "-0"}, {1, "1"}, {-1.5, "-1.5"}, {100, "100"}, {1e20, "1e20"},
		{1e21, "1e21"}, {123456789, "123456789"}, {1e-7, "1e-7"}, {0.001, "1e-3"}, {0.01, "0.01"}, {1.5e-10, "1.5e-10"},
		{math.MaxFloat64, "1.7976931348623157e308"}, {5e-324, "5e-324"}, {math.NaN(), "null"}, {math.Inf(1), "null"},
	}
	for _, tt := range tests {
		got := string(appendFloat(nil, tt.f))
		require.Equal(t, tt.want, got, "%v", tt.f)
		if tt.want != "null" {
			back, err := strconv.ParseFloat(got, 64)
			require.NoError(t, err)
			require.Equal(t, tt.f, back)
		}
	}
}

func TestEventSeq(t *testing.T) {
	t.Parallel()
	for _, seq := range []int64{0, 1, 42, math.MaxInt64, -3} {
		frame := Encode(&Event{Seq: seq, ConversationID: "c", Kind: KindClosed})
		got, ok := EventSeq(frame)
		require.True(t, ok)
		require.Equal(t, seq, got)
	}
	for _, frame := range []string{``, `{"type":"event","seq":`, `{"type":"ack","seq":1}`, `{"type":"event","seq":x}`, `{"seq":1,"type":"event"}`} {
		_, ok := EventSeq([]byte(frame))
		require.False(t, ok, frame)
	}
}

func TestAppendJSONDoesNotAllocate(t *testing.T) {
	ev := sampleServerFrames()[2]
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() { buf = ev.AppendJSON(buf[:0]) })
	require.Zero(t, allocs)
}
