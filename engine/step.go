package engine

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"
)

// Errors Step returns for events that make no sense in the current state.
// Stale events (a timer or result for a request that is no longer pending,
// an event repeated by an at-least-once runner) are not errors: Step returns
// the state unchanged and no effects, so firing twice changes nothing.
var (
	ErrNotStarted    = errors.New("engine: the conversation has not started")
	ErrStarted       = errors.New("engine: the conversation has already started")
	ErrEnded         = errors.New("engine: the conversation has ended")
	ErrNotWithAgent  = errors.New("engine: the conversation is not with an agent")
	ErrUnknownNode   = errors.New("engine: no such node")
	ErrUnknownEvent  = errors.New("engine: unknown event type")
	ErrRunaway       = errors.New("engine: too many transitions without waiting")
	ErrDeadEnd       = errors.New("engine: no edge to follow")
	errStaleNotFatal = errors.New("stale")
)

// vms are reused between condition runs: a VM keeps its stack, so reuse
// saves the allocations of a fresh one on every edge.
var vms = sync.Pool{New: func() any { return &vm.VM{MemoryBudget: MemoryBudget} }}

// Step moves a conversation forward by one event. It returns the new state
// and the effects to carry out, in order. It is pure: it reads no clock (now
// is the event's time), does no IO, and does not modify s's maps or slices.
// On error the state is returned unchanged with no effects.
func Step(c *Compiled, s State, ev Event, now time.Time) (State, []Effect, error) {
	st := stepper{c: c, s: s, ev: &ev, now: now}
	if err := st.handle(); err != nil {
		if err == errStaleNotFatal {
			return s, nil, nil
		}
		return s, nil, err
	}
	return st.s, st.effects, nil
}

type stepper struct {
	c       *Compiled
	s       State
	ev      *Event
	now     time.Time
	effects []Effect
	env     *Env
	msg     MessageEnv
	// varsOwned and pathOwned say the maps and slices were copied, so this
	// step may write to them without touching the caller's state.
	varsOwned, pathOwned, questionsOwned bool
	transitions                          int
	// reason is why a handover entered in this step was requested.
	reason string
	// answeredAt is the node whose answer this step handles.
	answeredAt string
}

func (st *stepper) handle() error {
	s, ev := &st.s, st.ev
	if ev.Type != EventStart {
		switch s.Status {
		case StatusNew:
			return ErrNotStarted
		case StatusEnded:
			return ErrEnded
		}
	}
	switch ev.Type {
	case EventStart:
		return st.start()
	case EventVisitorMessage:
		return st.visitorMessage()
	case EventTimerFired:
		return st.timerFired()
	case EventAnswerReady:
		return st.answerReady()
	case EventHTTPResult:
		return st.httpResult()
	case EventAgentClaimed, EventAgentTookOver:
		return st.agentJoined()
	case EventAgentReleased:
		if s.Status != StatusAgent {
			return errStaleNotFatal
		}
		return st.requeue()
	case EventHandedBack:
		return st.handedBack()
	}
	return ErrUnknownEvent
}

func (st *stepper) start() error {
	s, ev, c := &st.s, st.ev, st.c
	if s.Status != StatusNew {
		return ErrStarted
	}
	s.Status = StatusBot
	locale := ev.Locale
	if locale == "" {
		locale = ev.Visitor.Language
	}
	s.Language = c.ResolveLanguage(locale)
	s.Visitor = ev.Visitor
	s.Visitor.Language = s.Language
	s.Vars = make(map[string]any, len(c.vars))
	st.varsOwned = true
	for name, t := range c.vars {
		s.Vars[name] = t.zero()
	}
	for name, v := range ev.Vars {
		if t, ok := c.vars[name]; ok {
			if cv, ok := coerce(v, t); ok {
				s.Vars[name] = cv
			}
		}
	}
	return st.enter(c.start)
}

