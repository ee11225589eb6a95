package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// baseGraph is a small valid graph that every check case breaks one way.
func baseGraph() Graph {
	return Graph{
		Start: "g",
		Nodes: []Node{
			greetNode("g", "Hi! What brings you here?", "buy", "help"),
			collectNode("c", field("budget", FieldNumber, "Your budget?"), field("email", FieldEmail, "Your email?")),
			branchNode("b"),
			handoverNode("h", 60),
			captureNode("cap"),
			endNode("e"),
		},
		Edges: []Edge{
			cond("g-c", "g", "c", `message.choice == "buy"`),
			edge("g-h", "g", "h"),
			portEdge("c-b", "c", PortDone, "b"),
			portEdge("c-cap", "c", PortInvalid, "cap"),
			cond("b-h", "b", "h", "vars.budget >= 10000"),
			edge("b-cap", "b", "cap"),
			portEdge("h-e", "h", PortClaimed, "e"),
			portEdge("h-cap", "h", PortTimedOut, "cap"),
			edge("cap-e", "cap", "e"),
		},
		Rules:       []Rule{{ID: "human", Condition: `lower(message.text) contains "human"`, To: "h"}},
		LoopBreaker: &LoopBreaker{Threshold: 3, To: "h"},
	}
}

func TestCompileAcceptsBaseGraph(t *testing.T) {
	t.Parallel()
	g := baseGraph()
	c, err := Compile(&g, Options{})
	require.NoError(t, err)
	require.Empty(t, c.Warnings())
	require.Equal(t, map[string]VarType{"budget": VarNumber, "email": VarString}, c.Variables())
}

func findEdge(g *Graph, id string) *Edge {
	for i := range g.Edges {
		if g.Edges[i].ID == id {
			return &g.Edges[i]
		}
	}
	panic("no edge " + id)
}

func findNode(g *Graph, id string) *Node {
	for i := range g.Nodes {
		if g.Nodes[i].ID == id {
			return &g.Nodes[i]
		}
	}
	panic("no node " + id)
}

