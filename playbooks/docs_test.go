package playbooks

import (
	"os"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/stretchr/testify/require"
)

// TestDocsExamples runs the examples of docs/playbook-format.md: the
// example playbook must validate cleanly and every example condition must
// compile, so the page cannot drift from the code.
func TestDocsExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/playbook-format.md")
	require.NoError(t, err)
	page := string(doc)

	example := codeBlock(t, page, "## An example", "```json")
	_, diags, err := Validate([]byte(example))
	require.NoError(t, err)
	require.Empty(t, diags)

	conditions := codeBlock(t, page, "Examples:", "```")
	g := engine.Graph{
		Start:     "ask",
		Variables: []engine.VariableDecl{{Name: "email", Type: engine.VarString}},
		Nodes: []engine.Node{
			{ID: "ask", Kind: engine.KindCollect, Collect: &engine.CollectConfig{Fields: []engine.Field{
				{Var: "budget", Type: engine.FieldNumber, Prompt: engine.Text{"en": "?"}},
				{Var: "company_size", Type: engine.FieldNumber, Prompt: engine.Text{"en": "?"}},
			}}},
			{ID: "end", Kind: engine.KindEnd},
		},
		LoopBreaker: &engine.LoopBreaker{To: "ask2"},
	}
	g.Nodes = append(g.Nodes, engine.Node{ID: "ask2", Kind: engine.KindOfflineCapture, OfflineCapture: &engine.CaptureConfig{
		Fields: []engine.Field{{Var: "name", Type: engine.FieldText, Prompt: engine.Text{"en": "?"}}}, Confirm: engine.Text{"en": "ok"}}})
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(conditions), "\n") {
		n++
		g.Edges = append(g.Edges, engine.Edge{ID: "e" + string(rune('a'+n)), From: "ask", Port: engine.PortDone, To: "end", Condition: strings.TrimSpace(line)})
	}
	g.Edges = append(g.Edges,
		engine.Edge{ID: "default", From: "ask", Port: engine.PortDone, To: "end"},
		engine.Edge{ID: "invalid", From: "ask", Port: engine.PortInvalid, To: "end"},
		engine.Edge{ID: "captured", From: "ask2", To: "end"})
	require.Greater(t, n, 5)
	_, err = engine.Compile(&g, engine.Options{})
	require.NoError(t, err)
}

// codeBlock returns the body of the first fenced block opening with fence
// after the heading.
func codeBlock(t *testing.T, page, heading, fence string) string {
	t.Helper()
	i := strings.Index(page, heading)
	require.GreaterOrEqual(t, i, 0, "no %q in the page", heading)
	rest := page[i:]
	j := strings.Index(rest, fence+"\n")
	require.GreaterOrEqual(t, j, 0)
	rest = rest[j+len(fence)+1:]
	k := strings.Index(rest, "```")
	require.GreaterOrEqual(t, k, 0)
	return rest[:k]
}