func (st *stepper) visitorMessage() error {
	s, c := &st.s, st.c
	if s.Status != StatusBot {
		// An agent has the chat, or it waits for one: the bot stays silent.
		return errStaleNotFatal
	}
	text := st.ev.Text
	if len(text) > MaxVisitorText {
		text = truncate(text, MaxVisitorText)
	}
	st.msg.Text = text
	if s.Waiting == WaitingNothing {
		return errStaleNotFatal
	}
	// The choice is known before the rules run, so a rule may test the
	// quick reply the visitor clicked.
	if i, ok := c.index[s.Node]; ok && s.Waiting == WaitingInput {
		st.msg.Choice = c.nodes[i].choiceOf(strings.TrimSpace(text), s.Field)
	}
	for _, r := range c.rules {
		ok, err := st.eval(r.prog)
		if err != nil {
			return err
		}
		if ok {
			s.Misses, s.Waiting, s.Request = 0, WaitingNothing, ""
			st.reason = "rule:" + r.id
			return st.enter(r.to)
		}
	}
	if s.Waiting != WaitingInput {
		// The bot is busy with an answer or a call; the message is kept in
		// the transcript by the runner but does not move the bot.
		return errStaleNotFatal
	}
	i, ok := c.index[s.Node]
	if !ok {
		return ErrUnknownNode
	}
	cn := &c.nodes[i]
	switch cn.n.Kind {
	case KindGreet, KindMessage:
		return st.reply(i)
	case KindCollect:
		return st.answerField(i, cn.n.Collect.Fields, cn.n.Collect.Retries, false)
	case KindOfflineCapture:
		return st.answerField(i, cn.n.OfflineCapture.Fields, cn.n.OfflineCapture.Retries, true)
	case KindFAQ, KindLLMAnswer:
		st.addQuestion(text)
		s.Carried = false
		return st.ask(cn, text)
	}
	return errStaleNotFatal
}

// ask sends a question to the answerer of a faq or llm_answer node.
func (st *stepper) ask(cn *cnode, question string) error {
	s := &st.s
	s.Counter++
	id := "ask:" + strconv.FormatInt(s.Counter, 10)
	s.Waiting, s.Request = WaitingAnswer, id
	mode := AnswerFAQ
	if cn.n.Kind == KindLLMAnswer {
		mode = AnswerLLM
	}
	st.effects = append(st.effects, Effect{Type: EffectAskAnswerer, Node: cn.n.ID, ID: id,
		Ask: &AnswerRequest{Mode: mode, Question: question, Language: s.Language}})
	return nil
}

// reply handles the visitor's answer to a greet or message node.
func (st *stepper) reply(i int) error {
	cn := &st.c.nodes[i]
	var qr []QuickReply
	saveAs := ""
	if cn.n.Greet != nil {
		qr, saveAs = cn.n.Greet.QuickReplies, cn.n.Greet.SaveAs
	} else {
		qr, saveAs = cn.n.Message.QuickReplies, cn.n.Message.SaveAs
	}
	text := strings.TrimSpace(st.msg.Text)
	if saveAs != "" {
		v := st.msg.Choice
		if v == "" {
			v = truncate(text, MaxVarValueLength)
		}
		st.setVar(saveAs, v)
	}
	moved, err := st.follow(i, 0)
	if err != nil || moved {
		if moved {
			st.s.Misses = 0
		}
		return err
	}
	// Nothing matched: not understood. Say so and ask again, unless the loop
	// breaker takes the visitor to a human first.
	st.s.Misses++
	if done, err := st.breakLoop(); done || err != nil {
		return err
	}
	st.send(AuthorBot, textNotUnderstood, nil, 0)
	if cn.n.Greet != nil {
		st.send(AuthorBot, cn.n.Greet.Text, qr, 0)
	} else {
		st.send(AuthorBot, cn.n.Message.Text, qr, 0)
	}
	return nil
}

