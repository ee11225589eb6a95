package playbooks

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/stretchr/testify/require"
)

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	const head = `{"frontdesk_playbook": 1, "name": "x", `
	tests := []struct {
		name  string
		in    string
		line  int
		col   int
		field string
		msg   string // a substring of the message
	}{
		{"empty", "", 1, 1, "", "the file is empty"},
		{"spaces only", " \n ", 1, 1, "", "the file is empty"},
		{"array", `[1]`, 1, 1, "", "must be a JSON object, not array"},
		{"string", `  "x"`, 1, 3, "", "must be a JSON object, not string"},
		{"no version", `{"name": "x"}`, 1, 1, "", `"frontdesk_playbook" is missing`},
		{"newer version", `{"frontdesk_playbook": 2}`, 1, 24, "frontdesk_playbook", "format version 2 is newer than this Frontdesk reads (1)"},
		{"version zero", `{"frontdesk_playbook": 0}`, 1, 24, "frontdesk_playbook", "format version 0 is not supported"},
		{"version as a string", `{"frontdesk_playbook": "1"}`, 1, 24, "frontdesk_playbook", `must be the number 1, not "1"`},
		{"version checked before unknown fields", `{"future": true, "frontdesk_playbook": 3}`, 1, 40, "frontdesk_playbook", "format version 3"},
		{"syntax error", "{\"frontdesk_playbook\": 1,\n  \"nodes\": [}", 2, 13, "", "invalid character '}'"},
		{"truncated", "{\"frontdesk_playbook\": 1,\n  \"nodes\": [", 2, 13, "", "unexpected end of JSON input"},
		{"trailing data", `{"frontdesk_playbook": 1} {}`, 1, 27, "", "after top-level value"},
		{"trailing garbage", "{\"frontdesk_playbook\": 1}\nx", 2, 1, "", "after top-level value"},
		{"unknown field", head + "\n  \"bogus\": 1}", 2, 3, "bogus", `unknown field "bogus"; the fields allowed here are: frontdesk_playbook, name`},
		{"field case", head + `"Start": "a"}`, 1, 40, "Start", `did you mean "start"?`},
		{"unknown nested field", head + `"nodes": [{"id": "a", "kind": "end", "end": {"txt": {}}}]}`, 1, 85, "nodes[0].end.txt", `unknown field "txt"; the fields allowed in nodes[0].end are: text`},
		{"duplicate field", head + `"start": "a", "start": "b"}`, 1, 54, "start", `the field "start" appears twice`},
		{"duplicate language", head + `"nodes": [{"id": "a", "kind": "end", "end": {"text": {"en": "a", "en": "b"}}}]}`, 1, 105, "nodes[0].end.text.en", `the key "en" appears twice`},
		{"wrong type", head + "\n\"nodes\": [{\"id\": 5}]}", 2, 18, "nodes[0].id", "expected a string, found the number 5"},
		{"null string", head + `"start": null}`, 1, 49, "start", "expected a string, found null"},
		{"object for array", head + `"edges": {}}`, 1, 49, "edges", "expected an array, found an object"},
		{"fraction for integer", head + `"loop_breaker": {"to": "a", "threshold": 2.5}}`, 1, 81, "loop_breaker.threshold", "expected a whole number, found 2.5"},
		{"integer overflow", head + `"loop_breaker": {"to": "a", "threshold": 99999999999999999999}}`, 1, 81, "loop_breaker.threshold", "out of range"},
		{"float overflow", head + `"nodes": [{"id": "a", "kind": "end", "position": {"x": 1e999, "y": 0}}]}`, 1, 95, "nodes[0].position.x", "out of range"},
		{"column counts characters", `{"frontdesk_playbook": 1, "name": "café ☕", "x": 1}`, 1, 45, "x", `unknown field "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Decode([]byte(tt.in))
			require.Nil(t, f)
			var de *DecodeError
			require.True(t, errors.As(err, &de), "want a *DecodeError, got %T: %v", err, err)
			require.Contains(t, de.Message, tt.msg)
			require.Equal(t, tt.field, de.Field, "field")
			require.Equal(t, [2]int{tt.line, tt.col}, [2]int{de.Line, de.Column}, "line:column of %v", de)
		})
	}
}

func TestDecodeSizeLimit(t *testing.T) {
	t.Parallel()
	// A valid file padded with spaces to one byte over the limit: the size
	// alone refuses it.
	data, err := TemplateSource("live-chat")
	require.NoError(t, err)
	big := append(bytes.Repeat([]byte(" "), MaxFileSize+1-len(data)), data...)
	_, err = Decode(big)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	require.Contains(t, de.Message, "the limit is 4194304 bytes")
	require.Zero(t, de.Line)

	// Read stops reading past the limit instead of buffering everything.
	_, err = Read(repeatReader(' ', MaxFileSize*4))
	require.ErrorAs(t, err, &de)

	// At exactly the limit, the same file decodes.
	_, err = Decode(big[1:])
	require.NoError(t, err)
}

// repeatReader returns a reader of n bytes b.
func repeatReader(b byte, n int) *bytes.Reader { return bytes.NewReader(bytes.Repeat([]byte{b}, n)) }

func TestDecodeAcceptsByteOrderMark(t *testing.T) {
	t.Parallel()
	f, err := Decode([]byte("\xef\xbb\xbf" + `{"frontdesk_playbook": 1, "name": "x", "start": "a", "nodes": [], "edges": []}`))
	require.NoError(t, err)
	require.Equal(t, "x", f.Name)
}

func TestDecodeNormalizesEmptyLists(t *testing.T) {
	t.Parallel()
	f, err := Decode([]byte(`{"frontdesk_playbook": 1, "name": "x", "start": "a", "languages": [], "nodes": [],
		"edges": [], "global_rules": [], "variables": []}`))
	require.NoError(t, err)
	require.Nil(t, f.Languages)
	require.Nil(t, f.Nodes)
	g, err := Decode(mustEncode(t, f))
	require.NoError(t, err)
	require.Equal(t, f, g)
}

func TestEncodeIsCanonical(t *testing.T) {
	t.Parallel()
	f := &File{Name: "Links & <b>", Graph: engine.Graph{Start: "a", Nodes: []engine.Node{{
		ID: "a", Kind: engine.KindEnd, End: &engine.EndConfig{Text: engine.Text{"fr": "b", "en": "see <https://x.example/?a=1&b=2>"}},
	}}}}
	out := string(mustEncode(t, f))
	require.Equal(t, `{
  "frontdesk_playbook": 1,
  "name": "Links & <b>",
  "start": "a",
  "nodes": [
    {
      "id": "a",
      "kind": "end",
      "end": {
        "text": {
          "en": "see <https://x.example/?a=1&b=2>",
          "fr": "b"
        }
      }
    }
  ],
  "edges": []
}
`, out)
}

func TestTemplatesRoundTrip(t *testing.T) {
	t.Parallel()
	names := TemplateNames()
	require.Equal(t, []string{"freelancer-assistant", "lead-qualification", "live-chat", "support-deflection"}, names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := Template(name)
			require.NoError(t, err)
			requireRoundTrip(t, f)
		})
	}
}

// TestGeneratedRoundTrip round-trips files generated at random over every
// field of the format, with awkward strings and numbers.
func TestGeneratedRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		f := randomFile(r)
		data := mustEncode(t, f)
		g, err := Decode(data)
		require.NoError(t, err, "file %d:\n%s", i, data)
		require.Equal(t, f, g, "file %d", i)
		requireRoundTrip(t, g)
	}
}

func requireRoundTrip(t *testing.T, f *File) {
	t.Helper()
	data := mustEncode(t, f)
	g, err := Decode(data)
	require.NoError(t, err)
	require.Equal(t, f, g)
	require.Equal(t, string(data), string(mustEncode(t, g)), "Encode is not stable")
}

func mustEncode(t testing.TB, f *File) []byte {
	t.Helper()
	data, err := Encode(f)
	require.NoError(t, err)
	return data
}

var awkward = []string{"", "a", "é", "日本語", "emoji 👋", "quote \" and \\ backslash", "<script>&amp;", "line\nbreak\ttab",
	"\u2028\u2029", "{{vars.name}}", "nul\x00byte", "`backtick`", strings.Repeat("long ", 40)}

func randomFile(r *rand.Rand) *File {
	str := func() string { return awkward[r.IntN(len(awkward))] }
	nonEmpty := func() string {
		if s := str(); s != "" {
			return s
		}
		return "x"
	}
	text := func() engine.Text {
		if r.IntN(4) == 0 {
			return nil
		}
		t := engine.Text{"en": str()}
		if r.IntN(2) == 0 {
			t["fr"] = str()
		}
		return t
	}
	num := func() *float64 {
		if r.IntN(2) == 0 {
			return nil
		}
		v := []float64{0, -1, 1.5, 1e300, -2.5e-300, 123456789012345}[r.IntN(6)]
		return &v
	}
	replies := func() []engine.QuickReply {
		var out []engine.QuickReply
		for i := r.IntN(3); i > 0; i-- {
			out = append(out, engine.QuickReply{Value: nonEmpty(), Label: text()})
		}
		return out
	}
	fields := func() []engine.Field {
		var out []engine.Field
		for i := r.IntN(3); i > 0; i-- {
			out = append(out, engine.Field{Var: nonEmpty(), Type: engine.FieldType(nonEmpty()), Prompt: text(), Reask: text(),
				Choices: replies(), Min: num(), Max: num(), Optional: r.IntN(2) == 0})
		}
		return out
	}
	f := &File{Format: FormatVersion, Name: str(), Description: str()}
	f.DefaultLanguage = str()
	if r.IntN(2) == 0 {
		f.Languages = []string{nonEmpty(), nonEmpty()}
	}
	f.Start = str()
	if r.IntN(2) == 0 {
		f.Variables = []engine.VariableDecl{{Name: str(), Type: engine.VarType(str())}}
	}
	for i := r.IntN(len(engine.Kinds) + 2); i > 0; i-- {
		n := engine.Node{ID: str(), Kind: engine.Kinds[r.IntN(len(engine.Kinds))], Label: str()}
		if r.IntN(2) == 0 {
			n.Position = &engine.Position{X: *orZero(num()), Y: -3}
		}
		switch r.IntN(11) {
		case 0:
			n.Greet = &engine.GreetConfig{Text: text(), OfflineText: text(), QuickReplies: replies(), AwaitReply: true, SaveAs: str()}
		case 1:
			n.Message = &engine.MessageConfig{Text: text(), QuickReplies: replies(), SaveAs: str(), DelayMS: r.IntN(20000) - 10}
		case 2:
			n.Collect = &engine.CollectConfig{Fields: fields(), Retries: r.IntN(5)}
		case 3:
			n.FAQ = &engine.AnswerConfig{Prompt: text(), NoMatch: text()}
		case 4:
			n.LLMAnswer = &engine.AnswerConfig{}
		case 5:
			n.Handover = &engine.HandoverConfig{WaitSeconds: r.IntN(1000), OnlineText: text(), OfflineText: text(), JoinedText: text()}
		case 6:
			n.OfflineCapture = &engine.CaptureConfig{Create: str(), Intro: text(), Fields: fields(), Confirm: text(), Retries: 1}
		case 7:
			n.Branch = &engine.BranchConfig{}
		case 8:
			n.SetVariable = &engine.SetVariableConfig{Assignments: []engine.Assignment{{Var: str(), Value: str()}}}
		case 9:
			n.HTTPCall = &engine.HTTPCallConfig{Method: str(), URL: str(), Headers: map[string]string{"X-A": str(), str() + "k": str()},
				Body: str(), TimeoutMS: r.IntN(100), Map: []engine.ResponseMapping{{Var: str(), Path: str(), Type: engine.VarType(str())}}}
		case 10:
			n.End = &engine.EndConfig{Text: text()}
		}
		f.Nodes = append(f.Nodes, n)
	}
	for i := r.IntN(4); i > 0; i-- {
		f.Edges = append(f.Edges, engine.Edge{ID: str(), From: str(), Port: str(), To: str(), Condition: str()})
	}
	if r.IntN(2) == 0 {
		f.Rules = []engine.Rule{{ID: str(), Label: str(), Condition: str(), To: str(), Disabled: r.IntN(2) == 0}}
	}
	if r.IntN(2) == 0 {
		f.LoopBreaker = &engine.LoopBreaker{Threshold: r.IntN(30) - 5, To: str()}
	}
	normalizeFile(f)
	return f
}

func orZero(p *float64) *float64 {
	if p == nil {
		return new(float64)
	}
	return p
}

// normalizeFile applies Decode's normalization, so that a generated file
// can be compared with its decoded copy.
func normalizeFile(f *File) {
	normalize(reflect.ValueOf(f).Elem())
}

func TestDecodeErrorString(t *testing.T) {
	t.Parallel()
	e := &DecodeError{Line: 3, Column: 7, Field: "nodes[0].kind", Message: "expected a string, found null"}
	require.Equal(t, "3:7: nodes[0].kind: expected a string, found null", e.Error())
	require.Equal(t, "the file is empty", (&DecodeError{Message: "the file is empty"}).Error())
	require.Equal(t, "x: y", fmt.Sprint(&DecodeError{Field: "x", Message: "y"}))
}
