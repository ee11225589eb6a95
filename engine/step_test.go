package engine

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStepLeadFlow(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, baseGraph())
	tests := []struct {
		name   string
		online int
		inputs []string
		said   [][]string
		path   []string
		status Status
	}{
		{
			name: "big budget goes to an agent", online: 1,
			inputs: []string{"buy", "$25,000", "ANA@Example.com"},
			said: [][]string{
				{"Your budget?"},
				{"Your email?"},
				{"Connecting you"},
			},
			path:   []string{"g", "c", "b", "h"},
			status: StatusWaitingAgent,
		},
		{
			name: "small budget becomes a lead", online: 1,
			inputs: []string{"Buy", "500", "ana@example.com", "ana@example.com"},
			said: [][]string{
				{"Your budget?"},
				{"Your email?"},
				{"Your email?"},
				{"Thanks, we will write to you"},
			},
			path:   []string{"g", "c", "b", "cap", "e"},
			status: StatusEnded,
		},
		{
			name: "invalid answers are re-asked, then the invalid port", online: 0,
			inputs: []string{"buy", "lots", "heaps"},
			said: [][]string{
				{"Your budget?"},
				{"That doesn't look right.", "Your budget?"},
				{"That doesn't look right.", "Your budget?"},
			},
			path:   []string{"g", "c"},
			status: StatusBot,
		},
		{
			name: "a global rule wins over the node's own edges", online: 0,
			inputs: []string{"buy", "I want a HUMAN now"},
			said: [][]string{
				{"Your budget?"},
				{"Nobody is free", "Your email?"},
			},
			path:   []string{"g", "c", "h", "cap"},
			status: StatusBot,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ch := newChat(t, c, tc.online)
			require.Equal(t, []string{"Hi! What brings you here?"}, ch.said)
			for i, in := range tc.inputs {
				got := ch.say(in)
				if i < len(tc.said) {
					require.Equal(t, tc.said[i], got, "after %q", in)
				}
			}
			require.Equal(t, tc.path, ch.s.Path)
			require.Equal(t, tc.status, ch.s.Status)
		})
	}
}

func TestCollectStoresTypedValues(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, baseGraph())
	ch := newChat(t, c, 0)
	ch.say("buy")
	ch.say("5k")
	ch.say("Ana@Example.COM")
	require.Equal(t, float64(5000), ch.s.Vars["budget"])
	require.Equal(t, "ana@example.com", ch.s.Vars["email"])
}

func TestCollectInvalidPortAfterRetries(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, baseGraph())
	ch := newChat(t, c, 0)
	ch.say("buy")
	ch.say("x")
	ch.say("y")
	got := ch.say("z") // third invalid answer: past the 2 retries
	require.Equal(t, "cap", ch.s.Node)
	require.Equal(t, []string{"Your email?"}, got)
}

func TestLoopBreakerSendsTheVisitorToAHuman(t *testing.T) {
	t.Parallel()
	g := baseGraph()
	// The greet now only understands its two buttons.
	findEdge(&g, "g-h").Condition = `message.choice == "help"`
	c := mustCompile(t, g)
	ch := newChat(t, c, 1)
	require.Equal(t, []string{"Sorry, I didn't understand that.", "Hi! What brings you here?"}, ch.say("what?"))
	require.Equal(t, []string{"Sorry, I didn't understand that.", "Hi! What brings you here?"}, ch.say("hmm"))
	require.Equal(t, []string{"Connecting you"}, ch.say("??"))
	require.Equal(t, "h", ch.s.Node)
	req := ch.effect(EffectRequestHandover)
	require.NotNil(t, req)
	require.Equal(t, "loop_breaker", req.Handover.Summary.Reason)
	require.Equal(t, 0, ch.s.Misses)
}

func TestQuickRepliesAreSentInTheChatLanguage(t *testing.T) {
	t.Parallel()
	g := Graph{Start: "g", Languages: []string{"fr"}, Nodes: []Node{
		{ID: "g", Kind: KindGreet, Greet: &GreetConfig{
			Text:         Text{"en": "Hi", "fr": "Bonjour"},
			QuickReplies: []QuickReply{{Value: "yes", Label: Text{"en": "Yes", "fr": "Oui"}}},
		}},
		endNode("e"),
	}, Edges: []Edge{edge("g-e", "g", "e")}}
	c := mustCompile(t, g)
	s, eff, err := Step(c, State{}, Event{Type: EventStart, Locale: "fr-CA,fr;q=0.9"}, t0)
	require.NoError(t, err)
	require.Equal(t, "fr", s.Language)
	require.Equal(t, "Bonjour", eff[1].Message.Text)
	require.Equal(t, []Reply{{Label: "Oui", Value: "yes"}}, eff[1].Message.QuickReplies)
	// "Oui" clicked in French is the same choice as "Yes".
	s, _, err = Step(c, s, Event{Type: EventVisitorMessage, Text: "oui"}, t0)
	require.NoError(t, err)
	require.Equal(t, StatusEnded, s.Status)

	s, _, err = Step(c, State{}, Event{Type: EventStart, Locale: "de-DE"}, t0)
	require.NoError(t, err)
	require.Equal(t, "en", s.Language, "unsupported locales fall back to the default")
}