// answerField handles an answer to the current field of a collect or
// offline_capture node.
func (st *stepper) answerField(i int, fields []Field, retries int, capture bool) error {
	s, cn := &st.s, &st.c.nodes[i]
	if s.Field < 0 || s.Field >= len(fields) {
		s.Field = 0
	}
	f := &fields[s.Field]
	answer := strings.TrimSpace(st.msg.Text)
	var value any
	ok := false
	if f.Optional && skipWords[strings.ToLower(answer)] {
		value, ok = fieldVarType(f.Type).zero(), true
	} else {
		value, ok = ValidateField(f, s.Language, answer)
		if ok && f.Type == FieldChoice {
			st.msg.Choice = value.(string)
		}
	}
	if retries == 0 {
		retries = DefaultRetries
	}
	if !ok {
		s.Misses++
		s.Retries++
		if s.Retries <= retries {
			// The node's own invalid port, reached below, is more specific
			// than the loop breaker; the breaker only cuts a re-ask short.
			if done, err := st.breakLoop(); done || err != nil {
				return err
			}
			if len(f.Reask) > 0 {
				st.send(AuthorBot, f.Reask, f.Choices, 0)
			} else {
				st.send(AuthorBot, textInvalid, nil, 0)
				st.send(AuthorBot, f.Prompt, f.Choices, 0)
			}
			return nil
		}
		if !capture {
			s.Field, s.Retries = 0, 0
			return st.mustFollow(i, portIndex(KindCollect, PortInvalid))
		}
		// Capture skips a field it cannot get rather than losing the lead,
		// and keeps whatever the chat collected for it before.
		value = s.Vars[f.Var]
	} else {
		s.Misses = 0
	}
	st.setVar(f.Var, value)
	s.Retries = 0
	s.Field++
	if s.Field < len(fields) {
		nf := &fields[s.Field]
		st.send(AuthorBot, nf.Prompt, nf.Choices, 0)
		return nil
	}
	s.Field = 0
	if capture {
		cp := cn.n.OfflineCapture
		lead := &Lead{Kind: cp.Create, Fields: make(map[string]string, len(fields))}
		if lead.Kind == "" {
			lead.Kind = "lead"
		}
		// Contact details collected earlier in the chat (an email asked by
		// a collect node) belong to the lead too.
		for name := range captureVars {
			if v, _ := s.Vars[name].(string); v != "" {
				lead.Fields[name] = v
			}
		}
		st.effects = append(st.effects, Effect{Type: EffectCaptureLead, Node: cn.n.ID, Lead: lead})
		st.send(AuthorBot, cp.Confirm, nil, 0)
	}
	return st.mustFollow(i, 0)
}

// requeue puts a released chat back in the queue with a wait timer, so a
// visitor is never left waiting for nobody: if no agent claims it in time,
// a handover node's timed_out path runs, or the bot resumes where it was.
func (st *stepper) requeue() error {
	s, c := &st.s, st.c
	wait := DefaultHandoverWaitSeconds
	if i, ok := c.index[s.Node]; ok && c.nodes[i].n.Kind == KindHandover && c.nodes[i].n.Handover.WaitSeconds > 0 {
		wait = c.nodes[i].n.Handover.WaitSeconds
	}
	s.Counter++
	id := "handover:" + strconv.FormatInt(s.Counter, 10)
	s.Status, s.Waiting, s.Agent, s.Request = StatusWaitingAgent, WaitingAgent, nil, id
	after := time.Duration(wait) * time.Second
	st.effects = append(st.effects,
		Effect{Type: EffectRequestHandover, Node: s.Node, ID: id, Handover: &HandoverRequest{Wait: after, Summary: st.summary("released")}},
		Effect{Type: EffectStartTimer, Node: s.Node, ID: id, After: after},
	)
	return nil
}

