package playbooks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/stretchr/testify/require"
)

type sessionBundle struct {
	ctx context.Context
	s   *Session
}

// setup starts a session on a template with the given config.
func setup(t *testing.T, template string, cfg SessionConfig) sessionBundle {
	t.Helper()
	f, err := Template(template)
	require.NoError(t, err)
	s := NewSession(compile(t, f), cfg)
	_, err = s.Start(context.Background())
	require.NoError(t, err)
	return sessionBundle{ctx: context.Background(), s: s}
}

func texts(turn Turn) []string {
	var out []string
	for _, m := range turn.Messages {
		out = append(out, m.Text)
	}
	return out
}

func TestSessionTimersRunOnTheFakeClock(t *testing.T) {
	t.Parallel()
	b := setup(t, "live-chat", SessionConfig{AgentsOnline: 1})
	require.Equal(t, []time.Duration{120 * time.Second}, b.s.Timers())
	require.Equal(t, DefaultClock, b.s.Now())

	turn, err := b.s.Advance(b.ctx, 119*time.Second)
	require.NoError(t, err)
	require.Empty(t, turn.Effects, "the wait is not over")
	require.Equal(t, engine.StatusWaitingAgent, b.s.State().Status)
	require.Equal(t, []time.Duration{time.Second}, b.s.Timers())

	turn, err = b.s.Advance(b.ctx, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, []string{"leave_message"}, turn.Path)
	require.Equal(t, DefaultClock.Add(129*time.Second), b.s.Now())
	require.Empty(t, b.s.Timers())

	_, err = b.s.FastForward(b.ctx)
	require.ErrorIs(t, err, ErrNoTimer)
}

func TestSessionClaimCancelsTheTimer(t *testing.T) {
	t.Parallel()
	b := setup(t, "live-chat", SessionConfig{AgentsOnline: 1, Clock: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	turn, err := b.s.Claim(b.ctx, "Ana")
	require.NoError(t, err)
	require.Equal(t, []engine.OutMessage{{Author: engine.AuthorSystem, Text: "Ana joined the chat."}}, turn.Messages)
	require.Empty(t, b.s.Timers())
	_, err = b.s.FastForward(b.ctx)
	require.ErrorIs(t, err, ErrNoTimer)
	require.Equal(t, "Ana", b.s.State().Agent.Name)

	// The visitor talks to the agent; the bot stays silent but the log
	// keeps the message.
	turn, err = b.s.Say(b.ctx, "hello Ana")
	require.NoError(t, err)
	require.Empty(t, turn.Messages)
	log := b.s.Log()
	require.Equal(t, engine.OutMessage{Author: engine.AuthorVisitor, Text: "hello Ana"}, log[len(log)-1].Message)
	require.Equal(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), log[len(log)-1].At)
}

func TestSessionHeldAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, "support-deflection", SessionConfig{AgentsOnline: 1, Locale: "fr-BE"})
	_, err := b.s.Say(b.ctx, "Poser une question")
	require.NoError(t, err)
	b.s.HoldRequests(true)
	turn, err := b.s.Say(b.ctx, "Livrez-vous en Suisse ?")
	require.NoError(t, err)
	require.Empty(t, turn.Messages)
	p, ok := b.s.Pending()
	require.True(t, ok)
	require.Equal(t, engine.EffectAskAnswerer, p.Type)
	require.Equal(t, engine.AnswerRequest{Mode: engine.AnswerFAQ, Question: "Livrez-vous en Suisse ?", Language: "fr"}, *p.Ask)

	_, err = b.s.RespondHTTP(b.ctx, engine.HTTPResult{Status: 200})
	require.ErrorIs(t, err, ErrNoPending, "the pending request is a question, not a call")

	turn, err = b.s.Answer(b.ctx, engine.Answer{Matched: true, Text: "Oui, en 3 jours."})
	require.NoError(t, err)
	require.Equal(t, []string{"Oui, en 3 jours.", "Puis-je vous aider pour autre chose ?"}, texts(turn))
	_, ok = b.s.Pending()
	require.False(t, ok)
	_, err = b.s.Answer(b.ctx, engine.Answer{})
	require.ErrorIs(t, err, ErrNoPending)
}

func TestSessionGlobalRuleDropsThePendingQuestion(t *testing.T) {
	t.Parallel()
	b := setup(t, "support-deflection", SessionConfig{AgentsOnline: 1})
	_, err := b.s.Say(b.ctx, "Ask a question")
	require.NoError(t, err)
	b.s.HoldRequests(true)
	_, err = b.s.Say(b.ctx, "Where is my parcel?")
	require.NoError(t, err)
	_, ok := b.s.Pending()
	require.True(t, ok)

	turn, err := b.s.Say(b.ctx, "actually, a human please")
	require.NoError(t, err)
	require.Equal(t, []string{"agent"}, turn.Path)
	require.Equal(t, "rule:human", turn.Handovers[0].Summary.Reason)
	require.Equal(t, []string{"Where is my parcel?"}, turn.Handovers[0].Summary.Questions)
	_, ok = b.s.Pending()
	require.False(t, ok, "the answer would be stale")
}

