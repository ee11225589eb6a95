package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeClientAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want ClientFrame
	}{
		{"hello minimal", `{"type":"hello"}`, &Hello{}},
		{"hello full", `{"type":"hello","token":"v1.abc-_~=.sig","last_seq":42,"locale":"en-US",
			"page_url":"https://shop.example/p?q=1#x","referrer":"android-app://com.example",
			"vars":{"plan":"pro","seats":3,"trial":false,"ratio":0.25,"_x":"","neg":-1e-7},
			"identity":{"id":"u_1","email":"a@b.example","name":"Ada Lovelace","signature":"c2ln+/=="}}`,
			&Hello{Token: "v1.abc-_~=.sig", LastSeq: 42, Locale: "en-US", PageURL: "https://shop.example/p?q=1#x",
				Referrer: "android-app://com.example",
				Vars:     map[string]any{"plan": "pro", "seats": 3.0, "trial": false, "ratio": 0.25, "_x": "", "neg": -1e-7},
				Identity: &Identity{ID: "u_1", Email: "a@b.example", Name: "Ada Lovelace", Signature: "c2ln+/=="}}},
		{"hello empty vars is no vars", `{"type":"hello","vars":{}}`, &Hello{}},
		{"hello null vars and identity", `{"type":"hello","vars":null,"identity":null}`, &Hello{}},
		{"hello identity by email only", `{"type":"hello","identity":{"email":"x@y.z","signature":"ab12"}}`,
			&Hello{Identity: &Identity{Email: "x@y.z", Signature: "ab12"}}},
		{"hello last_seq 0", `{"type":"hello","last_seq":0}`, &Hello{}},
		{"message", `{"type":"message","client_id":"c-1_A","text":"hi <b>&amp;</b> {{ 1+1 }}"}`,
			&ClientMessage{ClientID: "c-1_A", Text: "hi <b>&amp;</b> {{ 1+1 }}"}},
		{"message with quick reply", `{"type":"message","client_id":"c2","text":"Yes please","quick_reply":"yes"}`,
			&ClientMessage{ClientID: "c2", Text: "Yes please", QuickReply: "yes"}},
		{"message text at the limit", `{"type":"message","client_id":"c","text":"` + strings.Repeat("é", MaxTextBytes/2) + `"}`,
			&ClientMessage{ClientID: "c", Text: strings.Repeat("é", MaxTextBytes/2)}},
		{"message client_id at the limit", `{"type":"message","client_id":"` + strings.Repeat("a", MaxClientIDBytes) + `","text":"x"}`,
			&ClientMessage{ClientID: strings.Repeat("a", MaxClientIDBytes), Text: "x"}},
		{"message multi-line and escapes", `{"type":"message","client_id":"c","text":"a\nb\t\u00e9\ud83d\ude00"}`,
			&ClientMessage{ClientID: "c", Text: "a\nb\té😀"}},
		{"message lone surrogate becomes U+FFFD", `{"type":"message","client_id":"c","text":"\ud800"}`,
			&ClientMessage{ClientID: "c", Text: "\uFFFD"}},
		{"message whitespace only", `{"type":"message","client_id":"c","text":" "}`, &ClientMessage{ClientID: "c", Text: " "}},
		{"unknown members are ignored", `{"type":"message","client_id":"c","text":"x","future":{"a":[1]}}`,
			&ClientMessage{ClientID: "c", Text: "x"}},
		{"members of other frames are ignored", `{"type":"ping","text":"x","on":true}`, &Ping{}},
		{"typing on", `{"type":"typing","on":true}`, &ClientTyping{On: true}},
		{"typing off", `{"type":"typing","on":false}`, &ClientTyping{}},
		{"resume", `{"type":"resume","last_seq":7}`, &Resume{LastSeq: 7}},
		{"resume from zero", `{"type":"resume","last_seq":0}`, &Resume{}},
		{"ping", `{"type":"ping"}`, &Ping{}},
		{"whitespace around", " \n{ \"type\" : \"ping\" }\n", &Ping{}},
		{"depth at the limit in an unknown member", `{"type":"ping","x":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, &Ping{}},
		{"brackets inside strings do not count", `{"type":"message","client_id":"c","text":"` + strings.Repeat("[{", 100) + `\"]"}`,
			&ClientMessage{ClientID: "c", Text: strings.Repeat("[{", 100) + `"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeClient([]byte(tt.in))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.want.Type(), got.Type())
		})
	}
}

