package playbooks

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/frontdesk/frontdesk/engine"
)

// Answerer answers the questions that faq and llm_answer nodes ask. A
// Session calls it from the goroutine that drives the session, one question
// at a time. An error counts as a failed answerer: the visitor goes to a
// human, as the engine's Answer.Handover documents.
type Answerer interface {
	Answer(ctx context.Context, req engine.AnswerRequest) (engine.Answer, error)
}

// AnswererFunc adapts a function to Answerer.
type AnswererFunc func(ctx context.Context, req engine.AnswerRequest) (engine.Answer, error)

// Answer calls f.
func (f AnswererFunc) Answer(ctx context.Context, req engine.AnswerRequest) (engine.Answer, error) {
	return f(ctx, req)
}

// NoAnswerer is the default Answerer: it knows nothing, so a faq node
// leaves through not_matched and an llm_answer node through handover.
type NoAnswerer struct{}

// Answer answers "not matched" to the FAQ and "hand over" to the LLM.
func (NoAnswerer) Answer(_ context.Context, req engine.AnswerRequest) (engine.Answer, error) {
	if req.Mode == engine.AnswerLLM {
		return engine.Answer{Handover: true}, nil
	}
	return engine.Answer{}, nil
}

// HTTPDoer makes the outbound calls of http_call nodes. A Session calls it
// from the goroutine that drives the session, one call at a time. An error
// is a failed call (the node's failure port); a response with any status is
// returned as a result with no error.
type HTTPDoer interface {
	Do(ctx context.Context, req engine.HTTPRequest) (engine.HTTPResult, error)
}

// HTTPDoerFunc adapts a function to HTTPDoer.
type HTTPDoerFunc func(ctx context.Context, req engine.HTTPRequest) (engine.HTTPResult, error)

// Do calls f.
func (f HTTPDoerFunc) Do(ctx context.Context, req engine.HTTPRequest) (engine.HTTPResult, error) {
	return f(ctx, req)
}

// NoHTTP is the default HTTPDoer: a simulation makes no outbound call, so
// every call fails and the node leaves through its failure port.
type NoHTTP struct{}

// ErrNoHTTP is the error NoHTTP fails every call with.
var ErrNoHTTP = errors.New("outbound calls are disabled in this session")

// Do fails with ErrNoHTTP.
func (NoHTTP) Do(context.Context, engine.HTTPRequest) (engine.HTTPResult, error) {
	return engine.HTTPResult{}, ErrNoHTTP
}

// Compile-time checks that the defaults implement the interfaces.
var (
	_ Answerer = NoAnswerer{}
	_ Answerer = AnswererFunc(nil)
	_ HTTPDoer = NoHTTP{}
	_ HTTPDoer = HTTPDoerFunc(nil)
)

// DefaultClock is where a session's fake clock starts when the config does
// not say: a Monday morning, so that conditions on the time read naturally.
var DefaultClock = time.Date(2025, time.January, 6, 9, 0, 0, 0, time.UTC)

// MaxAutoResolve bounds how many answers and calls a session resolves in a
// row for one action. The engine's checks make a longer chain impossible
// for a checked graph; the bound keeps a session from spinning if they did
// not.
const MaxAutoResolve = 64

// Errors a Session returns for actions that make no sense now.
var (
	ErrNoTimer   = errors.New("playbooks: no timer is pending")
	ErrNoPending = errors.New("playbooks: no answer or call is pending")
	ErrTooMany   = errors.New("playbooks: too many answers and calls in a row")
)

// SessionConfig sets up a Session.
type SessionConfig struct {
	// Visitor is what conditions know about the visitor. Its Language is
	// ignored: the chat's language comes from Locale. Mind IsNew: its zero
	// value describes a returning visitor.
	Visitor engine.VisitorEnv
	// Locale is the browser's locale ("fr-FR"); empty uses the graph's
	// default language.
	Locale string
	// Vars are values for the graph's declared variables.
	Vars map[string]any
	// AgentsOnline is the number of agents online at the start.
	AgentsOnline int
	// BusinessHours is whether the chat starts inside business hours.
	BusinessHours bool
	// Clock is the fake clock's first instant. Defaults to DefaultClock.
	Clock time.Time
	// Answerer defaults to NoAnswerer.
	Answerer Answerer
	// HTTP defaults to NoHTTP.
	HTTP HTTPDoer
}

