package playbooks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/stretchr/testify/require"
)

// fuzzSeeds are broken or unusual files that start the fuzzer near the
// decoder's edges: wrong versions, duplicates, escapes, deep nesting.
var fuzzSeeds = []string{
	``,
	`{}`,
	`{"frontdesk_playbook": 2}`,
	`{"frontdesk_playbook": 1, "name": "x", "start": "a", "nodes": [], "edges": []} trailing`,
	`{"frontdesk_playbook": 1, "name": "x", "name": "y"}`,
	`{"frontdesk_playbook": 1, "name": "\u00e9\ud83d\udc4b\\", "Start": "a"}`,
	`{"frontdesk_playbook": 1, "name": "x", "start": "a", "nodes": [{"id": "a", "kind": "greet", "greet": {"text": {"en": "hi"}, "quick_replies": [{"value": "v", "label": {"en": "V"}}]}}], "edges": [{"id": "e", "from": "a", "to": "a", "condition": "message.choice == \"v\""}]}`,
	`{"frontdesk_playbook": 1, "name": "x", "start": "a", "nodes": [{"id": "a", "kind": "branch"}, {"id": "b", "kind": "branch"}], "edges": [{"id": "e", "from": "a", "to": "b"}, {"id": "f", "from": "b", "to": "a"}]}`,
	`{"frontdesk_playbook": 1, "name": "x", "start": "a", "nodes": [{"id": "a", "kind": "set_variable", "set_variable": {"assignments": [{"var": "n", "value": "vars.n + 1"}]}}], "edges": []}`,
	`{"frontdesk_playbook": 1, "name": "x", "start": "a", "nodes": [], "edges": [], "global_rules": [{"id": "r", "to": "a", "condition": "((((((((((((((((((((((((((1))))))))))))))))))))))))))"}]}`,
	`{"frontdesk_playbook": 1, "name": "x", "nodes": [{"position": {"x": 1e308, "y": -0}}]}`,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
}

// everyKind is a small valid graph with a node of every kind.
const everyKind = `{"frontdesk_playbook": 1, "name": "all", "start": "g", "variables": [{"name": "vip", "type": "bool"}],
"nodes": [
{"id": "g", "kind": "greet", "greet": {"text": {"en": "hi"}, "offline_text": {"en": "off"}, "quick_replies": [{"value": "a", "label": {"en": "A"}}], "save_as": "pick"}},
{"id": "m", "kind": "message", "message": {"text": {"en": "m {{vars.pick}}"}, "await_reply": true, "delay_ms": 5}},
{"id": "c", "kind": "collect", "collect": {"fields": [{"var": "n", "type": "number", "min": 0, "prompt": {"en": "n?"}}, {"var": "d", "type": "choice", "prompt": {"en": "d?"}, "choices": [{"value": "x", "label": {"en": "X"}}]}], "retries": 1}},
{"id": "f", "kind": "faq"},
{"id": "l", "kind": "llm_answer", "llm_answer": {"prompt": {"en": "ask"}, "no_match": {"en": "no"}}},
{"id": "h", "kind": "handover", "handover": {"wait_seconds": 5, "online_text": {"en": "on"}, "offline_text": {"en": "off"}}},
{"id": "o", "kind": "offline_capture", "offline_capture": {"fields": [{"var": "email", "type": "email", "prompt": {"en": "e?"}}], "confirm": {"en": "ok"}}},
{"id": "b", "kind": "branch"},
{"id": "s", "kind": "set_variable", "set_variable": {"assignments": [{"var": "k", "value": "vars.n * 2"}]}},
{"id": "x", "kind": "http_call", "http_call": {"method": "POST", "url": "https://example.com/{{vars.pick}}", "body": "{\"n\": \"{{vars.n}}\"}", "map": [{"var": "ok", "path": "ok", "type": "bool"}]}},
{"id": "e", "kind": "end", "end": {"text": {"en": "bye"}}}],
"edges": [
{"id": "1", "from": "g", "to": "m", "condition": "message.choice == \"a\" || vars.vip"},
{"id": "2", "from": "m", "to": "c"},
{"id": "3", "from": "c", "port": "done", "to": "f", "condition": "vars.n > 1"},
{"id": "4", "from": "c", "port": "done", "to": "b"},
{"id": "5", "from": "c", "port": "invalid", "to": "h"},
{"id": "6", "from": "f", "port": "matched", "to": "b"},
{"id": "7", "from": "f", "port": "not_matched", "to": "l"},
{"id": "8", "from": "l", "port": "answered", "to": "b"},
{"id": "9", "from": "l", "port": "handover", "to": "h"},
{"id": "10", "from": "h", "port": "claimed", "to": "e"},
{"id": "11", "from": "h", "port": "timed_out", "to": "o"},
{"id": "12", "from": "o", "to": "e"},
{"id": "13", "from": "b", "to": "s", "condition": "agents.online > 0 && business_hours && now.Hour() < 20"},
{"id": "14", "from": "b", "to": "e"},
{"id": "15", "from": "s", "to": "x"},
{"id": "16", "from": "x", "port": "success", "to": "e"},
{"id": "17", "from": "x", "port": "failure", "to": "h"}],
"global_rules": [{"id": "r", "condition": "lower(message.text) matches \"human\"", "to": "h"}],
"loop_breaker": {"threshold": 2, "to": "o"}}`

