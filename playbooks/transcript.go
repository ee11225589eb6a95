package playbooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/engine"
)

// MaxTranscriptSize bounds a transcript file.
const MaxTranscriptSize = 1 << 20

// Transcript is a saved conversation with a playbook: the visitor's
// settings, then steps, each one action (a visitor message, a wait, an
// agent action...) with what the bot is expected to do after it. Replay
// runs the actions on a Session and reports every difference.
type Transcript struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Playbook is the playbook file's path, relative to the transcript's
	// directory.
	Playbook string   `json:"playbook"`
	Visitor  Settings `json:"visitor"`
	Steps    []Step   `json:"steps"`
}

// Settings are the visitor's and the workspace's circumstances at the start
// of a transcript.
type Settings struct {
	// Locale is the browser's locale ("fr-FR"); empty is the default
	// language.
	Locale string `json:"locale,omitempty"`
	// IsNew defaults to true: a visitor not seen before.
	IsNew      *bool  `json:"is_new,omitempty"`
	PageURL    string `json:"page_url,omitempty"`
	Referrer   string `json:"referrer,omitempty"`
	Identified bool   `json:"identified,omitempty"`
	// AgentsOnline is how many agents are online at the start.
	AgentsOnline int `json:"agents_online"`
	// BusinessHours defaults to true.
	BusinessHours *bool `json:"business_hours,omitempty"`
	// Vars are values for the playbook's declared variables.
	Vars map[string]any `json:"vars,omitempty"`
	// Clock is when the chat starts. Defaults to DefaultClock.
	Clock *time.Time `json:"clock,omitempty"`
}

// Step is one action and what is expected after it. Exactly one action
// field is set; the first step, and only it, is {"start": true}.
type Step struct {
	// Start starts the conversation.
	Start bool `json:"start,omitempty"`
	// Say is a visitor message.
	Say *string `json:"say,omitempty"`
	// Wait fast-forwards the clock: true fires the next pending timer, a
	// number of seconds fires every timer due by then.
	Wait *Wait `json:"wait,omitempty"`
	// Claim is the name of an agent who claims the chat from the queue.
	Claim string `json:"claim,omitempty"`
	// TakeOver is the name of an agent who takes the chat from the bot.
	TakeOver string `json:"take_over,omitempty"`
	// Release puts the chat back in the queue.
	Release bool `json:"release,omitempty"`
	// HandBack gives the chat back to the bot at this node; "" follows the
	// claimed port of the handover node.
	HandBack *string `json:"hand_back,omitempty"`
	// AgentsOnline changes how many agents are online.
	AgentsOnline *int `json:"agents_online,omitempty"`
	// BusinessHours changes whether it is business hours.
	BusinessHours *bool `json:"business_hours,omitempty"`
	// Answer resolves the pending faq or llm_answer question. While the
	// step after a step is an answer (or http) step, the question (or call)
	// that step starts is held for it; otherwise questions get the default
	// answer at once (not matched for faq, handover for llm_answer).
	Answer *AnswerStub `json:"answer,omitempty"`
	// HTTP resolves the pending outbound call; otherwise calls fail.
	HTTP *HTTPStub `json:"http,omitempty"`

	// Expect is what the bot does after the action.
	Expect Expect `json:"expect"`
}

// Wait is a fast-forward: Seconds 0 (written true) fires the next pending
// timer; more fires every timer due within that many seconds.
type Wait struct {
	Seconds int
}

// MarshalJSON writes true or the number of seconds.
func (w Wait) MarshalJSON() ([]byte, error) {
	if w.Seconds == 0 {
		return []byte("true"), nil
	}
	return []byte(strconv.Itoa(w.Seconds)), nil
}

// UnmarshalJSON reads true or a positive number of seconds.
func (w *Wait) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "true" {
		w.Seconds = 0
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > engine.MaxHandoverWaitSeconds*7 {
		return fmt.Errorf("wait must be true or a number of seconds from 1 to %d, not %s", engine.MaxHandoverWaitSeconds*7, s)
	}
	w.Seconds = n
	return nil
}

