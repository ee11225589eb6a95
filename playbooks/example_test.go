package playbooks_test

import (
	"context"
	"fmt"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/playbooks"
)

func ExampleValidate() {
	data := []byte(`{
  "frontdesk_playbook": 1,
  "name": "Hello",
  "start": "hi",
  "nodes": [
    {"id": "hi", "kind": "greet", "greet": {"text": {"en": "Hi!"}}},
    {"id": "bye", "kind": "end"}
  ],
  "edges": [
    {"id": "hi-bye", "from": "hi", "to": "bye", "condition": "visitor.is_new && vars.plan == \"pro\""}
  ]
}`)
	_, diags, err := playbooks.Validate(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range diags {
		fmt.Println(d)
	}
	// Output:
	// 10:86: error at node hi, edge hi-bye, condition (1:24): unknown variable vars.plan
	// 6:5: error at node hi, port next: dead end: when no condition of port "next" holds, the chat stops; add an edge with no condition last
	// warning at loop_breaker: the graph has no loop breaker
}

func ExampleDecode() {
	_, err := playbooks.Decode([]byte(`{"frontdesk_playbook": 1, "name": "x",
  "nodes": [{"id": "hi", "kind": "greet", "greeting": {}}]}`))
	fmt.Println(err)
	// Output:
	// 2:43: nodes[0].greeting: unknown field "greeting"; the fields allowed in nodes[0] are: id, kind, label, position, greet, message, collect, faq, llm_answer, handover, offline_capture, branch, set_variable, http_call, end
}

func ExampleSession() {
	f, err := playbooks.Template("live-chat")
	if err != nil {
		panic(err)
	}
	c, err := engine.Compile(&f.Graph, engine.Options{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	s := playbooks.NewSession(c, playbooks.SessionConfig{Locale: "en-US", AgentsOnline: 1})
	turn, _ := s.Start(ctx)
	fmt.Print(turn)
	// Nobody claims the chat: fast-forward the two-minute wait.
	turn, _ = s.FastForward(ctx)
	fmt.Print(turn)
	fmt.Println("waited", s.Now().Sub(playbooks.DefaultClock))
	// Output:
	// bot: Hi there! 👋 Let me find someone from our team for you.
	// bot: You're in the queue: an agent will be with you in a moment.
	// path: [greet connect]
	// bot: Our team isn't available right now. Leave us a message and we'll get back to you by email.
	// bot: What's your name?
	// path: [leave_message]
	// waited 2m0s
}
