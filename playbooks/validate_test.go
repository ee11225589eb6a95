package playbooks

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/stretchr/testify/require"
)

func TestTemplatesValidate(t *testing.T) {
	t.Parallel()
	for _, name := range TemplateNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := TemplateSource(name)
			require.NoError(t, err)
			f, diags, err := Validate(data)
			require.NoError(t, err)
			require.Empty(t, diags, "a template has no errors and no warnings")
			require.Equal(t, []string{"en", "fr"}, compile(t, f).Languages())
			require.NotNil(t, f.LoopBreaker, "every template has a loop breaker")
		})
	}
}

func compile(t *testing.T, f *File) *engine.Compiled {
	t.Helper()
	c, err := engine.Compile(&f.Graph, engine.Options{})
	require.NoError(t, err)
	return c
}

// want describes the diagnostic a broken playbook must produce: its code,
// what it names, its position inside a condition, and the text its file
// position points at.
type want struct {
	code       string
	node, edge string
	field      string
	line, col  int
	at         string
}

// TestBrokenTemplates breaks a copy of each template in one way and checks
// that Validate reports it with the right code, names and positions. The
// broken copy is re-encoded, so file positions are checked on the canonical
// layout.
func TestBrokenTemplates(t *testing.T) {
	t.Parallel()
	firstKind := func(f *File, k engine.Kind) int {
		for i, n := range f.Nodes {
			if n.Kind == k {
				return i
			}
		}
		panic("no node of kind " + k)
	}
	tests := []struct {
		name   string
		mutate func(f *File) want
	}{
		{"unknown variable in a condition", func(f *File) want {
			f.Edges[0].Condition = "vars.budgte > 10"
			return want{code: engine.CodeConditionType, edge: f.Edges[0].ID, field: "condition", line: 1, col: 6, at: "budgte > 10"}
		}},
		{"condition syntax", func(f *File) want {
			f.Edges[0].Condition = `message.text == "hi" &&`
			return want{code: engine.CodeConditionSyntax, edge: f.Edges[0].ID, field: "condition", line: 1, col: 23, at: `&"`}
		}},
		{"non-boolean condition", func(f *File) want {
			f.Edges[0].Condition = "message.text"
			return want{code: engine.CodeConditionType, edge: f.Edges[0].ID, field: "condition", line: 1, col: 1, at: "message.text"}
		}},
		{"error on the second line of a condition", func(f *File) want {
			f.Edges[1].Condition = "agents.online > 0 &&\n  vars.nope"
			return want{code: engine.CodeConditionType, edge: f.Edges[1].ID, field: "condition", line: 2, col: 8, at: "nope"}
		}},
		{"escapes before the error", func(f *File) want {
			f.Edges[0].Condition = `message.text == "é \"☕\"" && message.txt == ""`
			return want{code: engine.CodeConditionType, edge: f.Edges[0].ID, field: "condition", line: 1, col: 38, at: `txt == `}
		}},
		{"policy refusal in a global rule", func(f *File) want {
			f.Rules = append(f.Rules, engine.Rule{ID: "grow", Condition: `repeat("a", 1000) != ""`, To: f.Start})
			return want{code: engine.CodeConditionSyntax, field: "condition", line: 1, col: 1, at: `repeat(`}
		}},
		{"dangling edge", func(f *File) want {
			f.Edges[1].To = "nowhere"
			return want{code: engine.CodeDanglingEdge, edge: f.Edges[1].ID, field: "to", at: `"nowhere"`}
		}},
		{"dangling start", func(f *File) want {
			f.Start = "nope"
			return want{code: engine.CodeDanglingEdge, field: "start", at: `"nope"`}
		}},
		{"unreachable node", func(f *File) want {
			f.Nodes = append(f.Nodes, engine.Node{ID: "orphan", Kind: engine.KindEnd})
			return want{code: engine.CodeUnreachable, node: "orphan", at: "{\n      \"id\": \"orphan\""}
		}},
		{"missing text in the default language", func(f *File) want {
			i := firstKind(f, engine.KindGreet)
			text := engine.Text{"fr": f.Nodes[i].Greet.Text["fr"]}
			f.Nodes[i].Greet.Text = text
			return want{code: engine.CodeMissingTranslation, node: f.Nodes[i].ID, field: "greet.text.en", at: "{\n"}
		}},
		{"handover without a timed_out path", func(f *File) want {
			i := firstKind(f, engine.KindHandover)
			id := f.Nodes[i].ID
			var kept []engine.Edge
			for _, e := range f.Edges {
				if e.From != id || e.Port != engine.PortTimedOut {
					kept = append(kept, e)
				}
			}
			f.Edges = kept
			return want{code: engine.CodeHandoverNoTimeout, node: id, at: "{\n      \"id\": \"" + id + "\""}
		}},
		{"unknown port", func(f *File) want {
			f.Edges[0].Port = "claimed"
			return want{code: engine.CodeUnknownPort, edge: f.Edges[0].ID, field: "port", at: `"claimed"`}
		}},
	}
	for _, name := range TemplateNames() {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f, err := Template(name)
				require.NoError(t, err)
				w := tt.mutate(f)
				data := mustEncode(t, f)
				_, diags, err := Validate(data)
				require.NoError(t, err)
				require.True(t, HasErrors(diags))
				d := findDiagnostic(t, diags, w)
				require.Equal(t, engine.SeverityError, d.Severity)
				if w.line > 0 {
					require.Equal(t, [2]int{w.line, w.col}, [2]int{d.Line, d.Column}, "position in the condition: %s", d)
				}
				require.Positive(t, d.FileLine, "no file position: %s", d)
				require.True(t, strings.HasPrefix(textAt(data, d.FileLine, d.FileColumn), w.at),
					"%s points at %q, want %q", d, truncate(textAt(data, d.FileLine, d.FileColumn), 40), w.at)
			})
		}
	}
}