func (st *stepper) timerFired() error {
	s, c := &st.s, st.c
	if s.Status != StatusWaitingAgent || s.Waiting != WaitingAgent || s.Request == "" || st.ev.ID != s.Request {
		return errStaleNotFatal
	}
	i, ok := c.index[s.Node]
	if !ok {
		return errStaleNotFatal
	}
	if c.nodes[i].n.Kind != KindHandover {
		// A chat taken over from the bot, then released, that nobody
		// claimed: the bot picks up where it was.
		s.Status, s.Waiting, s.Request, s.Misses = StatusBot, WaitingNothing, "", 0
		st.effects = append(st.effects, Effect{Type: EffectHandoverTimedOut, Node: s.Node})
		return st.enter(i)
	}
	h := c.nodes[i].n.Handover
	s.Status, s.Waiting, s.Request = StatusBot, WaitingNothing, ""
	st.effects = append(st.effects, Effect{Type: EffectHandoverTimedOut, Node: s.Node})
	st.send(AuthorBot, h.OfflineText, nil, 0)
	return st.mustFollow(i, portIndex(KindHandover, PortTimedOut))
}

func (st *stepper) answerReady() error {
	s, c := &st.s, st.c
	if s.Status != StatusBot || s.Waiting != WaitingAnswer || st.ev.ID != s.Request {
		return errStaleNotFatal
	}
	i, ok := c.index[s.Node]
	if !ok {
		return ErrUnknownNode
	}
	n := c.nodes[i].n
	st.answeredAt = n.ID
	s.Waiting, s.Request = WaitingNothing, ""
	a := st.ev.Answer
	cfg := n.FAQ
	if n.Kind == KindLLMAnswer {
		cfg = n.LLMAnswer
	}
	if a.Matched && !a.Handover && a.Text != "" {
		s.Misses = 0
		st.sendRaw(AuthorBot, truncate(a.Text, MaxVisitorText), nil, 0)
		return st.mustFollow(i, 0)
	}
	if cfg != nil && len(cfg.NoMatch) > 0 {
		st.send(AuthorBot, cfg.NoMatch, nil, 0)
	}
	if n.Kind == KindFAQ {
		s.Misses++
		if done, err := st.breakLoop(); done || err != nil {
			return err
		}
	} else {
		st.reason = "answerer"
	}
	return st.mustFollow(i, 1)
}

func (st *stepper) httpResult() error {
	s, c := &st.s, st.c
	if s.Status != StatusBot || s.Waiting != WaitingHTTP || st.ev.ID != s.Request {
		return errStaleNotFatal
	}
	i, ok := c.index[s.Node]
	if !ok {
		return ErrUnknownNode
	}
	s.Waiting, s.Request = WaitingNothing, ""
	r := st.ev.HTTP
	if r.Err != "" || r.Status < 200 || r.Status > 299 {
		return st.mustFollow(i, portIndex(KindHTTPCall, PortFailure))
	}
	if m := c.nodes[i].n.HTTPCall.Map; len(m) > 0 {
		var body any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			return st.mustFollow(i, portIndex(KindHTTPCall, PortFailure))
		}
		for _, mp := range m {
			t := mp.Type
			if t == "" {
				t = VarString
			}
			if v, ok := coerce(lookupPath(body, mp.Path), t); ok {
				st.setVar(mp.Var, v)
			}
		}
	}
	return st.mustFollow(i, portIndex(KindHTTPCall, PortSuccess))
}

func (st *stepper) agentJoined() error {
	s, c, ev := &st.s, st.c, st.ev
	if s.Status == StatusWaitingAgent && s.Request != "" {
		st.effects = append(st.effects, Effect{Type: EffectCancelTimer, Node: s.Node, ID: s.Request})
	}
	if s.Status == StatusBot || s.Status == StatusWaitingAgent {
		s.Resume = s.Node
	}
	changed := s.Agent == nil || s.Agent.ID != ev.Agent.ID
	s.Status, s.Waiting, s.Request = StatusAgent, WaitingAgent, ""
	if changed {
		a := ev.Agent
		s.Agent = &a
		joined := textJoined
		if i, ok := c.index[s.Node]; ok && c.nodes[i].n.Kind == KindHandover && len(c.nodes[i].n.Handover.JoinedText) > 0 {
			joined = c.nodes[i].n.Handover.JoinedText
		}
		st.send(AuthorSystem, joined, nil, 0)
	}
	return nil
}

