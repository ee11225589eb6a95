package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/playbooks"
)

// Validate checks playbook files and prints every finding as
// FILE:LINE:COL: severity at node/edge: message. It returns ExitOK when no
// file has an error (warnings do not fail), ExitError otherwise.
func Validate(files []string, env Env) int {
	if len(files) == 0 {
		fmt.Fprintln(env.Stderr, "usage: frontdesk validate FILE...")
		return ExitUsage
	}
	code := ExitOK
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
			code = ExitError
			continue
		}
		if len(data) > playbooks.MaxFileSize {
			fmt.Fprintf(env.Stderr, "%s: %d bytes; the limit is %d\n", name, len(data), playbooks.MaxFileSize)
			code = ExitError
			continue
		}
		_, diags, err := playbooks.Validate(data)
		var de *playbooks.DecodeError
		switch {
		case errors.As(err, &de):
			fmt.Fprintf(env.Stderr, "%s:%s\n", name, de.Error())
			code = ExitError
			continue
		case err != nil:
			fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
			code = ExitError
			continue
		}
		errs := 0
		for _, d := range diags {
			fmt.Fprintf(env.Stderr, "%s:%s\n", name, d.String())
			if d.Severity == engine.SeverityError {
				errs++
			}
		}
		if errs > 0 {
			code = ExitError
			fmt.Fprintf(env.Stderr, "%s: %d error(s)\n", name, errs)
		} else {
			fmt.Fprintf(env.Stdout, "%s: ok\n", name)
		}
	}
	return code
}