func TestDecodeClientRefuses(t *testing.T) {
	t.Parallel()
	msg := func(members string) string { return `{"type":"message","client_id":"c","text":"x"` + members + `}` }
	hello := func(members string) string { return `{"type":"hello"` + members + `}` }
	tests := []struct {
		name  string
		in    string
		code  ErrorCode
		field string
		text  string // a part of the message, when it matters
	}{
		// The frame as a whole.
		{"empty", ``, CodeBadFrame, "", "empty"},
		{"over the size limit", `{"type":"ping","pad":"` + strings.Repeat("a", MaxFrameBytes) + `"}`, CodeTooLarge, "", "limit is 16384"},
		{"invalid UTF-8", "{\"type\":\"message\",\"client_id\":\"c\",\"text\":\"\xff\"}", CodeBadFrame, "", "UTF-8"},
		{"not JSON", `hello`, CodeBadFrame, "", "not valid JSON"},
		{"truncated JSON", `{"type":"ping"`, CodeBadFrame, "", "not valid JSON"},
		{"trailing garbage", `{"type":"ping"} x`, CodeBadFrame, "", "not valid JSON"},
		{"raw control character in a string", "{\"type\":\"message\",\"client_id\":\"c\",\"text\":\"a\x01\"}", CodeBadFrame, "", "not valid JSON"},
		{"array", `[{"type":"ping"}]`, CodeBadFrame, "", "JSON object"},
		{"string", `"ping"`, CodeBadFrame, "", "JSON object"},
		{"null", `null`, CodeBadFrame, "type", ""},
		{"nested too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), CodeBadFrame, "", "deeper than 16"},
		{"nested too deep in a member", `{"type":"ping","x":` + strings.Repeat(`{"a":`, MaxDepth) + `1` + strings.Repeat("}", MaxDepth) + `}`, CodeBadFrame, "", "deeper"},
		{"deep and unbalanced", strings.Repeat("[", 100000), CodeTooLarge, "", ""},
		{"deep within the size limit", strings.Repeat("[", MaxFrameBytes), CodeBadFrame, "", "deeper"},
		// The type.
		{"no type", `{"text":"x"}`, CodeBadFrame, "type", `"type"`},
		{"type not a string", `{"type":1}`, CodeInvalidField, "type", "a string"},
		{"unknown type", `{"type":"subscribe"}`, CodeUnknownType, "type", `"subscribe"`},
		{"server type from a client", `{"type":"welcome"}`, CodeUnknownType, "type", ""},
		{"type is case sensitive", `{"type":"PING"}`, CodeUnknownType, "type", ""},
		{"long unknown type is not echoed whole", `{"type":"` + strings.Repeat("z", 1000) + `"}`, CodeUnknownType, "type", "…"},
		// message.
		{"message without client_id", `{"type":"message","text":"x"}`, CodeInvalidField, "client_id", ""},
		{"message client_id too long", `{"type":"message","client_id":"` + strings.Repeat("a", MaxClientIDBytes+1) + `","text":"x"}`, CodeInvalidField, "client_id", "1 to 64"},
		{"message client_id bad character", `{"type":"message","client_id":"a b","text":"x"}`, CodeInvalidField, "client_id", ""},
		{"message client_id unicode", `{"type":"message","client_id":"é","text":"x"}`, CodeInvalidField, "client_id", ""},
		{"message client_id number", `{"type":"message","client_id":1,"text":"x"}`, CodeInvalidField, "client_id", "a string"},
		{"message without text", `{"type":"message","client_id":"c"}`, CodeInvalidField, "text", "required"},
		{"message empty text", `{"type":"message","client_id":"c","text":""}`, CodeInvalidField, "text", "required"},
		{"message null text", `{"type":"message","client_id":"c","text":null}`, CodeInvalidField, "text", "required"},
		{"message text too long", `{"type":"message","client_id":"c","text":"` + strings.Repeat("a", MaxTextBytes+1) + `"}`, CodeInvalidField, "text", "4001 bytes"},
		{"message text too long in UTF-8", `{"type":"message","client_id":"c","text":"` + strings.Repeat("é", MaxTextBytes/2+1) + `"}`, CodeInvalidField, "text", ""},
		{"message text NUL", `{"type":"message","client_id":"c","text":"a\u0000b"}`, CodeInvalidField, "text", "NUL"},
		{"message text object", `{"type":"message","client_id":"c","text":{"a":1}}`, CodeInvalidField, "text", "a string"},
		{"message quick_reply too long", msg(`,"quick_reply":"` + strings.Repeat("q", MaxQuickReplyBytes+1) + `"`), CodeInvalidField, "quick_reply", ""},
		{"message quick_reply control", msg(`,"quick_reply":"a\nb"`), CodeInvalidField, "quick_reply", ""},
		{"message quick_reply bool", msg(`,"quick_reply":true`), CodeInvalidField, "quick_reply", ""},
		// typing, resume.
		{"typing without on", `{"type":"typing"}`, CodeInvalidField, "on", "required"},
		{"typing on string", `{"type":"typing","on":"yes"}`, CodeInvalidField, "on", "true or false"},
		{"resume without last_seq", `{"type":"resume"}`, CodeInvalidField, "last_seq", "required"},
		{"resume negative", `{"type":"resume","last_seq":-1}`, CodeInvalidField, "last_seq", "negative"},
		{"resume fraction", `{"type":"resume","last_seq":1.5}`, CodeInvalidField, "last_seq", "an integer"},
		{"resume overflow", `{"type":"resume","last_seq":99999999999999999999}`, CodeInvalidField, "last_seq", "an integer"},
		{"resume huge literal is not echoed whole", `{"type":"resume","last_seq":1` + strings.Repeat("0", 5000) + `}`, CodeInvalidField, "last_seq", "…"},
		{"resume string", `{"type":"resume","last_seq":"7"}`, CodeInvalidField, "last_seq", ""},
		// hello.
		{"hello negative last_seq", hello(`,"last_seq":-5`), CodeInvalidField, "last_seq", ""},
		{"hello token too long", hello(`,"token":"` + strings.Repeat("t", MaxTokenBytes+1) + `"`), CodeInvalidField, "token", ""},
		{"hello token with space", hello(`,"token":"a b"`), CodeInvalidField, "token", ""},
		{"hello token with newline", hello(`,"token":"a\nb"`), CodeInvalidField, "token", ""},
		{"hello token non-ASCII", hello(`,"token":"é"`), CodeInvalidField, "token", ""},
		{"hello locale bad", hello(`,"locale":"en US"`), CodeInvalidField, "locale", ""},
		{"hello locale too long", hello(`,"locale":"` + strings.Repeat("a", MaxLocaleBytes+1) + `"`), CodeInvalidField, "locale", ""},
		{"hello page_url javascript", hello(`,"page_url":"javascript:alert(1)"`), CodeInvalidField, "page_url", "http"},
		{"hello page_url relative", hello(`,"page_url":"/pricing"`), CodeInvalidField, "page_url", "http"},
		{"hello page_url CRLF", hello(`,"page_url":"https://a.example/\r\nX: y"`), CodeInvalidField, "page_url", ""},
		{"hello page_url too long", hello(`,"page_url":"https://a.example/` + strings.Repeat("p", MaxURLBytes) + `"`), CodeInvalidField, "page_url", ""},
		{"hello referrer control", hello(`,"referrer":"a\u0007"`), CodeInvalidField, "referrer", ""},
		{"hello referrer C1 control", hello(`,"referrer":"a\u0085"`), CodeInvalidField, "referrer", ""},
		{"hello vars array", hello(`,"vars":["a"]`), CodeInvalidField, "vars", "object"},
		{"hello vars string", hello(`,"vars":"a"`), CodeInvalidField, "vars", "object"},
		{"hello vars nested object", hello(`,"vars":{"a":{"b":1}}`), CodeInvalidField, "vars.a", "string, a number or a boolean"},
		{"hello vars array value", hello(`,"vars":{"a":[1]}`), CodeInvalidField, "vars.a", ""},
		{"hello vars null value", hello(`,"vars":{"a":null}`), CodeInvalidField, "vars.a", ""},
		{"hello vars infinite number", hello(`,"vars":{"deal":1e309}`), CodeInvalidField, "vars.deal", "finite"},
		{"hello vars negative infinite number", hello(`,"vars":{"deal":-1e309}`), CodeInvalidField, "vars.deal", "finite"},
		{"hello vars name with dot", hello(`,"vars":{"a.b":1}`), CodeInvalidField, "vars", `"a.b"`},
		{"hello vars name with digit first", hello(`,"vars":{"1a":1}`), CodeInvalidField, "vars", ""},
		{"hello vars empty name", hello(`,"vars":{"":1}`), CodeInvalidField, "vars", ""},
		{"hello vars name too long", hello(`,"vars":{"` + strings.Repeat("v", MaxVarNameBytes+1) + `":1}`), CodeInvalidField, "vars", ""},
		{"hello vars value too long", hello(`,"vars":{"a":"` + strings.Repeat("v", MaxVarValueBytes+1) + `"}`), CodeInvalidField, "vars.a", "1024"},
		{"hello vars value NUL", hello(`,"vars":{"a":"\u0000"}`), CodeInvalidField, "vars.a", "NUL"},
		{"hello too many vars", hello(`,"vars":{` + manyVars(MaxVars+1) + `}`), CodeInvalidField, "vars", "33 entries"},
		{"hello identity without signature", hello(`,"identity":{"id":"u1"}`), CodeInvalidField, "identity.signature", "required"},
		{"hello identity without id or email", hello(`,"identity":{"name":"x","signature":"ab"}`), CodeInvalidField, "identity", "id or an email"},
		{"hello identity email CRLF", hello(`,"identity":{"email":"a@b.c\r\nBcc: x@y.z","signature":"ab"}`), CodeInvalidField, "identity.email", ""},
		{"hello identity email without at", hello(`,"identity":{"email":"ab.c","signature":"ab"}`), CodeInvalidField, "identity.email", ""},
		{"hello identity email too long", hello(`,"identity":{"email":"a@` + strings.Repeat("b", MaxEmailBytes) + `","signature":"ab"}`), CodeInvalidField, "identity.email", ""},
		{"hello identity id too long", hello(`,"identity":{"id":"` + strings.Repeat("i", MaxIdentityIDBytes+1) + `","signature":"ab"}`), CodeInvalidField, "identity.id", ""},
		{"hello identity name control", hello(`,"identity":{"id":"u","name":"a\tb","signature":"ab"}`), CodeInvalidField, "identity.name", ""},
		{"hello identity signature bad characters", hello(`,"identity":{"id":"u","signature":"a b"}`), CodeInvalidField, "identity.signature", ""},
		{"hello identity email number", hello(`,"identity":{"email":7,"signature":"ab"}`), CodeInvalidField, "identity.email", "a string"},
		{"hello identity array", hello(`,"identity":[]`), CodeInvalidField, "identity", "an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := DecodeClient([]byte(tt.in))
			require.Nil(t, f)
			var fe *FrameError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tt.code, fe.Code, "message: %s", fe.Message)
			require.Equal(t, tt.field, fe.Field, "message: %s", fe.Message)
			require.Contains(t, fe.Message, tt.text)
			require.Less(t, len(fe.Message), 200, "an error message must not echo the input")
			// The error frame that answers it carries the same facts.
			ef := fe.Frame()
			require.Equal(t, ErrorFrame{Code: fe.Code, Field: fe.Field, Message: fe.Message}, *ef)
		})
	}
}