func (st *stepper) handedBack() error {
	s, c, ev := &st.s, st.c, st.ev
	if s.Status != StatusAgent && s.Status != StatusWaitingAgent {
		return ErrNotWithAgent
	}
	target := -1
	if ev.Node != "" {
		i, ok := c.index[ev.Node]
		if !ok {
			return ErrUnknownNode
		}
		target = i
	}
	if s.Status == StatusWaitingAgent && s.Request != "" {
		st.effects = append(st.effects, Effect{Type: EffectCancelTimer, Node: s.Node, ID: s.Request})
	}
	s.Status, s.Waiting, s.Request, s.Agent, s.Misses = StatusBot, WaitingNothing, "", nil, 0
	resume := s.Resume
	s.Resume = ""
	if target >= 0 {
		return st.enter(target)
	}
	if i, ok := c.index[resume]; ok {
		if c.nodes[i].n.Kind == KindHandover {
			s.Node = resume
			return st.mustFollow(i, portIndex(KindHandover, PortClaimed))
		}
		return st.enter(i)
	}
	return st.enter(c.start)
}

// breakLoop sends the visitor to the loop breaker's node once the misses
// reach its threshold. It reports whether it did.
func (st *stepper) breakLoop() (bool, error) {
	c, s := st.c, &st.s
	if c.loopTo < 0 || s.Misses < c.loopAt {
		return false, nil
	}
	s.Misses, s.Waiting, s.Request = 0, WaitingNothing, ""
	st.reason = "loop_breaker"
	return true, st.enter(c.loopTo)
}

// enter moves the chat to node i and runs it until it waits.
func (st *stepper) enter(i int) error {
	st.transitions++
	if st.transitions > MaxTransitionsPerStep {
		return ErrRunaway
	}
	s, cn := &st.s, &st.c.nodes[i]
	n := cn.n
	s.Node, s.Field, s.Retries, s.Waiting = n.ID, 0, 0, WaitingNothing
	st.appendPath(n.ID)
	st.effects = append(st.effects, Effect{Type: EffectEnterNode, Node: n.ID})
	switch n.Kind {
	case KindGreet:
		t := n.Greet.Text
		if st.ev.AgentsOnline == 0 && len(n.Greet.OfflineText) > 0 {
			t = n.Greet.OfflineText
		}
		st.send(AuthorBot, t, n.Greet.QuickReplies, 0)
		if cn.await {
			s.Waiting = WaitingInput
			return nil
		}
		return st.mustFollow(i, 0)
	case KindMessage:
		st.send(AuthorBot, n.Message.Text, n.Message.QuickReplies, n.Message.DelayMS)
		if cn.await {
			s.Waiting = WaitingInput
			return nil
		}
		return st.mustFollow(i, 0)
	case KindCollect:
		f := &n.Collect.Fields[0]
		st.send(AuthorBot, f.Prompt, f.Choices, 0)
		s.Waiting = WaitingInput
		return nil
	case KindOfflineCapture:
		if len(n.OfflineCapture.Intro) > 0 {
			st.send(AuthorBot, n.OfflineCapture.Intro, nil, 0)
		}
		f := &n.OfflineCapture.Fields[0]
		st.send(AuthorBot, f.Prompt, f.Choices, 0)
		s.Waiting = WaitingInput
		return nil
	case KindFAQ, KindLLMAnswer:
		if st.ev.Type == EventAnswerReady && st.answeredAt != n.ID && !s.Carried && len(s.Questions) > 0 {
			// Arriving from another answerer that could not answer: ask
			// this one the same question instead of making the visitor
			// repeat it. Once only, so two answerers never pass a question
			// back and forth.
			s.Carried = true
			return st.ask(cn, s.Questions[len(s.Questions)-1])
		}
		cfg := n.FAQ
		if n.Kind == KindLLMAnswer {
			cfg = n.LLMAnswer
		}
		if cfg != nil && len(cfg.Prompt) > 0 {
			st.send(AuthorBot, cfg.Prompt, nil, 0)
		}
		s.Waiting = WaitingInput
		return nil
	case KindHandover:
		return st.handover(i)
	case KindBranch:
		return st.mustFollow(i, 0)
	case KindSetVariable:
		for _, a := range cn.sets {
			if a.prog == nil {
				continue
			}
			v, err := st.run(a.prog)
			if err != nil {
				// A value that fails at run time (a division by zero, the
				// memory budget) leaves the variable as it was.
				continue
			}
			if cv, ok := coerce(v, a.typ); ok {
				st.setVar(a.name, cv)
			}
		}
		return st.mustFollow(i, 0)
	case KindHTTPCall:
		return st.httpCall(i)
	case KindEnd:
		if n.End != nil && len(n.End.Text) > 0 {
			st.send(AuthorBot, n.End.Text, nil, 0)
		}
		s.Status = StatusEnded
		st.effects = append(st.effects, Effect{Type: EffectEnd, Node: n.ID})
		return nil
	}
	return ErrUnknownNode
}

