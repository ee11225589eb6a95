// Package cli holds frontdesk's subcommands: serve (the default), migrate,
// setup, validate, simulate and bench. Each is a function of its arguments
// and an Env, so tests run them in-process.
package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/frontdesk/frontdesk/bench"
)

// Env is the process environment a command sees.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// StdinIsTTY says whether Stdin is a terminal (simulate prompts then).
	StdinIsTTY bool
}

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	// ExitUsage is returned for bad arguments or settings.
	ExitUsage = 2
)

const usage = `frontdesk: website chat playbooks, live chat and leads.

Usage:
  frontdesk [serve] [--demo] [--migrate] [--addr HOST:PORT] [--database-url URL]
  frontdesk migrate up|down|status [--database-url URL]
  frontdesk setup --workspace NAME --email EMAIL --name NAME   (password on stdin)
  frontdesk validate FILE...
  frontdesk simulate [--locale fr] [--agents N] [--returning] FILE
  frontdesk test TRANSCRIPT.json... (replays transcript tests)
  frontdesk bench [--mode embedded|postgres|cluster] (load test; see docs/performance.md)
  frontdesk openapi                 (prints the OpenAPI document)
  frontdesk help

Settings come from flags and FRONTDESK_* environment variables; see the README.
`

// Main runs the command named by args[0] (serve when there is none or it
// starts with a dash) and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return Serve(ctx, args, env)
	case "migrate":
		return Migrate(ctx, args, env)
	case "setup":
		return Setup(ctx, args, env)
	case "validate":
		return Validate(args, env)
	case "simulate":
		return Simulate(ctx, args, env)
	case "openapi":
		return OpenAPI(args, env)
	case "test":
		return Test(args, env)
	case "bench":
		return bench.Main(ctx, args, env.Stdout, env.Stderr)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "frontdesk: unknown command %q\n\n%s", cmd, usage)
	return ExitUsage
}