// AnswerStub is the answerer's result for a pending question.
type AnswerStub struct {
	Matched  bool   `json:"matched,omitempty"`
	Text     string `json:"text,omitempty"`
	Handover bool   `json:"handover,omitempty"`
}

// HTTPStub is the result of a pending outbound call. Error makes it a failed
// call; otherwise Status and Body are the response.
type HTTPStub struct {
	Status int             `json:"status,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// Expect is what happened after one step, expected or actual.
type Expect struct {
	// Messages are the bot's messages and system notices, in order.
	Messages []Message `json:"messages,omitempty"`
	// Path is the nodes entered, in order.
	Path []string `json:"path,omitempty"`
	// Status is the conversation's status after the step.
	Status engine.Status `json:"status"`
	// Handover is the reason of the handover requested in this step
	// ("handover", "rule:ID", "loop_breaker", "answerer"), if any.
	Handover string `json:"handover,omitempty"`
	// Leads are the leads captured in this step.
	Leads []engine.Lead `json:"leads,omitempty"`
	// Error is the error the action failed with, if it did.
	Error string `json:"error,omitempty"`
}

// Message is a message to the visitor as a transcript records it: the text
// in the chat's language and the values of its quick replies.
type Message struct {
	// Author is empty for the bot, or "system" for a notice.
	Author       engine.Author `json:"author,omitempty"`
	Text         string        `json:"text"`
	QuickReplies []string      `json:"quick_replies,omitempty"`
}

// Difference is one way a replay differs from its transcript.
type Difference struct {
	// Step is the 0-based index of the step.
	Step int `json:"step"`
	// Action describes the step ("say \"hello\"").
	Action string `json:"action"`
	// Field is what differs: "messages[1].text", "path", "status"...
	Field string `json:"field"`
	Want  string `json:"want"`
	Got   string `json:"got"`
}

// String formats the difference as "step N (action): field: want W, got G".
func (d Difference) String() string {
	return fmt.Sprintf("step %d (%s): %s: want %s, got %s", d.Step, d.Action, d.Field, d.Want, d.Got)
}

// Result is a replay: what actually happened after each step, and every
// difference from what the transcript expected.
type Result struct {
	Steps       []Expect     `json:"steps"`
	Differences []Difference `json:"differences,omitempty"`
}

// OK reports whether the replay matched the transcript.
func (r *Result) OK() bool { return len(r.Differences) == 0 }

// Update replaces the expected part of each step of t with what actually
// happened, as `go test -update` does for golden transcripts.
func (r *Result) Update(t *Transcript) {
	for i := range t.Steps {
		if i < len(r.Steps) {
			t.Steps[i].Expect = r.Steps[i]
		}
	}
}

// DecodeTranscript reads a transcript strictly: unknown or duplicated
// fields, values of the wrong type and trailing data are refused with a
// *DecodeError, like a playbook file's; a step must hold exactly one action.
func DecodeTranscript(data []byte) (*Transcript, error) {
	if len(data) > MaxTranscriptSize {
		return nil, &DecodeError{Message: fmt.Sprintf("the transcript is %d bytes; the limit is %d", len(data), MaxTranscriptSize)}
	}
	if err := checkSyntax(data, "a transcript"); err != nil {
		return nil, err
	}
	if err := newWalker(data, false).document(reflect.TypeFor[Transcript]()); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var t Transcript
	if err := dec.Decode(&t); err != nil {
		// What the walk leaves to encoding/json: the values of types that
		// decode themselves, such as wait.
		return nil, &DecodeError{Message: err.Error()}
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	return &t, nil
}

// LoadTranscript reads the transcript file at path.
func LoadTranscript(path string) (*Transcript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := DecodeTranscript(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// EncodeTranscript writes t in the same canonical style as Encode.
func EncodeTranscript(t *Transcript) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (t *Transcript) check() error {
	if len(t.Steps) == 0 || !t.Steps[0].Start {
		return errors.New(`the first step of a transcript must be {"start": true}`)
	}
	for i, st := range t.Steps {
		if n := st.actions(); n != 1 {
			return fmt.Errorf("step %d has %d actions; a step has exactly one", i, n)
		}
		if i > 0 && st.Start {
			return fmt.Errorf("step %d: only the first step starts the conversation", i)
		}
	}
	return nil
}

func (st *Step) actions() int {
	n := 0
	for _, set := range []bool{st.Start, st.Say != nil, st.Wait != nil, st.Claim != "", st.TakeOver != "",
		st.Release, st.HandBack != nil, st.AgentsOnline != nil, st.BusinessHours != nil, st.Answer != nil, st.HTTP != nil} {
		if set {
			n++
		}
	}
	return n
}

// describe names a step's action for a difference report.
func (st *Step) describe() string {
	switch {
	case st.Start:
		return "start"
	case st.Say != nil:
		return "say " + strconv.Quote(*st.Say)
	case st.Wait != nil:
		if st.Wait.Seconds == 0 {
			return "wait for the next timer"
		}
		return fmt.Sprintf("wait %ds", st.Wait.Seconds)
	case st.Claim != "":
		return "claim by " + st.Claim
	case st.TakeOver != "":
		return "take over by " + st.TakeOver
	case st.Release:
		return "release"
	case st.HandBack != nil:
		return "hand back " + strconv.Quote(*st.HandBack)
	case st.AgentsOnline != nil:
		return fmt.Sprintf("agents online %d", *st.AgentsOnline)
	case st.BusinessHours != nil:
		return fmt.Sprintf("business hours %t", *st.BusinessHours)
	case st.Answer != nil:
		return "answer"
	case st.HTTP != nil:
		return "http response"
	}
	return "nothing"
}

// SessionConfig returns the session configuration the settings describe.
func (s Settings) SessionConfig() SessionConfig {
	cfg := SessionConfig{
		Visitor: engine.VisitorEnv{
			IsNew:      s.IsNew == nil || *s.IsNew,
			PageURL:    s.PageURL,
			Referrer:   s.Referrer,
			Identified: s.Identified,
		},
		Locale:        s.Locale,
		Vars:          s.Vars,
		AgentsOnline:  s.AgentsOnline,
		BusinessHours: s.BusinessHours == nil || *s.BusinessHours,
	}
	if s.Clock != nil {
		cfg.Clock = *s.Clock
	}
	return cfg
}

// Replay runs t on a new Session over c, with no answerer and no outbound
// calls but the transcript's own stubs, and compares every step with what
// it expects. A malformed transcript is an error; differences are not.
func Replay(c *engine.Compiled, t *Transcript) (*Result, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	ctx := context.Background()
	s := NewSession(c, t.Visitor.SessionConfig())
	res := &Result{Steps: make([]Expect, len(t.Steps))}
	for i := range t.Steps {
		st := &t.Steps[i]
		// Hold the request this step starts when the next step is there
		// to resolve it.
		hold := false
		if i+1 < len(t.Steps) {
			next := &t.Steps[i+1]
			hold = next.Answer != nil || next.HTTP != nil
		}
		s.HoldRequests(hold)
		turn, err := runStep(ctx, s, st)
		got := actual(s, turn, err)
		res.Steps[i] = got
		res.Differences = append(res.Differences, compare(i, st.describe(), st.Expect, got)...)
	}
	return res, nil
}

func runStep(ctx context.Context, s *Session, st *Step) (Turn, error) {
	switch {
	case st.Start:
		return s.Start(ctx)
	case st.Say != nil:
		return s.Say(ctx, *st.Say)
	case st.Wait != nil:
		if st.Wait.Seconds == 0 {
			return s.FastForward(ctx)
		}
		return s.Advance(ctx, time.Duration(st.Wait.Seconds)*time.Second)
	case st.Claim != "":
		return s.Claim(ctx, st.Claim)
	case st.TakeOver != "":
		return s.TakeOver(ctx, st.TakeOver)
	case st.Release:
		return s.Release(ctx)
	case st.HandBack != nil:
		return s.HandBack(ctx, *st.HandBack)
	case st.AgentsOnline != nil:
		s.SetAgentsOnline(*st.AgentsOnline)
	case st.BusinessHours != nil:
		s.SetBusinessHours(*st.BusinessHours)
	case st.Answer != nil:
		return s.Answer(ctx, engine.Answer{Matched: st.Answer.Matched, Text: st.Answer.Text, Handover: st.Answer.Handover})
	case st.HTTP != nil:
		r := engine.HTTPResult{Status: st.HTTP.Status, Body: st.HTTP.Body, Err: st.HTTP.Error}
		return s.RespondHTTP(ctx, r)
	}
	return Turn{}, nil
}

func actual(s *Session, turn Turn, err error) Expect {
	got := Expect{Path: turn.Path, Leads: turn.Leads, Status: s.State().Status}
	for _, m := range turn.Messages {
		msg := Message{Text: m.Text}
		if m.Author != engine.AuthorBot {
			msg.Author = m.Author
		}
		for _, q := range m.QuickReplies {
			msg.QuickReplies = append(msg.QuickReplies, q.Value)
		}
		got.Messages = append(got.Messages, msg)
	}
	if len(turn.Handovers) > 0 {
		got.Handover = turn.Handovers[len(turn.Handovers)-1].Summary.Reason
	}
	if err != nil {
		got.Error = err.Error()
	}
	return got
}

func compare(step int, action string, want, got Expect) []Difference {
	var out []Difference
	diff := func(field, w, g string) {
		out = append(out, Difference{Step: step, Action: action, Field: field, Want: w, Got: g})
	}
	for j := 0; j < max(len(want.Messages), len(got.Messages)); j++ {
		field := fmt.Sprintf("messages[%d]", j)
		switch {
		case j >= len(got.Messages):
			diff(field, showMessage(want.Messages[j]), "no message")
		case j >= len(want.Messages):
			diff(field, "no message", showMessage(got.Messages[j]))
		default:
			w, g := want.Messages[j], got.Messages[j]
			if w.Author != g.Author {
				diff(field+".author", showAuthor(w.Author), showAuthor(g.Author))
			}
			if w.Text != g.Text {
				diff(field+".text", strconv.Quote(w.Text), strconv.Quote(g.Text))
			}
			if !slices.Equal(w.QuickReplies, g.QuickReplies) {
				diff(field+".quick_replies", showList(w.QuickReplies), showList(g.QuickReplies))
			}
		}
	}
	if !slices.Equal(want.Path, got.Path) {
		diff("path", showList(want.Path), showList(got.Path))
	}
	if want.Status != got.Status {
		diff("status", strconv.Quote(string(want.Status)), strconv.Quote(string(got.Status)))
	}
	if want.Handover != got.Handover {
		diff("handover", strconv.Quote(want.Handover), strconv.Quote(got.Handover))
	}
	if w, g := showLeads(want.Leads), showLeads(got.Leads); w != g {
		diff("leads", w, g)
	}
	if want.Error != got.Error {
		diff("error", strconv.Quote(want.Error), strconv.Quote(got.Error))
	}
	return out
}

func showMessage(m Message) string {
	s := strconv.Quote(m.Text)
	if m.Author != "" {
		s = string(m.Author) + " " + s
	}
	if len(m.QuickReplies) > 0 {
		s += " " + showList(m.QuickReplies)
	}
	return s
}

func showAuthor(a engine.Author) string {
	if a == "" {
		return "bot"
	}
	return string(a)
}

func showList(l []string) string { return "[" + strings.Join(l, ", ") + "]" }

func showLeads(l []engine.Lead) string {
	if len(l) == 0 {
		return "none"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// ReplayFile loads the transcript at path and the playbook it names,
// compiles the playbook and replays the transcript on it.
func ReplayFile(path string) (*Transcript, *Result, error) {
	t, err := LoadTranscript(path)
	if err != nil {
		return nil, nil, err
	}
	if t.Playbook == "" {
		return nil, nil, fmt.Errorf("%s: the transcript names no playbook", path)
	}
	pb := t.Playbook
	if !filepath.IsAbs(pb) {
		pb = filepath.Join(filepath.Dir(path), filepath.FromSlash(pb))
	}
	f, err := Load(pb)
	if err != nil {
		return nil, nil, err
	}
	c, err := engine.Compile(&f.Graph, engine.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", pb, err)
	}
	res, err := Replay(c, t)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, res, nil
}