// Turn is what one action on a Session produced: the messages to the
// visitor, the nodes entered, and what the runner was asked to do.
type Turn struct {
	Messages  []engine.OutMessage
	Path      []string
	Leads     []engine.Lead
	Handovers []engine.HandoverRequest
	// Effects are every effect, in order, including those above.
	Effects []engine.Effect
}

// LogEntry is one message of the conversation, whoever wrote it.
type LogEntry struct {
	At      time.Time
	Message engine.OutMessage
}

// Session runs one conversation on a compiled graph in memory, carrying out
// the engine's effects the way the server does: messages are recorded,
// timers wait on a fake clock until fast-forwarded, answers and outbound
// calls go through the configured Answerer and HTTPDoer (or wait to be
// resolved by hand while requests are held), leads and handover requests
// are recorded. It never reads the real clock. A Session is not safe for
// concurrent use.
type Session struct {
	c            *engine.Compiled
	state        engine.State
	now          time.Time
	visitor      engine.VisitorEnv
	locale       string
	vars         map[string]any
	agentsOnline int
	business     bool
	answerer     Answerer
	http         HTTPDoer
	hold         bool

	timers  []timer
	pending *engine.Effect
	log     []LogEntry
	path    []string
	leads   []engine.Lead
}

type timer struct {
	id  string
	due time.Time
	// seq orders timers due at the same instant by creation.
	seq int
}

// NewSession returns a session on c that has not started; call Start.
func NewSession(c *engine.Compiled, cfg SessionConfig) *Session {
	s := &Session{
		c:            c,
		now:          cfg.Clock,
		visitor:      cfg.Visitor,
		locale:       cfg.Locale,
		vars:         cfg.Vars,
		agentsOnline: cfg.AgentsOnline,
		business:     cfg.BusinessHours,
		answerer:     cfg.Answerer,
		http:         cfg.HTTP,
	}
	if s.now.IsZero() {
		s.now = DefaultClock
	}
	if s.answerer == nil {
		s.answerer = NoAnswerer{}
	}
	if s.http == nil {
		s.http = NoHTTP{}
	}
	return s
}

// Start starts the conversation.
func (s *Session) Start(ctx context.Context) (Turn, error) {
	return s.do(ctx, engine.Event{Type: engine.EventStart, Visitor: s.visitor, Locale: s.locale, Vars: s.vars})
}

// Say sends the visitor's message. While an agent has the chat, or it waits
// for one, the bot stays silent and the message is only logged.
func (s *Session) Say(ctx context.Context, text string) (Turn, error) {
	if err := s.running(); err != nil {
		return Turn{}, err
	}
	s.record(engine.OutMessage{Author: engine.AuthorVisitor, Text: text})
	return s.do(ctx, engine.Event{Type: engine.EventVisitorMessage, Text: text})
}

// FastForward moves the clock to the next pending timer and fires it.
func (s *Session) FastForward(ctx context.Context) (Turn, error) {
	if len(s.timers) == 0 {
		return Turn{}, ErrNoTimer
	}
	t := s.timers[0]
	s.timers = s.timers[1:]
	if t.due.After(s.now) {
		s.now = t.due
	}
	return s.do(ctx, engine.Event{Type: engine.EventTimerFired, ID: t.id})
}

// Advance moves the clock forward by d, firing in order every timer that
// falls due, including timers those firings start.
func (s *Session) Advance(ctx context.Context, d time.Duration) (Turn, error) {
	end := s.now.Add(d)
	var all Turn
	for n := 0; len(s.timers) > 0 && !s.timers[0].due.After(end); n++ {
		if n >= MaxAutoResolve {
			return all, ErrTooMany
		}
		t, err := s.FastForward(ctx)
		all.add(t)
		if err != nil {
			return all, err
		}
	}
	if end.After(s.now) {
		s.now = end
	}
	return all, nil
}

