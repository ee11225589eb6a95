package engine

import (
	"encoding/json"
	"reflect"
	"sort"
)

// GraphDiff is what changed from one graph to another: the nodes, edges and
// global rules added, removed or changed (matched by id), and the graph's
// own settings that changed. Every list is non-nil, so it encodes as [].
type GraphDiff struct {
	// NodesAdded are the ids of nodes only in the new graph, in its order.
	NodesAdded []string `json:"nodes_added"`
	// NodesRemoved are the ids of nodes only in the old graph, in its order.
	NodesRemoved []string `json:"nodes_removed"`
	// NodesChanged are the nodes whose content changed, in the new graph's
	// order. Their Fields may include "position" when the node also moved.
	NodesChanged []Change `json:"nodes_changed"`
	// NodesMoved are the ids of nodes whose position is all that changed: the
	// builder's layout, which does not change what the bot does, so a
	// reviewer can ignore them.
	NodesMoved []string `json:"nodes_moved"`

	EdgesAdded   []string `json:"edges_added"`
	EdgesRemoved []string `json:"edges_removed"`
	EdgesChanged []Change `json:"edges_changed"`

	RulesAdded   []string `json:"rules_added"`
	RulesRemoved []string `json:"rules_removed"`
	RulesChanged []Change `json:"rules_changed"`

	// GraphChanged names the graph-level settings that changed, among
	// "start", "default_language", "languages", "variables" and
	// "loop_breaker", in that order.
	GraphChanged []string `json:"graph_changed"`
}

// Change is one node, edge or rule present in both graphs whose fields
// differ.
type Change struct {
	ID string `json:"id"`
	// Fields are the changed fields, sorted: top-level fields by their JSON
	// name ("kind", "label", "condition", "to"), and inside a node's
	// configuration one level down ("message.text",
	// "handover.wait_seconds"). A configuration added or removed as a whole
	// is named alone ("message").
	Fields []string `json:"fields"`
}

// Empty reports whether the graphs are the same, layout included.
func (d *GraphDiff) Empty() bool {
	return len(d.NodesAdded)+len(d.NodesRemoved)+len(d.NodesChanged)+len(d.NodesMoved)+
		len(d.EdgesAdded)+len(d.EdgesRemoved)+len(d.EdgesChanged)+
		len(d.RulesAdded)+len(d.RulesRemoved)+len(d.RulesChanged)+len(d.GraphChanged) == 0
}

// fieldPosition is the node field that only the builder's layout uses.
const fieldPosition = "position"

// Diff compares graph a (the old one) with graph b (the new one). It is
// pure and deterministic: the same graphs give the same diff, in the orders
// documented on GraphDiff. A nil graph is an empty one. Ids are matched as
// they are; should a graph repeat an id (only a draft can, since the checks
// refuse it), its first item with that id is compared and the others are
// ignored.
func Diff(a, b *Graph) GraphDiff {
	if a == nil {
		a = &Graph{}
	}
	if b == nil {
		b = &Graph{}
	}
	d := GraphDiff{
		NodesAdded: []string{}, NodesRemoved: []string{}, NodesChanged: []Change{}, NodesMoved: []string{},
		EdgesAdded: []string{}, EdgesRemoved: []string{}, EdgesChanged: []Change{},
		RulesAdded: []string{}, RulesRemoved: []string{}, RulesChanged: []Change{},
		GraphChanged: []string{},
	}

	na, nb := keyed(a.Nodes, func(n Node) string { return n.ID }), keyed(b.Nodes, func(n Node) string { return n.ID })
	d.NodesRemoved = missing(na, nb)
	d.NodesAdded = missing(nb, na)
	for _, id := range nb.order {
		old, ok := na.items[id]
		if !ok {
			continue
		}
		fields := changedFields(old, nb.items[id], 2)
		switch {
		case len(fields) == 0:
		case len(fields) == 1 && fields[0] == fieldPosition:
			d.NodesMoved = append(d.NodesMoved, id)
		default:
			d.NodesChanged = append(d.NodesChanged, Change{ID: id, Fields: fields})
		}
	}

	ea, eb := keyed(a.Edges, func(e Edge) string { return e.ID }), keyed(b.Edges, func(e Edge) string { return e.ID })
	d.EdgesRemoved = missing(ea, eb)
	d.EdgesAdded = missing(eb, ea)
	d.EdgesChanged = changes(ea, eb)

	ra, rb := keyed(a.Rules, func(r Rule) string { return r.ID }), keyed(b.Rules, func(r Rule) string { return r.ID })
	d.RulesRemoved = missing(ra, rb)
	d.RulesAdded = missing(rb, ra)
	d.RulesChanged = changes(ra, rb)

	if a.Start != b.Start {
		d.GraphChanged = append(d.GraphChanged, "start")
	}
	if a.DefaultLanguage != b.DefaultLanguage {
		d.GraphChanged = append(d.GraphChanged, "default_language")
	}
	if !sameJSON(a.Languages, b.Languages) {
		d.GraphChanged = append(d.GraphChanged, "languages")
	}
	if !sameJSON(a.Variables, b.Variables) {
		d.GraphChanged = append(d.GraphChanged, "variables")
	}
	if !sameJSON(a.LoopBreaker, b.LoopBreaker) {
		d.GraphChanged = append(d.GraphChanged, "loop_breaker")
	}
	return d
}

