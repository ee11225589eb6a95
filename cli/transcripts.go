package cli

import (
	"fmt"

	"github.com/frontdesk/frontdesk/playbooks"
)

// Test replays transcript files (playbooks-as-code): each names its
// playbook, the visitor inputs, and the bot messages and node path
// expected after each. It prints every difference and exits non-zero when
// any transcript changed.
func Test(files []string, env Env) int {
	if len(files) == 0 {
		fmt.Fprintln(env.Stderr, "usage: frontdesk test TRANSCRIPT.json...")
		return ExitUsage
	}
	code := ExitOK
	for _, name := range files {
		_, res, err := playbooks.ReplayFile(name)
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
			code = ExitError
			continue
		}
		if res.OK() {
			fmt.Fprintf(env.Stdout, "%s: ok (%d steps)\n", name, len(res.Steps))
			continue
		}
		code = ExitError
		for _, d := range res.Differences {
			fmt.Fprintf(env.Stderr, "%s: %s\n", name, d.String())
		}
		fmt.Fprintf(env.Stderr, "%s: %d difference(s)\n", name, len(res.Differences))
	}
	return code
}