// Claim has the agent called name claim the chat from the queue.
func (s *Session) Claim(ctx context.Context, name string) (Turn, error) {
	return s.do(ctx, engine.Event{Type: engine.EventAgentClaimed, Agent: agent(name)})
}

// TakeOver has the agent called name take the chat from the bot.
func (s *Session) TakeOver(ctx context.Context, name string) (Turn, error) {
	return s.do(ctx, engine.Event{Type: engine.EventAgentTookOver, Agent: agent(name)})
}

// Release has the agent put the chat back in the queue.
func (s *Session) Release(ctx context.Context) (Turn, error) {
	return s.do(ctx, engine.Event{Type: engine.EventAgentReleased})
}

// HandBack has the agent give the chat back to the bot at node, or, when
// node is empty, along the claimed port of the handover node it came from.
func (s *Session) HandBack(ctx context.Context, node string) (Turn, error) {
	return s.do(ctx, engine.Event{Type: engine.EventHandedBack, Node: node})
}

// Answer resolves the pending answer request with a.
func (s *Session) Answer(ctx context.Context, a engine.Answer) (Turn, error) {
	if s.pending == nil || s.pending.Type != engine.EffectAskAnswerer {
		return Turn{}, ErrNoPending
	}
	id := s.pending.ID
	s.pending = nil
	return s.do(ctx, engine.Event{Type: engine.EventAnswerReady, ID: id, Answer: a})
}

// RespondHTTP resolves the pending outbound call with r.
func (s *Session) RespondHTTP(ctx context.Context, r engine.HTTPResult) (Turn, error) {
	if s.pending == nil || s.pending.Type != engine.EffectCallHTTP {
		return Turn{}, ErrNoPending
	}
	id := s.pending.ID
	s.pending = nil
	return s.do(ctx, engine.Event{Type: engine.EventHTTPResult, ID: id, HTTP: r})
}

// SetAgentsOnline changes how many agents are online from now on.
func (s *Session) SetAgentsOnline(n int) { s.agentsOnline = n }

// SetBusinessHours changes whether it is business hours from now on.
func (s *Session) SetBusinessHours(b bool) { s.business = b }

// HoldRequests, when on, leaves answer requests and outbound calls pending
// until Answer or RespondHTTP resolves them, instead of resolving them at
// once through the Answerer and the HTTPDoer. Turning it off does not
// resolve a request already pending.
func (s *Session) HoldRequests(on bool) { s.hold = on }

// State returns the conversation's engine state.
func (s *Session) State() engine.State { return s.state }

// Now returns the fake clock's time.
func (s *Session) Now() time.Time { return s.now }

// Path returns every node entered so far, in order.
func (s *Session) Path() []string { return append([]string(nil), s.path...) }

// Log returns every message so far: the visitor's, the bot's and system
// notices.
func (s *Session) Log() []LogEntry { return append([]LogEntry(nil), s.log...) }

// Leads returns the leads captured so far.
func (s *Session) Leads() []engine.Lead { return append([]engine.Lead(nil), s.leads...) }

// Pending returns the pending answer request or outbound call, if any.
func (s *Session) Pending() (engine.Effect, bool) {
	if s.pending == nil {
		return engine.Effect{}, false
	}
	return *s.pending, true
}

// Timers returns how long until each pending timer fires, soonest first.
func (s *Session) Timers() []time.Duration {
	out := make([]time.Duration, len(s.timers))
	for i, t := range s.timers {
		out[i] = t.due.Sub(s.now)
	}
	return out
}

func agent(name string) engine.Agent {
	return engine.Agent{ID: "agent:" + name, Name: name}
}

func (s *Session) running() error {
	switch s.state.Status {
	case engine.StatusNew:
		return engine.ErrNotStarted
	case engine.StatusEnded:
		return engine.ErrEnded
	}
	return nil
}