// FuzzDecode checks that Decode never panics, that whatever it accepts
// encodes and decodes back to an equal File, and that the engine's checks,
// the compiler and a short conversation on the result never panic either.
func FuzzDecode(f *testing.F) {
	for _, name := range TemplateNames() {
		data, err := TemplateSource(name)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	// Small valid graphs, so that mutations reach the compiler and the
	// engine rather than the decoder only.
	f.Add([]byte(httpGraph))
	f.Add([]byte(everyKind))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(data)
		if err != nil {
			var de *DecodeError
			require.True(t, errors.As(err, &de), "Decode returned a %T: %v", err, err)
			require.GreaterOrEqual(t, de.Line, 0)
			require.NotEmpty(t, de.Message)
			return
		}
		out, err := Encode(file)
		require.NoError(t, err)
		again, err := Decode(out)
		require.NoError(t, err, "Encode wrote what Decode refuses:\n%s", out)
		require.Equal(t, file, again)
		out2, err := Encode(again)
		require.NoError(t, err)
		require.Equal(t, string(out), string(out2))

		_, diags, err := Validate(data)
		require.NoError(t, err)
		c, err := engine.Compile(&file.Graph, engine.Options{})
		if err != nil {
			require.True(t, HasErrors(diags), "Compile failed but Validate found no error: %v", err)
			return
		}
		converse(c)
	})
}

