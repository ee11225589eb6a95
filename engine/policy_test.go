package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func compileCondition(t testing.TB, condition string) (*Compiled, error) {
	t.Helper()
	g := baseGraph()
	findEdge(&g, "b-h").Condition = condition
	return Compile(&g, Options{})
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		condition string
		refused   string // "" when the condition is allowed
	}{
		{`vars.budget >= 10000 && visitor.is_new`, ""},
		{`lower(message.text) matches "\\b(human|agent)\\b"`, ""},
		{`message.choice in ["a", "b"] || agents.online > 0 || business_hours`, ""},
		{`now.Hour() >= 9 && now.Hour() < 18`, ""},
		{`any(split(message.text, " "), # == "price")`, ""},
		{`count(1..1000, # % 7 == 0) > 10`, ""},
		{`len(vars.email) > 3 ? true : false`, ""},
		{`repeat("a", 1000000) != ""`, "function repeat is not allowed"},
		{`toJSON(vars) != ""`, "function toJSON is not allowed"},
		{`all(1..10, any(1..10, # > 0))`, "inside another predicate"},
		{`filter(map(1..10, #), # > 1) != nil`, "inside another predicate"},
		{`len(1..100000) > 0`, "at most 1000 numbers"},
		{`len(1..vars.budget) > 0`, "literal integer bounds"},
		{`message.text matches vars.email`, "literal string"},
		{`now().Year() > 2000`, "not allowed"},
		{`date("2026-01-01") > now`, "function date is not allowed"},
		{`vars.email.Contains("x")`, "method calls are not allowed"},
		{`now.Add(1) > now`, "method calls are not allowed"},
		{`unknownFn(1)`, "unknown function unknownFn"},
		{`let x = 1; x > 0`, "let and ; are not allowed"},
		{strings.Repeat("(", 30) + "true" + strings.Repeat(")", 30), "nests 30 levels deep"},
		{strings.Repeat("-", 40) + "1 > 0", "nests more than 24 levels"},
		{strings.Repeat("not ", 40) + "true", "nests more than 24 levels"},
		{`"(((((((((((((((((((((((((((((((((((" == message.text`, ""},
		{strings.Repeat("x", 1001), "limit is 1000"},
		{`len(join(map(1..1000, message.text), "")) > 0`, "function join is not allowed"},
		{`len(map(1..1000, message.text + message.text)) > 0`, "joining strings or lists inside a predicate"},
		{`len(map(1..1000, [#] + [#])) > 0`, "invalid operation"},
		{`string(split(message.text, "")) != ""`, "string() of a list or map"},
		{`len(message.text + message.text + message.text) > 10`, ""},
		{`any(1..10, # + 1 > 5)`, ""},
		{"message.text == \"\xff\"", "not valid UTF-8"},
	}
	for _, tc := range cases {
		name := tc.condition
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := compileCondition(t, tc.condition)
			if tc.refused == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			ce := err.(*CheckError)
			require.Contains(t, ce.Errors()[0].Message, tc.refused)
			require.Equal(t, "b-h", ce.Errors()[0].Edge)
		})
	}
}

func TestPolicyPositionsPointAtTheFault(t *testing.T) {
	t.Parallel()
	_, err := compileCondition(t, "vars.budget > 1 &&\n  repeat(\"a\", 9) == \"\"")
	d := err.(*CheckError).Errors()[0]
	require.Equal(t, 2, d.Line)
	require.Equal(t, 3, d.Column)
}

func TestMemoryBudgetMakesAConditionFalse(t *testing.T) {
	t.Parallel()
	// Each range is allowed on its own; together they pass the budget, and
	// the VM stops. The condition then counts as false and the chat goes on.
	parts := make([]string, 25)
	for i := range parts {
		parts[i] = "1..1000"
	}
	c, err := compileCondition(t, "len(["+strings.Join(parts, ", ")+"]) > 0")
	require.NoError(t, err)
	ch := newChat(t, c, 1)
	ch.say("buy")
	ch.say("50000")
	ch.say("a@b.co")
	require.Equal(t, "cap", ch.s.Node, "the over-budget condition counted as false")
}

func FuzzCondition(f *testing.F) {
	for _, seed := range []string{
		`vars.budget >= 10000`, `message.text matches "^a+$"`, `all(1..10, # > 0)`,
		`now.Hour() > 9`, `repeat("a", 99)`, `((((1))))`, `1..1000000`, `"\u00ff" + message.text`,
		`map(split(message.text, ""), # + #)[0] == "x"`, `let a = 1; a`, `vars?.budget ?? 1 > 0`,
	} {
		f.Add(seed, "some visitor text")
	}
	f.Fuzz(func(t *testing.T, condition, text string) {
		c, err := compileCondition(t, condition)
		if err != nil {
			return
		}
		// Whatever compiles must run without crashing the chat.
		ch := &chat{t: t, c: c, online: 1}
		ch.step(Event{Type: EventStart})
		ch.say("buy")
		ch.say("20000")
		if len(text) > MaxVisitorText {
			text = text[:MaxVisitorText]
		}
		ch.say(text)
	})
}