func (st *stepper) handover(i int) error {
	s, n := &st.s, st.c.nodes[i].n
	h := n.Handover
	if st.ev.AgentsOnline == 0 {
		st.send(AuthorBot, h.OfflineText, nil, 0)
		st.effects = append(st.effects, Effect{Type: EffectHandoverTimedOut, Node: n.ID})
		return st.mustFollow(i, portIndex(KindHandover, PortTimedOut))
	}
	wait := h.WaitSeconds
	if wait == 0 {
		wait = DefaultHandoverWaitSeconds
	}
	s.Counter++
	id := "handover:" + strconv.FormatInt(s.Counter, 10)
	st.send(AuthorBot, h.OnlineText, nil, 0)
	reason := st.reason
	if reason == "" {
		reason = "handover"
	}
	after := time.Duration(wait) * time.Second
	st.effects = append(st.effects,
		Effect{Type: EffectRequestHandover, Node: n.ID, ID: id, Handover: &HandoverRequest{Wait: after, Summary: st.summary(reason)}},
		Effect{Type: EffectStartTimer, Node: n.ID, ID: id, After: after},
	)
	s.Status, s.Waiting, s.Request = StatusWaitingAgent, WaitingAgent, id
	return nil
}

func (st *stepper) summary(reason string) Summary {
	s := &st.s
	vars := make(map[string]any)
	for k, v := range s.Vars {
		if v != "" && v != float64(0) && v != false {
			vars[k] = v
		}
	}
	return Summary{
		Reason:    reason,
		Language:  s.Language,
		Page:      s.Visitor.PageURL,
		Vars:      vars,
		Questions: append([]string(nil), s.Questions...),
		Path:      append([]string(nil), s.Path...),
	}
}

func (st *stepper) httpCall(i int) error {
	s, n := &st.s, st.c.nodes[i].n
	h := n.HTTPCall
	s.Counter++
	id := "http:" + strconv.FormatInt(s.Counter, 10)
	timeout := h.TimeoutMS
	if timeout == 0 {
		timeout = DefaultHTTPTimeoutMS
	}
	req := &HTTPRequest{
		Method:  h.Method,
		URL:     st.render(h.URL, escapeURL),
		Body:    h.Body,
		Timeout: time.Duration(timeout) * time.Millisecond,
	}
	if b := strings.TrimSpace(h.Body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
		req.Body = st.render(h.Body, escapeJSON)
	} else {
		req.Body = st.render(h.Body, nil)
	}
	if len(h.Headers) > 0 {
		req.Headers = make(map[string]string, len(h.Headers))
		for k, v := range h.Headers {
			req.Headers[k] = st.render(v, escapeHeader)
		}
	}
	s.Waiting, s.Request = WaitingHTTP, id
	st.effects = append(st.effects, Effect{Type: EffectCallHTTP, Node: n.ID, ID: id, HTTP: req})
	return nil
}

