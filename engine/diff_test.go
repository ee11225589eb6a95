package engine

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// diffBase is the old graph most cases edit.
func diffBase() Graph {
	g := Graph{
		DefaultLanguage: "en",
		Start:           "greet",
		Nodes: []Node{
			greetNode("greet", "Hello", "sales", "support"),
			messageNode("info", "We sell things"),
			handoverNode("human", 60),
			endNode("end"),
		},
		Edges: []Edge{
			cond("e1", "greet", "info", `message.choice == "sales"`),
			edge("e2", "greet", "human"),
			edge("e3", "info", "end"),
			portEdge("e4", "human", PortTimedOut, "end"),
		},
		Rules: []Rule{{ID: "r1", Condition: `message.text contains "human"`, To: "human"}},
	}
	g.Nodes[0].Position = &Position{X: 0, Y: 0}
	return g
}

func TestDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(g *Graph)
		want GraphDiff
	}{
		{
			name: "identical",
			edit: func(*Graph) {},
			want: GraphDiff{},
		},
		{
			name: "node added and removed",
			edit: func(g *Graph) {
				g.Nodes = append(g.Nodes[:1], g.Nodes[2:]...) // drop "info"
				g.Nodes = append(g.Nodes, captureNode("capture"), messageNode("bye", "Bye"))
			},
			want: GraphDiff{NodesAdded: []string{"capture", "bye"}, NodesRemoved: []string{"info"}},
		},
		{
			name: "node text changed",
			edit: func(g *Graph) { g.Nodes[1].Message.Text["en"] = "We sell better things" },
			want: GraphDiff{NodesChanged: []Change{{ID: "info", Fields: []string{"message.text"}}}},
		},
		{
			name: "node kind changed replaces its configuration",
			edit: func(g *Graph) { g.Nodes[1] = askNode("info", "Tell me more") },
			want: GraphDiff{NodesChanged: []Change{{ID: "info", Fields: []string{"message.await_reply", "message.text"}}}},
		},
		{
			name: "node kind and configuration",
			edit: func(g *Graph) { g.Nodes[1] = branchNode("info") },
			want: GraphDiff{NodesChanged: []Change{{ID: "info", Fields: []string{"kind", "message"}}}},
		},
		{
			name: "several fields, sorted",
			edit: func(g *Graph) {
				g.Nodes[2].Label = "Ask a human"
				g.Nodes[2].Handover.WaitSeconds = 90
				g.Nodes[2].Handover.JoinedText = en("{{agent.name}} is here")
			},
			want: GraphDiff{NodesChanged: []Change{{ID: "human", Fields: []string{"handover.joined_text", "handover.wait_seconds", "label"}}}},
		},
		{
			name: "moved only",
			edit: func(g *Graph) {
				g.Nodes[0].Position = &Position{X: 10, Y: 20}
				g.Nodes[3].Position = &Position{X: 5, Y: 5} // from none
			},
			want: GraphDiff{NodesMoved: []string{"greet", "end"}},
		},
		{
			name: "moved and changed is a change naming position",
			edit: func(g *Graph) {
				g.Nodes[0].Position = &Position{X: 10, Y: 20}
				g.Nodes[0].Greet.QuickReplies = g.Nodes[0].Greet.QuickReplies[:1]
			},
			want: GraphDiff{NodesChanged: []Change{{ID: "greet", Fields: []string{"greet.quick_replies", "position"}}}},
		},
		{
			name: "edges",
			edit: func(g *Graph) {
				g.Edges[0].Condition = `message.choice == "buy"`
				g.Edges[1].To = "end"
				g.Edges[1].Port = PortNext
				g.Edges = append(g.Edges[:2], g.Edges[3:]...) // drop e3
				g.Edges = append(g.Edges, edge("e5", "info", "human"))
			},
			want: GraphDiff{
				EdgesAdded:   []string{"e5"},
				EdgesRemoved: []string{"e3"},
				EdgesChanged: []Change{{ID: "e1", Fields: []string{"condition"}}, {ID: "e2", Fields: []string{"port", "to"}}},
			},
		},
		{
			name: "rules",
			edit: func(g *Graph) {
				g.Rules[0].Disabled = true
				g.Rules = append(g.Rules, Rule{ID: "r2", Condition: "vars.budget > 1000", To: "human"})
			},
			want: GraphDiff{
				RulesAdded:   []string{"r2"},
				RulesChanged: []Change{{ID: "r1", Fields: []string{"disabled"}}},
			},
		},
		{
			name: "rule removed",
			edit: func(g *Graph) { g.Rules = nil },
			want: GraphDiff{RulesRemoved: []string{"r1"}},
		},
		{
			name: "graph settings",
			edit: func(g *Graph) {
				g.Start = "info"
				g.DefaultLanguage = "fr"
				g.Languages = []string{"en"}
				g.Variables = []VariableDecl{{Name: "plan", Type: VarString}}
				g.LoopBreaker = &LoopBreaker{To: "human"}
			},
			want: GraphDiff{GraphChanged: []string{"start", "default_language", "languages", "variables", "loop_breaker"}},
		},
		{
			name: "empty and missing lists are the same",
			edit: func(g *Graph) {
				g.Languages = []string{}
				g.Rules[0].Label = ""
				g.Nodes[1].Message.QuickReplies = []QuickReply{}
			},
			want: GraphDiff{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := diffBase(), diffBase()
			tt.edit(&b)
			got := Diff(&a, &b)
			require.Equal(t, normalizeDiff(tt.want), got)
			require.Equal(t, got.Empty(), tt.name == "identical" || tt.name == "empty and missing lists are the same")
		})
	}
}