// TestBrokenTemplateFile breaks a template's own hand-written file by
// editing its text, as an admin would, and checks the file position.
func TestBrokenTemplateFile(t *testing.T) {
	t.Parallel()
	data, err := TemplateSource("lead-qualification")
	require.NoError(t, err)
	broken := bytes.Replace(data, []byte(`vars.company_size < 10`), []byte(`vars.company_sise < 10`), 1)
	require.NotEqual(t, data, broken)
	_, diags, err := Validate(broken)
	require.NoError(t, err)
	d := findDiagnostic(t, diags, want{code: engine.CodeConditionType, edge: "route-small", field: "condition"})
	require.Equal(t, "unknown variable vars.company_sise", d.Message)
	require.Equal(t, "edges[6].condition", d.Path)
	require.True(t, strings.HasPrefix(textAt(broken, d.FileLine, d.FileColumn), "company_sise < 10"), "%s", d)
	require.Regexp(t, `^\d+:\d+: error at node route, edge route-small, condition \(1:6\): unknown variable vars.company_sise$`, d.String())
}

func TestValidateFileChecks(t *testing.T) {
	t.Parallel()
	_, diags, err := Validate([]byte(`{"frontdesk_playbook": 1, "name": " ", "start": "e",
  "nodes": [{"id": "e", "kind": "end"}], "edges": []}`))
	require.NoError(t, err)
	require.Len(t, diags, 2)
	require.Equal(t, engine.CodeInvalid, diags[0].Code)
	require.Equal(t, "name", diags[0].Field)
	require.Equal(t, [2]int{1, 35}, [2]int{diags[0].FileLine, diags[0].FileColumn})
	require.Equal(t, engine.SeverityWarning, diags[1].Severity, "no loop breaker is a warning here")
	require.False(t, HasErrors(diags[1:]))
}

func TestValidateDecodeError(t *testing.T) {
	t.Parallel()
	f, diags, err := Validate([]byte(`{"frontdesk_playbook": 1, "nodes": [{"id": "a", "kind": "greet", "greet": {"txt": {}}}]}`))
	require.Nil(t, f)
	require.Nil(t, diags)
	var de *DecodeError
	require.True(t, errors.As(err, &de))
	require.Equal(t, "nodes[0].greet.txt", de.Field)
	require.Equal(t, 1, de.Line)
}

func findDiagnostic(t *testing.T, diags []Diagnostic, w want) Diagnostic {
	t.Helper()
	for _, d := range diags {
		if d.Code == w.code && (w.edge == "" || d.Edge == w.edge) && (w.node == "" || d.Node == w.node) &&
			(w.field == "" || d.Field == w.field) {
			return d
		}
	}
	var all []string
	for _, d := range diags {
		all = append(all, d.String())
	}
	require.Failf(t, "diagnostic not found", "want %+v among:\n%s", w, strings.Join(all, "\n"))
	return Diagnostic{}
}

// textAt returns data from a 1-based line and character column on.
func textAt(data []byte, line, col int) string {
	lines := strings.SplitAfter(string(data), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	l := []rune(lines[line-1])
	if col < 1 || col > len(l)+1 {
		return ""
	}
	return string(l[col-1:]) + strings.Join(lines[line:], "")
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