// follow tries the edges of port pi of node i in order and enters the
// target of the first that holds. It reports whether one did.
func (st *stepper) follow(i, pi int) (bool, error) {
	for _, e := range st.c.nodes[i].ports[pi] {
		ok := true
		if e.prog != nil {
			var err error
			if ok, err = st.eval(e.prog); err != nil {
				return false, err
			}
		}
		if ok {
			return true, st.enter(e.to)
		}
	}
	return false, nil
}

// mustFollow follows a port that the checks guarantee has a default edge.
func (st *stepper) mustFollow(i, pi int) error {
	moved, err := st.follow(i, pi)
	if err == nil && !moved {
		return ErrDeadEnd
	}
	return err
}

func (st *stepper) environment() *Env {
	if st.env == nil {
		st.env = &Env{
			Visitor:       st.s.Visitor,
			Agents:        AgentsEnv{Online: st.ev.AgentsOnline},
			Now:           st.now,
			BusinessHours: st.ev.BusinessHours,
		}
	}
	st.env.Vars = st.s.Vars
	st.env.Message = st.msg
	return st.env
}

func (st *stepper) run(p *vm.Program) (any, error) {
	m := vms.Get().(*vm.VM)
	out, err := m.Run(p, st.environment())
	vms.Put(m)
	return out, err
}

// eval runs a condition. A condition that fails at run time (a type the
// checker could not foresee, the memory budget) counts as false: an admin's
// expression must never stop a chat.
func (st *stepper) eval(p *vm.Program) (bool, error) {
	out, err := st.run(p)
	if err != nil {
		return false, nil
	}
	b, _ := out.(bool)
	return b, nil
}

func (st *stepper) setVar(name string, v any) {
	if !st.varsOwned {
		vars := make(map[string]any, len(st.s.Vars)+1)
		for k, old := range st.s.Vars {
			vars[k] = old
		}
		st.s.Vars = vars
		st.varsOwned = true
	}
	st.s.Vars[name] = v
}

func (st *stepper) appendPath(id string) {
	s := &st.s
	if !st.pathOwned {
		p := make([]string, len(s.Path), len(s.Path)+8)
		copy(p, s.Path)
		s.Path = p
		st.pathOwned = true
	}
	if len(s.Path) >= MaxPath {
		copy(s.Path, s.Path[1:])
		s.Path[len(s.Path)-1] = id
		return
	}
	s.Path = append(s.Path, id)
}

func (st *stepper) addQuestion(q string) {
	s := &st.s
	q = truncate(q, 500)
	if !st.questionsOwned {
		s.Questions = append(make([]string, 0, len(s.Questions)+1), s.Questions...)
		st.questionsOwned = true
	}
	if len(s.Questions) >= MaxQuestions {
		copy(s.Questions, s.Questions[1:])
		s.Questions[len(s.Questions)-1] = q
		return
	}
	s.Questions = append(s.Questions, q)
}

// send queues a message in the chat's language, placeholders rendered.
func (st *stepper) send(author Author, t Text, qr []QuickReply, delay int) {
	var replies []Reply
	if len(qr) > 0 {
		replies = make([]Reply, len(qr))
		for j, q := range qr {
			replies[j] = Reply{Label: st.c.text(q.Label, st.s.Language), Value: q.Value}
		}
	}
	st.sendRaw(author, st.render(st.c.text(t, st.s.Language), nil), replies, delay)
}