func TestHandover(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, baseGraph())
	start := func(t *testing.T, online int) *chat {
		ch := newChat(t, c, online)
		ch.say("help") // g -> h by the default edge
		return ch
	}

	t.Run("nobody online: offline message and timed_out port at once", func(t *testing.T) {
		t.Parallel()
		ch := start(t, 0)
		require.Equal(t, []string{"Nobody is free", "Your email?"}, ch.said)
		require.NotNil(t, ch.effect(EffectHandoverTimedOut))
		require.Nil(t, ch.effect(EffectStartTimer))
	})

	t.Run("online: waits with a timer and a summary", func(t *testing.T) {
		t.Parallel()
		ch := start(t, 2)
		require.Equal(t, []string{"Connecting you"}, ch.said)
		timer := ch.effect(EffectStartTimer)
		require.NotNil(t, timer)
		require.Equal(t, "1m0s", timer.After.String())
		req := ch.effect(EffectRequestHandover)
		require.Equal(t, "handover", req.Handover.Summary.Reason)
		require.Equal(t, []string{"g", "h"}, req.Handover.Summary.Path)
		require.Equal(t, StatusWaitingAgent, ch.s.Status)
		// The bot is silent while the chat waits.
		require.Empty(t, ch.say("hello?"))
	})

	t.Run("timer fires once: offline message, then capture", func(t *testing.T) {
		t.Parallel()
		ch := start(t, 1)
		id := ch.s.Request
		require.Equal(t, []string{"Nobody is free", "Your email?"}, ch.step(Event{Type: EventTimerFired, ID: id}))
		require.Equal(t, "cap", ch.s.Node)
		before := ch.s
		// Firing again is harmless.
		require.Empty(t, ch.step(Event{Type: EventTimerFired, ID: id}))
		require.Equal(t, before.Node, ch.s.Node)
		require.Empty(t, ch.effects)
	})

	t.Run("claimed in time: timer cancelled, agent announced, bot silent", func(t *testing.T) {
		t.Parallel()
		ch := start(t, 1)
		id := ch.s.Request
		require.Equal(t, []string{"Ana joined the chat."}, ch.step(Event{Type: EventAgentClaimed, Agent: Agent{ID: "u1", Name: "Ana"}}))
		cancel := ch.effect(EffectCancelTimer)
		require.NotNil(t, cancel)
		require.Equal(t, id, cancel.ID)
		require.Equal(t, StatusAgent, ch.s.Status)
		require.Empty(t, ch.say("hello"))
		// The old timer firing late changes nothing.
		require.Empty(t, ch.step(Event{Type: EventTimerFired, ID: id}))
		require.Equal(t, StatusAgent, ch.s.Status)
	})

	t.Run("hand back without a node follows the claimed port", func(t *testing.T) {
		t.Parallel()
		ch := start(t, 1)
		ch.step(Event{Type: EventAgentClaimed, Agent: Agent{ID: "u1", Name: "Ana"}})
		ch.step(Event{Type: EventHandedBack})
		require.Equal(t, StatusEnded, ch.s.Status)
		require.Equal(t, []string{"g", "h", "e"}, ch.s.Path)
	})
}

func TestTakeOverSilencesTheBotAndHandBackResumesAtANode(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, baseGraph())
	ch := newChat(t, c, 1)
	ch.say("buy")
	require.Equal(t, []string{"Bo joined the chat."}, ch.step(Event{Type: EventAgentTookOver, Agent: Agent{ID: "u2", Name: "Bo"}}))
	require.Empty(t, ch.say("1000"), "the bot stays silent")
	require.Empty(t, ch.say("human please"), "global rules are silent too")

	_, _, err := Step(c, ch.s, Event{Type: EventHandedBack, Node: "nope"}, t0)
	require.ErrorIs(t, err, ErrUnknownNode)

	require.Equal(t, []string{"Your email?"}, ch.step(Event{Type: EventHandedBack, Node: "cap"}))
	require.Equal(t, StatusBot, ch.s.Status)
	require.Nil(t, ch.s.Agent)
}

