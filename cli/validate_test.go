package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/cli"
)

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(context.Background(), args, cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

func TestValidateAcceptsEveryTemplate(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../playbooks/templates/*.json")
	require.NoError(t, err)
	require.Len(t, files, 4)
	code, out, stderr := run(t, "", append([]string{"validate"}, files...)...)
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Equal(t, 4, strings.Count(out, ": ok"))
}

func TestValidateRefusesBrokenCopiesWithPositions(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../playbooks/templates/live-chat.json")
	require.NoError(t, err)
	dir := t.TempDir()
	cases := map[string]struct {
		from, to string
		want     []string
	}{
		"bad condition": {`"id": "greet-connect",`, `"id": "greet-connect", "condition": "agents.online >",`,
			[]string{"edge greet-connect", "condition (1:"}},
		"dangling edge":    {`"to": "bye"`, `"to": "nowhere"`, []string{`"nowhere"`, "does not exist"}},
		"unreachable node": {`"nodes": [`, `"nodes": [{"id": "lonely", "kind": "end"},`, []string{"node lonely", "no path from the start"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			broken := strings.Replace(string(src), c.from, c.to, 1)
			require.NotEqual(t, string(src), broken, "the break applies")
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
			require.NoError(t, os.WriteFile(path, []byte(broken), 0o600))
			code, _, stderr := run(t, "", "validate", path)
			require.Equal(t, cli.ExitError, code)
			for _, w := range c.want {
				require.Contains(t, stderr, w)
			}
			// Every finding starts with FILE:LINE:COL.
			require.Regexp(t, `(?m)^`+regexpQuote(path)+`:\d+:\d+: error`, stderr)
		})
	}
}

func regexpQuote(s string) string {
	return strings.NewReplacer(".", `\.`, "-", `\-`, "/", `\/`).Replace(s)
}

func TestSimulateReadsStdinLineByLine(t *testing.T) {
	t.Parallel()
	in := "Get a quote\n250\n10k\nana@bigcorp.com\nRight away\n/wait\n/vars\n/quit\n"
	code, out, stderr := run(t, in, "simulate", "../playbooks/templates/lead-qualification.json")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Contains(t, out, "bot> How many people work at your company?")
	require.Contains(t, out, "path: route -> sales  (status waiting_agent)")
	require.Contains(t, out, "handover requested")
	require.Contains(t, out, "budget = 10000")
}

func TestSimulateSurvivesBadCommands(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "/handback nowhere\n/agents x\n/bogus\n\x00\n", "simulate", "../playbooks/templates/live-chat.json")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, out, "unknown command /bogus")
}

func TestOpenAPIDocumentPrints(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "", "openapi")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, out, `"openapi": "3.1.0"`)
	require.Contains(t, out, "/api/v1/assistants/{id}/versions")
}

func TestTestCommandReplaysTranscripts(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../playbooks/templates/testdata/*/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	code, out, stderr := run(t, "", append([]string{"test"}, files...)...)
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Equal(t, len(files), strings.Count(out, ": ok"))

	// A transcript whose expectation no longer holds fails with the step.
	src, err := os.ReadFile("../playbooks/templates/testdata/live-chat/timed-out.json")
	require.NoError(t, err)
	broken := strings.Replace(string(src), "Which email can we reach you at?", "Your email?", 1)
	dir := filepath.Join(t.TempDir(), "playbooks", "templates", "testdata", "live-chat")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	tpl, err := os.ReadFile("../playbooks/templates/live-chat.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "../../live-chat.json"), tpl, 0o600))
	path := filepath.Join(dir, "timed-out.json")
	require.NoError(t, os.WriteFile(path, []byte(broken), 0o600))
	code, _, stderr = run(t, "", "test", path)
	require.Equal(t, cli.ExitError, code)
	require.Contains(t, stderr, "Which email can we reach you at?")
	require.Contains(t, stderr, "1 difference(s)")
}