func (st *stepper) sendRaw(author Author, text string, replies []Reply, delay int) {
	st.effects = append(st.effects, Effect{Type: EffectSend, Node: st.s.Node,
		Message: &OutMessage{Author: author, Text: text, QuickReplies: replies, DelayMS: delay}})
}

// text picks a text's language: the chat's, then the default, then English.
func (c *Compiled) text(t Text, lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	if s, ok := t[c.defaultLang]; ok && s != "" {
		return s
	}
	return t["en"]
}

type escaper func(string) string

func escapeURL(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

func escapeHeader(s string) string { return strings.NewReplacer("\r", "", "\n", "").Replace(s) }

// escapeJSON escapes s for the inside of a JSON string. HTML escaping is
// off: the body goes to an API, not a page.
func escapeJSON(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// render replaces {{vars.NAME}} and {{agent.name}} placeholders. Unknown
// placeholders are left as they are, so a typo shows in the preview.
func (st *stepper) render(s string, esc escaper) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	var b strings.Builder
	for {
		open := strings.Index(s, "{{")
		if open < 0 {
			break
		}
		end := strings.Index(s[open:], "}}")
		if end < 0 {
			break
		}
		b.WriteString(s[:open])
		key := strings.TrimSpace(s[open+2 : open+end])
		val, ok := st.placeholder(key)
		if !ok {
			b.WriteString(s[open : open+end+2])
		} else {
			if esc != nil {
				val = esc(val)
			}
			b.WriteString(val)
		}
		s = s[open+end+2:]
	}
	b.WriteString(s)
	return b.String()
}

func (st *stepper) placeholder(key string) (string, bool) {
	if name, ok := strings.CutPrefix(key, "vars."); ok {
		v, ok := st.s.Vars[name]
		if !ok {
			return "", false
		}
		return formatValue(v), true
	}
	if key == "agent.name" {
		if st.s.Agent != nil {
			return st.s.Agent.Name, true
		}
		if st.ev.Agent.Name != "" {
			return st.ev.Agent.Name, true
		}
		return "", true
	}
	return "", false
}

func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// coerce converts a value to a variable's type, as conditions expect it.
func coerce(v any, t VarType) (any, bool) {
	switch t {
	case VarString:
		switch v := v.(type) {
		case string:
			return truncate(v, MaxVarValueLength), true
		case float64, bool:
			return formatValue(v), true
		case int:
			return strconv.Itoa(v), true
		}
	case VarNumber:
		switch v := v.(type) {
		case float64:
			return v, true
		case int:
			return float64(v), true
		case int64:
			return float64(v), true
		case string:
			return parseNumber(v)
		}
	case VarBool:
		switch v := v.(type) {
		case bool:
			return v, true
		case string:
			b, err := strconv.ParseBool(v)
			return b, err == nil
		}
	}
	return nil, false
}

// lookupPath walks a decoded JSON value along a dotted path of object keys
// and array indexes.
func lookupPath(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		switch cur := v.(type) {
		case map[string]any:
			v = cur[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(cur) {
				return nil
			}
			v = cur[i]
		default:
			return nil
		}
	}
	return v
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// choiceOf returns the value of the quick reply or choice the visitor's
// text picks at this node (field is the collect field being asked), or "".
func (cn *cnode) choiceOf(text string, field int) string {
	var qr []QuickReply
	switch {
	case cn.n.Greet != nil:
		qr = cn.n.Greet.QuickReplies
	case cn.n.Message != nil:
		qr = cn.n.Message.QuickReplies
	case cn.n.Collect != nil && field < len(cn.n.Collect.Fields):
		qr = cn.n.Collect.Fields[field].Choices
	case cn.n.OfflineCapture != nil && field < len(cn.n.OfflineCapture.Fields):
		qr = cn.n.OfflineCapture.Fields[field].Choices
	}
	v, _ := matchChoice(qr, text)
	return v
}