// index holds items by id, first occurrence winning, with the ids in order.
type index[T any] struct {
	items map[string]T
	order []string
}

func keyed[T any](list []T, id func(T) string) index[T] {
	ix := index[T]{items: make(map[string]T, len(list))}
	for _, it := range list {
		k := id(it)
		if _, dup := ix.items[k]; dup {
			continue
		}
		ix.items[k] = it
		ix.order = append(ix.order, k)
	}
	return ix
}

// missing returns the ids of from that to lacks, in from's order.
func missing[T any](from, to index[T]) []string {
	out := []string{}
	for _, id := range from.order {
		if _, ok := to.items[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// changes compares the items present in both, in b's order.
func changes[T any](a, b index[T]) []Change {
	out := []Change{}
	for _, id := range b.order {
		old, ok := a.items[id]
		if !ok {
			continue
		}
		if fields := changedFields(old, b.items[id], 1); len(fields) > 0 {
			out = append(out, Change{ID: id, Fields: fields})
		}
	}
	return out
}

// changedFields compares two values through their JSON form, which is the
// playbook format itself: a field the format omits when empty is the same
// whether it is nil or empty in Go, so a graph that went through a save and
// a load compares equal to itself. depth 2 looks one level into objects
// (a node's configuration); depth 1 names top-level fields only.
func changedFields(a, b any, depth int) []string {
	ma, aok := asObject(a)
	mb, bok := asObject(b)
	if !aok || !bok {
		// Only a graph built in Go can fail to encode (a NaN position);
		// compare it as a whole rather than fail the diff.
		if reflect.DeepEqual(a, b) {
			return nil
		}
		return []string{"*"}
	}
	var out []string
	for _, k := range unionKeys(ma, mb) {
		va, vb := ma[k], mb[k]
		if reflect.DeepEqual(va, vb) {
			continue
		}
		oa, aok := va.(map[string]any)
		ob, bok := vb.(map[string]any)
		if depth > 1 && aok && bok && k != fieldPosition {
			for _, sk := range unionKeys(oa, ob) {
				if !reflect.DeepEqual(oa[sk], ob[sk]) {
					out = append(out, k+"."+sk)
				}
			}
			continue
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func asObject(v any) (map[string]any, bool) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	return m, true
}

func unionKeys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func sameJSON(a, b any) bool {
	ra, errA := json.Marshal(a)
	rb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a, b)
	}
	// An empty list and no list are the same setting.
	if string(ra) == "[]" {
		ra = []byte("null")
	}
	if string(rb) == "[]" {
		rb = []byte("null")
	}
	return string(ra) == string(rb)
}
