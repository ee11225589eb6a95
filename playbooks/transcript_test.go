package playbooks

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the expected parts of the golden transcripts from the actual runs")

// TestGoldenTranscripts replays every transcript under
// templates/testdata/<template>/ against its template. With -update it
// rewrites what each step expects from what actually happened; review the
// diff before committing it.
func TestGoldenTranscripts(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("templates", "testdata", "*", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	perTemplate := map[string]int{}
	for _, path := range paths {
		perTemplate[filepath.Base(filepath.Dir(path))]++
		t.Run(strings.TrimSuffix(strings.TrimPrefix(path, filepath.Join("templates", "testdata")+string(filepath.Separator)), ".json"), func(t *testing.T) {
			tr, res, err := ReplayFile(path)
			require.NoError(t, err)
			if *update {
				res.Update(tr)
				data, err := EncodeTranscript(tr)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(path, data, 0o644))
				return
			}
			for _, d := range res.Differences {
				t.Error(d.String())
			}
		})
	}
	// Every template ships golden transcripts for its main paths.
	for _, name := range TemplateNames() {
		require.GreaterOrEqual(t, perTemplate[name], 3, "template %s needs golden transcripts in templates/testdata/%s", name, name)
	}
}

func TestReplayReportsEveryDifference(t *testing.T) {
	t.Parallel()
	path := filepath.Join("templates", "testdata", "lead-qualification", "big-deal.json")
	tr, err := LoadTranscript(path)
	require.NoError(t, err)
	f, err := Load(filepath.Join("templates", "lead-qualification.json"))
	require.NoError(t, err)
	c := compile(t, f)

	// Tamper with three steps' expectations.
	tr.Steps[1].Expect.Messages[0].Text = "How big is your company?"
	tr.Steps[5].Expect.Path = []string{"route", "pricing"}
	tr.Steps[5].Expect.Handover = ""
	tr.Steps[6].Expect.Messages = append(tr.Steps[6].Expect.Messages, Message{Text: "extra"})
	tr.Steps[7].Expect.Status = engine.StatusAgent

	res, err := Replay(c, tr)
	require.NoError(t, err)
	var got []string
	for _, d := range res.Differences {
		got = append(got, d.String())
	}
	require.Equal(t, []string{
		`step 1 (say "Get a quote"): messages[0].text: want "How big is your company?", got "How many people work at your company?"`,
		`step 5 (say "Right away"): path: want [route, pricing], got [route, sales]`,
		`step 5 (say "Right away"): handover: want "", got "handover"`,
		`step 6 (claim by Sam): messages[1]: want "extra", got no message`,
		`step 7 (hand back ""): status: want "agent", got "ended"`,
	}, got)
	require.False(t, res.OK())

	// Update takes the actual run back.
	res.Update(tr)
	res, err = Replay(c, tr)
	require.NoError(t, err)
	require.True(t, res.OK())
}

func TestDecodeTranscript(t *testing.T) {
	t.Parallel()
	const head = `{"name": "t", "playbook": "p.json", "visitor": {"agents_online": 1}, "steps": [`
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"unknown field", head + `{"start": true, "expect": {"status": "bot"}}, {"shout": "hi", "expect": {"status": "bot"}}]}`, `1:127: steps[1].shout: unknown field "shout"`},
		{"two actions", head + `{"start": true, "expect": {"status": "bot"}}, {"say": "hi", "claim": "Ana", "expect": {"status": "bot"}}]}`, "step 1 has 2 actions"},
		{"no action", head + `{"start": true, "expect": {"status": "bot"}}, {"expect": {"status": "bot"}}]}`, "step 1 has 0 actions"},
		{"not started", head + `{"say": "hi", "expect": {"status": "bot"}}]}`, `the first step of a transcript must be {"start": true}`},
		{"started twice", head + `{"start": true, "expect": {"status": "bot"}}, {"start": true, "expect": {"status": "bot"}}]}`, "only the first step starts"},
		{"bad wait", head + `{"start": true, "expect": {"status": "bot"}}, {"wait": false, "expect": {"status": "bot"}}]}`, "wait must be true or a number of seconds"},
		{"wrong type", head + `{"start": "yes", "expect": {"status": "bot"}}]}`, `steps[0].start: expected true or false, found a string`},
		{"trailing data", head + `{"start": true, "expect": {"status": "bot"}}]} []`, "after top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeTranscript([]byte(tt.in))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestGoldenTranscriptsAreCanonical keeps the golden files in the form
// EncodeTranscript writes, so that -update rewrites only what changed.
func TestGoldenTranscriptsAreCanonical(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("templates", "testdata", "*", "*.json"))
	require.NoError(t, err)
	for _, path := range paths {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		tr, err := DecodeTranscript(data)
		require.NoError(t, err, path)
		out, err := EncodeTranscript(tr)
		require.NoError(t, err)
		require.Equal(t, string(data), string(out), path)
	}
}