func TestReleaseReturnsTheChatToTheQueue(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, baseGraph())
	ch := newChat(t, c, 1)
	ch.step(Event{Type: EventAgentTookOver, Agent: Agent{ID: "u2", Name: "Bo"}})
	ch.step(Event{Type: EventAgentReleased})
	require.Equal(t, StatusWaitingAgent, ch.s.Status)
	require.Empty(t, ch.say("anyone?"))
	require.Equal(t, []string{"Cy joined the chat."}, ch.step(Event{Type: EventAgentClaimed, Agent: Agent{ID: "u3", Name: "Cy"}}))
}

func TestStepDoesNotModifyItsInput(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, baseGraph())
	ch := newChat(t, c, 0)
	ch.say("buy")
	before := ch.s
	varsBefore := map[string]any{}
	for k, v := range before.Vars {
		varsBefore[k] = v
	}
	pathBefore := append([]string(nil), before.Path...)
	_, _, err := Step(c, before, Event{Type: EventVisitorMessage, Text: "7000"}, t0)
	require.NoError(t, err)
	require.Equal(t, varsBefore, before.Vars)
	require.Equal(t, pathBefore, before.Path)
}

func TestEventsOutOfPlace(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, baseGraph())
	_, _, err := Step(c, State{}, Event{Type: EventVisitorMessage, Text: "hi"}, t0)
	require.ErrorIs(t, err, ErrNotStarted)
	ch := newChat(t, c, 0)
	_, _, err = Step(c, ch.s, Event{Type: EventStart}, t0)
	require.ErrorIs(t, err, ErrStarted)
	_, _, err = Step(c, ch.s, Event{Type: EventHandedBack}, t0)
	require.ErrorIs(t, err, ErrNotWithAgent)
	_, _, err = Step(c, ch.s, Event{Type: "bogus"}, t0)
	require.ErrorIs(t, err, ErrUnknownEvent)
	ended := ch.s
	ended.Status = StatusEnded
	_, _, err = Step(c, ended, Event{Type: EventVisitorMessage, Text: "hi"}, t0)
	require.ErrorIs(t, err, ErrEnded)
}

func answerGraph() Graph {
	return Graph{
		Start: "faq",
		Nodes: []Node{
			{ID: "faq", Kind: KindFAQ, FAQ: &AnswerConfig{Prompt: en("Ask me anything")}},
			{ID: "llm", Kind: KindLLMAnswer, LLMAnswer: &AnswerConfig{NoMatch: en("Let me find someone")}},
			handoverNode("h", 30),
			captureNode("cap"),
			endNode("e"),
		},
		Edges: []Edge{
			portEdge("f-m", "faq", PortMatched, "faq"),
			portEdge("f-n", "faq", PortNotMatched, "llm"),
			portEdge("l-a", "llm", PortAnswered, "faq"),
			portEdge("l-h", "llm", PortHandover, "h"),
			portEdge("h-c", "h", PortClaimed, "e"),
			portEdge("h-t", "h", PortTimedOut, "cap"),
			edge("cap-e", "cap", "e"),
		},
		LoopBreaker: &LoopBreaker{To: "h"},
	}
}

func TestAnswerers(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, answerGraph())
	ch := newChat(t, c, 1)
	require.Equal(t, []string{"Ask me anything"}, ch.said)

	ch.say("What are your prices?")
	ask := ch.effect(EffectAskAnswerer)
	require.NotNil(t, ask)
	require.Equal(t, AnswerFAQ, ask.Ask.Mode)
	require.Equal(t, "What are your prices?", ask.Ask.Question)
	require.Equal(t, WaitingAnswer, ch.s.Waiting)

	// A stale answer is ignored.
	require.Empty(t, ch.step(Event{Type: EventAnswerReady, ID: "ask:999", Answer: Answer{Matched: true, Text: "old"}}))
	require.Equal(t, WaitingAnswer, ch.s.Waiting)

	got := ch.step(Event{Type: EventAnswerReady, ID: ask.ID, Answer: Answer{Matched: true, Text: "From $50."}})
	require.Equal(t, []string{"From $50.", "Ask me anything"}, got)

	ch.say("Can you build a rocket?")
	ask = ch.effect(EffectAskAnswerer)
	ch.step(Event{Type: EventAnswerReady, ID: ask.ID, Answer: Answer{}})
	require.Equal(t, "llm", ch.s.Node, "not matched goes on to the llm answerer")
	// The llm answerer gets the same question: the visitor does not repeat it.
	ask = ch.effect(EffectAskAnswerer)
	require.Equal(t, AnswerLLM, ask.Ask.Mode)
	require.Equal(t, "Can you build a rocket?", ask.Ask.Question)

	got = ch.step(Event{Type: EventAnswerReady, ID: ask.ID, Answer: Answer{Handover: true}})
	require.Equal(t, []string{"Let me find someone", "Connecting you"}, got)
	req := ch.effect(EffectRequestHandover)
	require.Equal(t, "answerer", req.Handover.Summary.Reason)
	require.Equal(t, []string{"What are your prices?", "Can you build a rocket?"}, req.Handover.Summary.Questions)
}