func TestSessionAnswerer(t *testing.T) {
	t.Parallel()
	var asked []engine.AnswerRequest
	answerer := AnswererFunc(func(_ context.Context, req engine.AnswerRequest) (engine.Answer, error) {
		asked = append(asked, req)
		if req.Mode == engine.AnswerLLM {
			return engine.Answer{}, errors.New("model unavailable")
		}
		return engine.Answer{Matched: false}, nil
	})
	b := setup(t, "freelancer-assistant", SessionConfig{AgentsOnline: 1, Answerer: answerer,
		Visitor: engine.VisitorEnv{IsNew: true}})
	turn, err := b.s.Say(b.ctx, "Do you do voice-overs?")
	require.NoError(t, err)
	// The faq does not know; the llm answerer gets the same question and
	// fails, which hands the visitor over: here, to the requirements.
	require.Equal(t, []string{"assistant", "start_offer", "requirements"}, turn.Path)
	require.Len(t, asked, 2)
	require.Equal(t, engine.AnswerLLM, asked[1].Mode)
	require.Equal(t, "Do you do voice-overs?", asked[1].Question)
}

// httpGraph calls an API and greets the user by the name it returns.
const httpGraph = `{"frontdesk_playbook": 1, "name": "HTTP", "start": "call",
  "variables": [{"name": "user_id", "type": "string"}],
  "nodes": [
    {"id": "call", "kind": "http_call", "http_call": {"method": "GET", "url": "https://api.example.com/users/{{vars.user_id}}",
      "map": [{"var": "name", "path": "data.name"}, {"var": "orders", "path": "data.orders", "type": "number"}]}},
    {"id": "hello", "kind": "end", "end": {"text": {"en": "Hi {{vars.name}}, you have {{vars.orders}} orders."}}},
    {"id": "sorry", "kind": "end", "end": {"text": {"en": "Sorry, I can't see your account right now."}}}
  ],
  "edges": [
    {"id": "ok", "from": "call", "port": "success", "to": "hello"},
    {"id": "ko", "from": "call", "port": "failure", "to": "sorry"}
  ]}`

func TestSessionHTTP(t *testing.T) {
	t.Parallel()
	f, err := Decode([]byte(httpGraph))
	require.NoError(t, err)
	c := compile(t, f)
	ctx := context.Background()

	t.Run("calls fail by default", func(t *testing.T) {
		t.Parallel()
		s := NewSession(c, SessionConfig{})
		turn, err := s.Start(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"call", "sorry"}, turn.Path)
	})
	t.Run("a stubbed call maps the response", func(t *testing.T) {
		t.Parallel()
		var got engine.HTTPRequest
		doer := HTTPDoerFunc(func(_ context.Context, req engine.HTTPRequest) (engine.HTTPResult, error) {
			got = req
			return engine.HTTPResult{Status: 200, Body: []byte(`{"data": {"name": "Ana", "orders": 3}}`)}, nil
		})
		s := NewSession(c, SessionConfig{HTTP: doer, Vars: map[string]any{"user_id": "a/b c"}})
		turn, err := s.Start(ctx)
		require.NoError(t, err)
		require.Equal(t, "https://api.example.com/users/a%2Fb%20c", got.URL)
		require.Equal(t, []string{"Hi Ana, you have 3 orders."}, texts(turn))
	})
	t.Run("a held call is answered by hand", func(t *testing.T) {
		t.Parallel()
		s := NewSession(c, SessionConfig{})
		s.HoldRequests(true)
		turn, err := s.Start(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"call"}, turn.Path)
		turn, err = s.RespondHTTP(ctx, engine.HTTPResult{Status: 503})
		require.NoError(t, err)
		require.Equal(t, []string{"sorry"}, turn.Path)
		require.Equal(t, engine.StatusEnded, s.State().Status)
	})
}

func TestSessionTakeOverAndHandBack(t *testing.T) {
	t.Parallel()
	b := setup(t, "support-deflection", SessionConfig{AgentsOnline: 2})
	turn, err := b.s.TakeOver(b.ctx, "Sam")
	require.NoError(t, err)
	require.Equal(t, []string{"Sam joined the chat."}, texts(turn), "no handover node: the engine's default notice")
	turn, err = b.s.Say(b.ctx, "Track my order")
	require.NoError(t, err)
	require.Empty(t, turn.Effects, "the agent has the chat")

	// Handed back with no node, the bot resumes where the agent took over.
	turn, err = b.s.HandBack(b.ctx, "")
	require.NoError(t, err)
	require.Equal(t, []string{"welcome"}, turn.Path)
	require.Equal(t, []string{"welcome", "welcome"}, b.s.Path())

	_, err = b.s.HandBack(b.ctx, "")
	require.ErrorIs(t, err, engine.ErrNotWithAgent)
	_, err = b.s.TakeOver(b.ctx, "Sam")
	require.NoError(t, err)
	_, err = b.s.HandBack(b.ctx, "no_such_node")
	require.ErrorIs(t, err, engine.ErrUnknownNode)
	require.Equal(t, engine.StatusAgent, b.s.State().Status, "a failed action leaves the state as it was")
}

func TestSessionRefusesActionsOutOfTurn(t *testing.T) {
	t.Parallel()
	f, err := Template("live-chat")
	require.NoError(t, err)
	s := NewSession(compile(t, f), SessionConfig{})
	ctx := context.Background()
	_, err = s.Say(ctx, "hi")
	require.ErrorIs(t, err, engine.ErrNotStarted)
	require.Empty(t, s.Log())

	turn, err := s.Start(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"greet", "connect", "leave_message"}, turn.Path, "nobody online")
	_, err = s.Start(ctx)
	require.ErrorIs(t, err, engine.ErrStarted)

	for _, in := range []string{"Ana", "ana@example.com", "hi"} {
		_, err = s.Say(ctx, in)
		require.NoError(t, err)
	}
	require.Equal(t, engine.StatusEnded, s.State().Status)
	require.Len(t, s.Leads(), 1)
	_, err = s.Say(ctx, "hello?")
	require.ErrorIs(t, err, engine.ErrEnded)
}