func TestDiffIsSymmetric(t *testing.T) {
	t.Parallel()
	a, b := diffBase(), diffBase()
	b.Nodes = append(b.Nodes[:1], b.Nodes[2:]...)
	b.Edges = append(b.Edges, edge("e9", "greet", "end"))
	forward, backward := Diff(&a, &b), Diff(&b, &a)
	require.Equal(t, forward.NodesRemoved, backward.NodesAdded)
	require.Equal(t, forward.EdgesAdded, backward.EdgesRemoved)
}

func TestDiffNilAndDuplicates(t *testing.T) {
	t.Parallel()
	g := diffBase()
	d := Diff(nil, &g)
	require.Equal(t, []string{"greet", "info", "human", "end"}, d.NodesAdded)
	require.Equal(t, []string{"start", "default_language"}, d.GraphChanged)
	require.True(t, func() bool { d := Diff(nil, nil); return d.Empty() }())

	// A draft may repeat an id; the first one counts, and the diff does not
	// fail or report the same id twice.
	dup := diffBase()
	dup.Nodes = append(dup.Nodes, messageNode("info", "a second info"))
	d = Diff(&g, &dup)
	require.True(t, d.Empty(), "%+v", d)
}

// The diff is part of the API: its JSON shape is fixed and empty lists are
// [] rather than null.
func TestDiffJSON(t *testing.T) {
	t.Parallel()
	a, b := diffBase(), diffBase()
	b.Nodes[1].Message.Text["en"] = "changed"
	raw, err := json.Marshal(Diff(&a, &b))
	require.NoError(t, err)
	require.JSONEq(t, `{
		"nodes_added": [], "nodes_removed": [], "nodes_moved": [],
		"nodes_changed": [{"id": "info", "fields": ["message.text"]}],
		"edges_added": [], "edges_removed": [], "edges_changed": [],
		"rules_added": [], "rules_removed": [], "rules_changed": [],
		"graph_changed": []
	}`, string(raw))
}

// normalizeDiff fills a table's expected diff with the empty lists Diff
// returns, so the table only spells out what changed.
func normalizeDiff(d GraphDiff) GraphDiff {
	for _, l := range []*[]string{&d.NodesAdded, &d.NodesRemoved, &d.NodesMoved, &d.EdgesAdded, &d.EdgesRemoved, &d.RulesAdded, &d.RulesRemoved, &d.GraphChanged} {
		if *l == nil {
			*l = []string{}
		}
	}
	for _, l := range []*[]Change{&d.NodesChanged, &d.EdgesChanged, &d.RulesChanged} {
		if *l == nil {
			*l = []Change{}
		}
	}
	return d
}