func TestAQuestionIsPassedOnOnceOnly(t *testing.T) {
	t.Parallel()
	g := answerGraph()
	// Two answerers that send each other what they cannot answer.
	findEdge(&g, "l-h").To = "faq"
	c := mustCompile(t, g)
	ch := newChat(t, c, 1)
	ch.say("Unanswerable?")
	ch.step(Event{Type: EventAnswerReady, ID: ch.effect(EffectAskAnswerer).ID})
	require.Equal(t, "llm", ch.s.Node)
	ch.step(Event{Type: EventAnswerReady, ID: ch.effect(EffectAskAnswerer).ID, Answer: Answer{Handover: true}})
	require.Equal(t, "faq", ch.s.Node)
	require.Nil(t, ch.effect(EffectAskAnswerer), "back at the faq, the visitor is asked again")
	require.Equal(t, WaitingInput, ch.s.Waiting)
}

func TestRulesSeeTheQuickReplyChoice(t *testing.T) {
	t.Parallel()
	g := baseGraph()
	g.Rules = []Rule{{ID: "help", Condition: `message.choice == "help"`, To: "cap"}}
	c := mustCompile(t, g)
	ch := newChat(t, c, 1)
	ch.say("help")
	require.Equal(t, "cap", ch.s.Node, "the rule saw the choice before the node's edges")
}

func TestReleasedChatIsNotTrapped(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, baseGraph())
	t.Run("released at a handover: its timed_out path runs", func(t *testing.T) {
		ch := newChat(t, c, 1)
		ch.say("help")
		ch.step(Event{Type: EventAgentClaimed, Agent: Agent{ID: "u1", Name: "Ana"}})
		ch.step(Event{Type: EventAgentReleased})
		timer := ch.effect(EffectStartTimer)
		require.NotNil(t, timer, "back in the queue with a wait")
		require.Equal(t, []string{"Nobody is free", "Your email?"}, ch.step(Event{Type: EventTimerFired, ID: timer.ID}))
	})
	t.Run("released after a takeover: the bot resumes", func(t *testing.T) {
		ch := newChat(t, c, 1)
		ch.say("buy")
		ch.step(Event{Type: EventAgentTookOver, Agent: Agent{ID: "u1", Name: "Ana"}})
		ch.step(Event{Type: EventAgentReleased})
		timer := ch.effect(EffectStartTimer)
		require.Equal(t, []string{"Your budget?"}, ch.step(Event{Type: EventTimerFired, ID: timer.ID}))
		require.Equal(t, StatusBot, ch.s.Status)
	})
}

func TestCaptureKeepsValuesCollectedEarlier(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, baseGraph())
	ch := newChat(t, c, 0)
	ch.say("buy")
	ch.say("500")
	ch.say("ana@example.com")
	require.Equal(t, "cap", ch.s.Node)
	for _, bad := range []string{"nope", "still nope", "never"} {
		ch.say(bad)
	}
	lead := ch.effect(EffectCaptureLead)
	require.NotNil(t, lead)
	require.Equal(t, "ana@example.com", lead.Lead.Fields["email"])
}

func TestFAQMissesTripTheLoopBreaker(t *testing.T) {
	t.Parallel()
	g := answerGraph()
	findEdge(&g, "f-n").To = "faq"
	findEdge(&g, "f-m").To = "llm"
	c := mustCompile(t, g)
	ch := newChat(t, c, 1)
	for i := 0; i < 3; i++ {
		ch.say("gibberish")
		ch.step(Event{Type: EventAnswerReady, ID: ch.effect(EffectAskAnswerer).ID})
	}
	require.Equal(t, "h", ch.s.Node)
}

