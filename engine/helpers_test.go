package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Small builders keep the test graphs readable.

func en(s string) Text { return Text{"en": s} }

func greetNode(id, text string, replies ...string) Node {
	n := Node{ID: id, Kind: KindGreet, Greet: &GreetConfig{Text: en(text)}}
	for _, r := range replies {
		n.Greet.QuickReplies = append(n.Greet.QuickReplies, QuickReply{Value: r, Label: en(r)})
	}
	return n
}

func messageNode(id, text string) Node {
	return Node{ID: id, Kind: KindMessage, Message: &MessageConfig{Text: en(text)}}
}

func askNode(id, text string) Node {
	return Node{ID: id, Kind: KindMessage, Message: &MessageConfig{Text: en(text), AwaitReply: true}}
}

func endNode(id string) Node { return Node{ID: id, Kind: KindEnd} }

func branchNode(id string) Node { return Node{ID: id, Kind: KindBranch} }

func collectNode(id string, fields ...Field) Node {
	return Node{ID: id, Kind: KindCollect, Collect: &CollectConfig{Fields: fields}}
}

func field(name string, t FieldType, prompt string) Field {
	return Field{Var: name, Type: t, Prompt: en(prompt)}
}

func handoverNode(id string, wait int) Node {
	return Node{ID: id, Kind: KindHandover, Handover: &HandoverConfig{
		WaitSeconds: wait, OnlineText: en("Connecting you"), OfflineText: en("Nobody is free"),
	}}
}

func captureNode(id string) Node {
	return Node{ID: id, Kind: KindOfflineCapture, OfflineCapture: &CaptureConfig{
		Fields:  []Field{field("email", FieldEmail, "Your email?")},
		Confirm: en("Thanks, we will write to you"),
	}}
}

func edge(id, from, to string) Edge { return Edge{ID: id, From: from, To: to} }

func cond(id, from, to, condition string) Edge {
	return Edge{ID: id, From: from, To: to, Condition: condition}
}

func portEdge(id, from, port, to string) Edge { return Edge{ID: id, From: from, Port: port, To: to} }

func mustCompile(t testing.TB, g Graph) *Compiled {
	t.Helper()
	c, err := Compile(&g, Options{})
	require.NoError(t, err)
	return c
}

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// chat drives one conversation and records what the visitor saw.
type chat struct {
	t       testing.TB
	c       *Compiled
	s       State
	online  int
	said    []string
	effects []Effect
}

func newChat(t testing.TB, c *Compiled, online int) *chat {
	ch := &chat{t: t, c: c, online: online}
	ch.step(Event{Type: EventStart, Locale: "en"})
	return ch
}

func (ch *chat) step(ev Event) []string {
	ch.t.Helper()
	ev.AgentsOnline = ch.online
	s, eff, err := Step(ch.c, ch.s, ev, t0)
	require.NoError(ch.t, err)
	ch.s, ch.effects = s, eff
	var out []string
	for _, e := range eff {
		if e.Type == EffectSend {
			out = append(out, e.Message.Text)
		}
	}
	ch.said = out
	return out
}

func (ch *chat) say(text string) []string {
	ch.t.Helper()
	return ch.step(Event{Type: EventVisitorMessage, Text: text})
}

func (ch *chat) effect(t EffectType) *Effect {
	for i := range ch.effects {
		if ch.effects[i].Type == t {
			return &ch.effects[i]
		}
	}
	return nil
}