func TestChecks(t *testing.T) {
	t.Parallel()
	type want struct {
		code, node, edge, rule string
		line, column           int
		message                string
	}
	cases := []struct {
		name   string
		break_ func(g *Graph)
		want   []want
	}{
		{"unreachable node", func(g *Graph) {
			g.Nodes = append(g.Nodes, messageNode("lonely", "Nobody comes here"))
			g.Edges = append(g.Edges, edge("lonely-e", "lonely", "e"))
		}, []want{{code: CodeUnreachable, node: "lonely"}}},
		{"dangling edge", func(g *Graph) {
			findEdge(g, "cap-e").To = "nowhere"
		}, []want{{code: CodeDanglingEdge, edge: "cap-e", message: `"nowhere"`}, {code: CodeDeadEnd, node: "cap"}}},
		{"dead end without edges", func(g *Graph) {
			g.Edges = g.Edges[:len(g.Edges)-1] // drop cap-e
		}, []want{{code: CodeDeadEnd, node: "cap"}}},
		{"branch without default edge", func(g *Graph) {
			findEdge(g, "b-cap").Condition = "vars.budget < 10000"
		}, []want{{code: CodeDeadEnd, node: "b", message: "no condition"}}},
		{"condition syntax error with position", func(g *Graph) {
			findEdge(g, "b-h").Condition = "vars.budget >=\n  (10000"
		}, []want{{code: CodeConditionSyntax, edge: "b-h", node: "b", line: 2}}},
		{"non-boolean condition", func(g *Graph) {
			findEdge(g, "b-h").Condition = "vars.budget * 2"
		}, []want{{code: CodeConditionType, edge: "b-h", line: 1, column: 1, message: "true or false"}}},
		{"unknown variable", func(g *Graph) {
			findEdge(g, "b-h").Condition = "vars.budgte > 1"
		}, []want{{code: CodeConditionType, edge: "b-h", line: 1, column: 6, message: "unknown variable vars.budgte"}}},
		{"string compared with number", func(g *Graph) {
			findEdge(g, "b-h").Condition = `vars.email > 10`
		}, []want{{code: CodeConditionType, edge: "b-h", line: 1}}},
		{"unknown environment field", func(g *Graph) {
			findEdge(g, "b-h").Condition = `visitor.password == "x"`
		}, []want{{code: CodeConditionType, edge: "b-h", message: "visitor has no field password"}}},
		{"method call", func(g *Graph) {
			findEdge(g, "b-h").Condition = `vars.email.Contains("x")`
		}, []want{{code: CodeConditionSyntax, edge: "b-h", message: "method calls are not allowed"}}},
		{"clock builtin", func(g *Graph) {
			findEdge(g, "b-h").Condition = `now().Hour() > 9`
		}, []want{{code: CodeConditionSyntax, edge: "b-h"}}},
		{"cycle without input", func(g *Graph) {
			g.Nodes = append(g.Nodes, branchNode("b2"))
			findEdge(g, "b-cap").To = "b2"
			g.Edges = append(g.Edges, cond("b2-cap", "b2", "cap", "vars.budget > 5"), edge("b2-b", "b2", "b"))
		}, []want{{code: CodeCycleWithoutInput, node: "b", message: "b, b2"}}},
		{"missing text in the default language", func(g *Graph) {
			g.DefaultLanguage = "fr"
		}, []want{{code: CodeMissingTranslation, node: "g", message: "fr (default language)"}}},
		{"handover without timed_out path", func(g *Graph) {
			var kept []Edge
			for _, e := range g.Edges {
				if e.ID != "h-cap" {
					kept = append(kept, e)
				}
			}
			g.Edges = kept
		}, []want{{code: CodeHandoverNoTimeout, node: "h"}}},
		{"unknown port", func(g *Graph) {
			findEdge(g, "cap-e").Port = "maybe"
		}, []want{{code: CodeUnknownPort, node: "cap", message: `"maybe"`}}},
		{"edge out of an end node", func(g *Graph) {
			g.Edges = append(g.Edges, edge("e-g", "e", "g"))
		}, []want{{code: CodeUnknownPort, node: "e"}}},
		{"duplicate node id", func(g *Graph) {
			g.Nodes = append(g.Nodes, endNode("e"))
		}, []want{{code: CodeDuplicateID, node: "e"}}},
		{"config of another kind", func(g *Graph) {
			findNode(g, "g").Message = &MessageConfig{Text: en("x")}
		}, []want{{code: CodeInvalid, node: "g", message: "cannot carry message"}}},
		{"missing config", func(g *Graph) {
			findNode(g, "c").Collect = nil
		}, []want{{code: CodeInvalid, node: "c", message: "needs its collect settings"}}},
		{"loop breaker to a message node", func(g *Graph) {
			g.LoopBreaker.To = "g"
		}, []want{{message: "handover or offline_capture"}}},
		{"a trap without loop breaker", func(g *Graph) {
			g.LoopBreaker = nil
			g.Edges = g.Edges[1:]
			g.Edges = append(g.Edges, cond("g-h", "g", "h", `message.choice == "help"`))
			g.Edges = g.Edges[1:]
			g.Edges = append([]Edge{cond("g-c", "g", "c", `message.choice == "buy"`)}, g.Edges...)
		}, []want{{code: CodeNoLoopBreaker, node: "g"}}},
		{"variable with two types", func(g *Graph) {
			g.Variables = []VariableDecl{{Name: "budget", Type: VarString}}
		}, []want{{code: CodeVariable, node: "c", message: "budget"}}},
		{"bad field type", func(g *Graph) {
			findNode(g, "c").Collect.Fields[0].Type = "money"
		}, []want{{code: CodeInvalid, node: "c", message: `"money"`}}},
		{"global rule to nowhere", func(g *Graph) {
			g.Rules[0].To = "void"
		}, []want{{code: CodeDanglingEdge, rule: "human"}}},
		{"over-long text", func(g *Graph) {
			findNode(g, "g").Greet.Text = en(strings.Repeat("a", DefaultLimits.MaxTextLength+1))
		}, []want{{code: CodeLimit, node: "g"}}},
		{"over-long condition", func(g *Graph) {
			findEdge(g, "b-h").Condition = strings.Repeat("true && ", 200) + "true"
		}, []want{{code: CodeConditionSyntax, edge: "b-h", message: "limit is 1000"}}},
		{"deep parentheses", func(g *Graph) {
			findEdge(g, "b-h").Condition = strings.Repeat("(", 40) + "true" + strings.Repeat(")", 40)
		}, []want{{code: CodeConditionSyntax, edge: "b-h", message: "nests"}}},
		{"deep unary operators", func(g *Graph) {
			findEdge(g, "b-h").Condition = strings.Repeat("!", 60) + "true"
		}, []want{{code: CodeConditionSyntax, edge: "b-h", message: "nests"}}},
		{"http call to a bad scheme", func(g *Graph) {
			n := findNode(g, "b")
			*n = Node{ID: "b", Kind: KindHTTPCall, HTTPCall: &HTTPCallConfig{Method: "GET", URL: "file:///etc/passwd"}}
			findEdge(g, "b-h").Port = PortSuccess
			findEdge(g, "b-h").Condition = ""
			findEdge(g, "b-cap").Port = PortFailure
		}, []want{{code: CodeInvalid, node: "b", message: "https://"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := baseGraph()
			tc.break_(&g)
			_, err := Compile(&g, Options{})
			require.Error(t, err)
			var ce *CheckError
			require.ErrorAs(t, err, &ce)
			errs := ce.Errors()
			for _, w := range tc.want {
				found := false
				for _, d := range errs {
					if (w.code == "" || d.Code == w.code) && (w.node == "" || d.Node == w.node) &&
						(w.edge == "" || d.Edge == w.edge) && (w.rule == "" || d.Rule == w.rule) &&
						(w.line == 0 || d.Line == w.line) && (w.column == 0 || d.Column == w.column) &&
						strings.Contains(d.Message, w.message) {
						found = true
					}
				}
				require.True(t, found, "want %+v among:\n%s", w, dump(errs))
			}
		})
	}
}

func dump(ds []Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintln(&b, d.String())
	}
	return b.String()
}

func TestCompileReturnsEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	g := baseGraph()
	findEdge(&g, "b-h").Condition = "vars.budget >"
	findEdge(&g, "g-c").Condition = "message.text + 1"
	g.Nodes = append(g.Nodes, messageNode("lonely", "x"))
	g.Edges = append(g.Edges, edge("lonely-e", "lonely", "e"), edge("x", "cap", "void"))
	diags := Check(&g, Options{})
	codes := map[string]bool{}
	for _, d := range diags {
		codes[d.Code] = true
	}
	for _, c := range []string{CodeConditionSyntax, CodeConditionType, CodeUnreachable, CodeDanglingEdge} {
		require.True(t, codes[c], "missing %s in\n%s", c, dump(diags))
	}
}

func TestCompileRefusesHugeGraphBeforeWork(t *testing.T) {
	t.Parallel()
	g := chainGraph(10_000, 2)
	_, err := Compile(&g, Options{})
	var ce *CheckError
	require.ErrorAs(t, err, &ce)
	require.Len(t, ce.Diagnostics, 1)
	require.Equal(t, CodeLimit, ce.Diagnostics[0].Code)
	require.Contains(t, ce.Diagnostics[0].Message, "limit is 2000")

	// An operator may raise the limit; the same graph then compiles.
	_, err = Compile(&g, Options{Limits: Limits{MaxNodes: 20_000, MaxEdges: 80_000}})
	require.NoError(t, err)
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	g := baseGraph()
	g.Edges = append(g.Edges, cond("b-late", "b", "e", "vars.budget > 1"))
	c, err := Compile(&g, Options{})
	require.NoError(t, err)
	require.Len(t, c.Warnings(), 1)
	require.Equal(t, CodeUnreachableEdge, c.Warnings()[0].Code)
	require.Equal(t, "b-late", c.Warnings()[0].Edge)
}

// chainGraph builds n nodes: a greet waiting for a reply, then a chain of
// message nodes that each wait and have edgesPerNode edges (all but the last
// conditional) to the next, ending in an end node.
func chainGraph(n, edgesPerNode int) Graph {
	g := Graph{Start: "n0", LoopBreaker: &LoopBreaker{To: "hand"}}
	g.Nodes = append(g.Nodes, handoverNode("hand", 30))
	g.Edges = append(g.Edges, portEdge("hand-c", "hand", PortClaimed, "end"), portEdge("hand-t", "hand", PortTimedOut, "end"))
	for i := 0; i < n-2; i++ {
		id := fmt.Sprintf("n%d", i)
		next := fmt.Sprintf("n%d", i+1)
		if i == n-3 {
			next = "end"
		}
		g.Nodes = append(g.Nodes, askNode(id, "Step "+id))
		for j := 0; j < edgesPerNode-1; j++ {
			g.Edges = append(g.Edges, cond(fmt.Sprintf("%s-%d", id, j), id, "hand", fmt.Sprintf(`message.text == "jump%d"`, j)))
		}
		g.Edges = append(g.Edges, edge(id+"-next", id, next))
	}
	g.Nodes = append(g.Nodes, endNode("end"))
	return g
}

func TestMissingTranslationIsAWarning(t *testing.T) {
	t.Parallel()
	g := baseGraph()
	g.Languages = []string{"fr"}
	c, err := Compile(&g, Options{})
	require.NoError(t, err, "a missing translation does not block publishing")
	found := false
	for _, w := range c.Warnings() {
		if w.Code == CodeMissingTranslation && w.Node == "g" && strings.Contains(w.Field, ".fr") {
			found = true
		}
	}
	require.True(t, found, "warnings: %v", c.Warnings())
}