func TestSetVariableAndHTTPCall(t *testing.T) {
	t.Parallel()
	g := Graph{
		Start: "c",
		Nodes: []Node{
			collectNode("c", field("name", FieldText, "Name?"), field("seats", FieldNumber, "Seats?")),
			{ID: "set", Kind: KindSetVariable, SetVariable: &SetVariableConfig{Assignments: []Assignment{
				{Var: "tier", Value: `vars.seats > 50 ? "enterprise" : "team"`},
				{Var: "price", Value: `vars.seats * 12.5`},
				{Var: "big", Value: `vars.tier == "enterprise"`},
			}}},
			{ID: "call", Kind: KindHTTPCall, HTTPCall: &HTTPCallConfig{
				Method: "POST", URL: "https://crm.example/api/leads?name={{vars.name}}",
				Headers: map[string]string{"X-Tier": "{{vars.tier}}"},
				Body:    `{"name":"{{vars.name}}","price":{{vars.price}}}`,
				Map: []ResponseMapping{
					{Var: "crm_id", Path: "data.id"},
					{Var: "score", Path: "data.scores.1", Type: VarNumber},
				},
			}},
			{ID: "ok", Kind: KindEnd, End: &EndConfig{Text: en("Saved as {{vars.crm_id}} ({{vars.tier}}, score {{vars.score}})")}},
			{ID: "ko", Kind: KindEnd, End: &EndConfig{Text: en("Could not save")}},
		},
		Edges: []Edge{
			portEdge("c-set", "c", PortDone, "set"), portEdge("c-ko", "c", PortInvalid, "ko"),
			edge("set-call", "set", "call"),
			portEdge("call-ok", "call", PortSuccess, "ok"), portEdge("call-ko", "call", PortFailure, "ko"),
		},
		LoopBreaker: &LoopBreaker{To: "h"},
	}
	g.Nodes = append(g.Nodes, handoverNode("h", 10))
	g.Edges = append(g.Edges, portEdge("h-c", "h", PortClaimed, "ok"), portEdge("h-t", "h", PortTimedOut, "ko"))
	c := mustCompile(t, g)
	require.Equal(t, VarString, c.Variables()["tier"])
	require.Equal(t, VarNumber, c.Variables()["price"])
	require.Equal(t, VarBool, c.Variables()["big"])

	run := func(t *testing.T, result HTTPResult) *chat {
		ch := newChat(t, c, 0)
		ch.say(`Ana "the boss" & co`)
		ch.say("60")
		call := ch.effect(EffectCallHTTP)
		require.NotNil(t, call)
		require.Equal(t, "https://crm.example/api/leads?name=Ana%20%22the%20boss%22%20%26%20co", call.HTTP.URL)
		require.Equal(t, `{"name":"Ana \"the boss\" & co","price":750}`, call.HTTP.Body)
		require.Equal(t, "enterprise", call.HTTP.Headers["X-Tier"])
		require.Equal(t, true, ch.s.Vars["big"])
		ch.step(Event{Type: EventHTTPResult, ID: call.ID, HTTP: result})
		return ch
	}
	ch := run(t, HTTPResult{Status: 201, Body: []byte(`{"data":{"id":"L-7","scores":[1,42]}}`)})
	require.Equal(t, []string{"Saved as L-7 (enterprise, score 42)"}, ch.said)
	ch = run(t, HTTPResult{Status: 502})
	require.Equal(t, []string{"Could not save"}, ch.said)
	ch = run(t, HTTPResult{Err: "timeout"})
	require.Equal(t, []string{"Could not save"}, ch.said)
}

func TestStartVariablesAreTypedAndDeclaredOnly(t *testing.T) {
	t.Parallel()
	g := baseGraph()
	g.Variables = []VariableDecl{{Name: "plan", Type: VarString}, {Name: "seats", Type: VarNumber}}
	c := mustCompile(t, g)
	s, _, err := Step(c, State{}, Event{Type: EventStart, Vars: map[string]any{"plan": "pro", "seats": "12", "evil": "x"}}, t0)
	require.NoError(t, err)
	require.Equal(t, "pro", s.Vars["plan"])
	require.Equal(t, float64(12), s.Vars["seats"])
	require.NotContains(t, s.Vars, "evil")
	require.Equal(t, float64(0), s.Vars["budget"], "unset variables hold their zero value")
}

func TestVisitorTextIsNeverEvaluated(t *testing.T) {
	t.Parallel()
	g := baseGraph()
	g.Variables = []VariableDecl{{Name: "note", Type: VarString}}
	findNode(&g, "g").Greet.SaveAs = "note"
	c := mustCompile(t, g)
	ch := newChat(t, c, 0)
	ch.say(`{{vars.budget}} + 1 == 1 || repeat("a", 1e9)`)
	require.Equal(t, `{{vars.budget}} + 1 == 1 || repeat("a", 1e9)`, ch.s.Vars["note"])
}