// FuzzGraph mutates the templates' graphs where the JSON fuzzer rarely
// reaches: an edge's, a rule's and an assignment's expression, edge targets
// and ports, and the visitor's messages. The engine's checks and compiler
// must not panic on the result, and a conversation on what compiles must
// not either.
func FuzzGraph(f *testing.F) {
	f.Add(uint8(1), uint16(0), `message.choice == "quote"`, "Get a quote", []byte{})
	f.Add(uint8(1), uint16(5), `vars.budget >= 5000 || vars.company_size >= 200`, "250", []byte{0, 3, 1, 4})
	f.Add(uint8(0), uint16(0), `!visitor.is_new || vars.has_open_order`, "hello", []byte{2, 1, 3, 0})
	f.Add(uint8(3), uint16(2), `lower(message.text) matches "\\b(agent)\\b"`, "agent", []byte{4, 2, 5, 1})
	f.Add(uint8(2), uint16(1), `now.Hour() > 8 && business_hours && agents.online > 0`, "x", []byte{0, 0, 0, 0})
	f.Add(uint8(0), uint16(3), `all(1..10, {# > 0}) && len(split(message.text, " ")) < 5`, "a b c", []byte{3, 9})
	f.Fuzz(func(t *testing.T, tpl uint8, edge uint16, expr, say string, ops []byte) {
		names := TemplateNames()
		file, err := Template(names[int(tpl)%len(names)])
		require.NoError(t, err)
		g := &file.Graph
		g.Edges[int(edge)%len(g.Edges)].Condition = expr
		ports := []string{"", engine.PortNext, engine.PortDone, engine.PortInvalid, engine.PortMatched, engine.PortNotMatched,
			engine.PortAnswered, engine.PortHandover, engine.PortClaimed, engine.PortTimedOut, engine.PortSuccess, engine.PortFailure}
		for i := 0; i+1 < len(ops) && i < 64; i += 2 {
			arg := int(ops[i+1])
			e := &g.Edges[arg%len(g.Edges)]
			switch ops[i] % 6 {
			case 0:
				e.To = g.Nodes[(arg/7)%len(g.Nodes)].ID
			case 1:
				e.Port = ports[(arg/7)%len(ports)]
			case 2:
				e.Condition = ""
			case 3:
				g.Rules = append(g.Rules, engine.Rule{ID: "fuzz" + string(rune('a'+len(g.Rules))), Condition: expr, To: g.Nodes[arg%len(g.Nodes)].ID})
			case 4:
				g.Nodes = append(g.Nodes, engine.Node{ID: "set", Kind: engine.KindSetVariable,
					SetVariable: &engine.SetVariableConfig{Assignments: []engine.Assignment{{Var: "fuzzed", Value: expr}}}})
				g.Edges = append(g.Edges, engine.Edge{ID: "to-set", From: g.Start, To: "set"}, engine.Edge{ID: "from-set", From: "set", To: g.Start})
			case 5:
				g.LoopBreaker = &engine.LoopBreaker{Threshold: arg % 25, To: g.Nodes[arg%len(g.Nodes)].ID}
			}
		}
		_ = engine.Check(g, engine.Options{})
		c, err := engine.Compile(g, engine.Options{})
		if err != nil {
			return
		}
		converse(c, say)
	})
}

// converse runs a short conversation with every kind of action, ignoring
// errors: only a panic or a hang fails. says are extra visitor messages.
func converse(c *engine.Compiled, says ...string) {
	ctx := context.Background()
	s := NewSession(c, SessionConfig{AgentsOnline: 1, Visitor: engine.VisitorEnv{IsNew: true}})
	if _, err := s.Start(ctx); err != nil {
		return
	}
	for _, say := range says {
		_, _ = s.Say(ctx, say)
	}
	for _, step := range []func() (Turn, error){
		func() (Turn, error) { return s.Say(ctx, "hello") },
		func() (Turn, error) { return s.Say(ctx, "42") },
		func() (Turn, error) { return s.FastForward(ctx) },
		func() (Turn, error) { return s.Say(ctx, "ana@example.com") },
		func() (Turn, error) { return s.Claim(ctx, "Ana") },
		func() (Turn, error) { return s.HandBack(ctx, "") },
		func() (Turn, error) { return s.TakeOver(ctx, "Ben") },
		func() (Turn, error) { return s.Release(ctx) },
		func() (Turn, error) { return s.HandBack(ctx, c.Graph().Start) },
		func() (Turn, error) { return s.Say(ctx, "skip") },
		func() (Turn, error) { return s.Advance(ctx, time.Hour) },
	} {
		_, _ = step()
	}
}

// TestFuzzSeedsCompile keeps the valid seeds valid, so that the fuzzer
// starts from graphs the engine runs.
func TestFuzzSeedsCompile(t *testing.T) {
	t.Parallel()
	for _, src := range []string{httpGraph, everyKind} {
		f, err := Decode([]byte(src))
		require.NoError(t, err)
		c := compile(t, f)
		converse(c)
	}
}