// do feeds one event to the engine, carries out its effects, then resolves
// the requests they started unless requests are held.
func (s *Session) do(ctx context.Context, ev engine.Event) (Turn, error) {
	var turn Turn
	if err := s.step(ev, &turn); err != nil {
		return turn, err
	}
	for n := 0; s.pending != nil && !s.hold; n++ {
		if n >= MaxAutoResolve {
			return turn, ErrTooMany
		}
		p := *s.pending
		s.pending = nil
		next := engine.Event{ID: p.ID}
		switch p.Type {
		case engine.EffectAskAnswerer:
			next.Type = engine.EventAnswerReady
			a, err := s.answerer.Answer(ctx, *p.Ask)
			if err != nil {
				a = engine.Answer{Handover: true}
			}
			next.Answer = a
		case engine.EffectCallHTTP:
			next.Type = engine.EventHTTPResult
			r, err := s.http.Do(ctx, *p.HTTP)
			if err != nil {
				r = engine.HTTPResult{Err: err.Error()}
			}
			next.HTTP = r
		}
		if err := s.step(next, &turn); err != nil {
			return turn, err
		}
	}
	return turn, nil
}

func (s *Session) step(ev engine.Event, turn *Turn) error {
	ev.AgentsOnline, ev.BusinessHours = s.agentsOnline, s.business
	st, effects, err := engine.Step(s.c, s.state, ev, s.now)
	if err != nil {
		return err
	}
	s.state = st
	for _, e := range effects {
		s.apply(e, turn)
	}
	// A global rule can move the chat on while a request is pending; its
	// result would be stale, so it is no longer pending.
	if s.pending != nil && s.pending.ID != s.state.Request {
		s.pending = nil
	}
	return nil
}

func (s *Session) apply(e engine.Effect, turn *Turn) {
	turn.Effects = append(turn.Effects, e)
	switch e.Type {
	case engine.EffectEnterNode:
		s.path = append(s.path, e.Node)
		turn.Path = append(turn.Path, e.Node)
	case engine.EffectSend:
		if e.Message != nil {
			m := *e.Message
			s.record(m)
			turn.Messages = append(turn.Messages, m)
		}
	case engine.EffectStartTimer:
		seq := 0
		for _, t := range s.timers {
			seq = max(seq, t.seq+1)
		}
		s.timers = append(s.timers, timer{id: e.ID, due: s.now.Add(e.After), seq: seq})
		sort.SliceStable(s.timers, func(i, j int) bool {
			a, b := s.timers[i], s.timers[j]
			if !a.due.Equal(b.due) {
				return a.due.Before(b.due)
			}
			return a.seq < b.seq
		})
	case engine.EffectCancelTimer:
		for i, t := range s.timers {
			if t.id == e.ID {
				s.timers = append(s.timers[:i], s.timers[i+1:]...)
				break
			}
		}
	case engine.EffectRequestHandover:
		if e.Handover != nil {
			turn.Handovers = append(turn.Handovers, *e.Handover)
		}
	case engine.EffectCaptureLead:
		if e.Lead != nil {
			s.leads = append(s.leads, *e.Lead)
			turn.Leads = append(turn.Leads, *e.Lead)
		}
	case engine.EffectAskAnswerer, engine.EffectCallHTTP:
		e := e
		s.pending = &e
	}
}

func (s *Session) record(m engine.OutMessage) {
	s.log = append(s.log, LogEntry{At: s.now, Message: m})
}

func (t *Turn) add(o Turn) {
	t.Messages = append(t.Messages, o.Messages...)
	t.Path = append(t.Path, o.Path...)
	t.Leads = append(t.Leads, o.Leads...)
	t.Handovers = append(t.Handovers, o.Handovers...)
	t.Effects = append(t.Effects, o.Effects...)
}

// String formats a turn's messages and path for a terminal.
func (t Turn) String() string {
	var b []byte
	for _, m := range t.Messages {
		b = fmt.Appendf(b, "%s: %s\n", m.Author, m.Text)
		for _, q := range m.QuickReplies {
			b = fmt.Appendf(b, "  [%s] %s\n", q.Value, q.Label)
		}
	}
	if len(t.Path) > 0 {
		b = fmt.Appendf(b, "path: %v\n", t.Path)
	}
	return string(b)
}