func manyVars(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"v`)
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(`":1`)
	}
	return b.String()
}

func TestFrameErrorText(t *testing.T) {
	t.Parallel()
	_, err := DecodeClient([]byte(`{"type":"message","client_id":"c","text":""}`))
	require.EqualError(t, err, "wire: invalid_field: text: is required")
	_, err = DecodeClient([]byte(`{"type":"nope"}`))
	require.EqualError(t, err, `wire: unknown_type: type: unknown frame type "nope"; a client sends hello, message, typing, resume or ping`)
	_, err = DecodeClient([]byte(`[]`))
	require.EqualError(t, err, "wire: bad_frame: a frame must be a JSON object, not array")
}

func TestHelloValidateGoValues(t *testing.T) {
	t.Parallel()
	// A Go caller can put any value in Vars; encoding writes unsupported
	// ones as null, which the server then refuses with a field error.
	h := &Hello{Vars: map[string]any{"n": 3}}
	require.Error(t, h.validate())
	_, err := DecodeClient(EncodeClient(h))
	var fe *FrameError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "vars.n", fe.Field)
}

func TestDecodeServer(t *testing.T) {
	t.Parallel()
	for _, f := range sampleServerFrames() {
		t.Run(f.Type(), func(t *testing.T) {
			t.Parallel()
			got, err := DecodeServer(Encode(f))
			require.NoError(t, err)
			require.Equal(t, f, got)
		})
	}
	t.Run("unknown type", func(t *testing.T) {
		t.Parallel()
		_, err := DecodeServer([]byte(`{"type":"presence","x":1}`))
		var fe *FrameError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, CodeUnknownType, fe.Code)
	})
	t.Run("too large", func(t *testing.T) {
		t.Parallel()
		_, err := DecodeServer([]byte(`{"type":"pong","x":"` + strings.Repeat("a", MaxServerFrameBytes) + `"}`))
		var fe *FrameError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, CodeTooLarge, fe.Code)
	})
	t.Run("wrong member type", func(t *testing.T) {
		t.Parallel()
		_, err := DecodeServer([]byte(`{"type":"ack","seq":"1"}`))
		var fe *FrameError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "seq", fe.Field)
	})
}

func TestCloseHelpers(t *testing.T) {
	t.Parallel()
	for code, name := range map[int]string{
		CloseNormal: "normal", CloseGoingAway: "going_away", ClosePolicy: "policy", CloseTooBig: "too_big",
		CloseInternal: "internal", CloseProtocol: "protocol", CloseUnauthorized: "unauthorized",
		CloseRateLimited: "rate_limited", CloseSlowConsumer: "slow_consumer", CloseIdleTimeout: "idle_timeout",
		CloseTooManyConnections: "too_many_connections", 4999: "unknown",
	} {
		require.Equal(t, name, CloseText(code))
	}
	require.Equal(t, "short", TrimCloseReason("short"))
	long := strings.Repeat("é", 100) // 200 bytes
	trimmed := TrimCloseReason(long)
	require.LessOrEqual(t, len(trimmed), MaxCloseReasonBytes)
	require.Equal(t, strings.Repeat("é", MaxCloseReasonBytes/2), trimmed, "cut on a rune boundary")
}
