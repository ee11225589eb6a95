package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

const usage = `Usage: frontdesk bench [flags]

Starts Frontdesk (and, for comparison, a minimal websocket echo server on the
same stack) on 127.0.0.1, drives websocket visitors through the
lead-qualification playbook, and reports bot reply latency, visitor messages
per second, errors, server CPU per 1000 messages, RSS and memory per idle
socket, next to the targets. It stops by itself. See docs/performance.md.

Flags:
`

// Main is `frontdesk bench ARGS...`: it parses the flags, runs the bench
// and prints the report (a table, or JSON with --json). It returns the
// exit code: 0 when the run completed (whatever the targets say), 1 when
// it could not run, 2 for bad flags.
//
// `frontdesk bench echo-server --addr HOST:PORT --lifetime D` is the
// hidden mode the bench re-executes itself in to serve the floor.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "echo-server" {
		return echoMain(ctx, args[1:], stderr)
	}
	o := Defaults()
	if v := os.Getenv("FRONTDESK_BENCH_POSTGRES_URL"); v != "" {
		o.PostgresURL = v
	}
	if v := os.Getenv("FRONTDESK_BENCH_REDIS_URL"); v != "" {
		o.RedisURL = v
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	mode := fs.String("mode", string(o.Mode), "embedded (SQLite + memory broker), postgres (Postgres + Redis, one node) or cluster (two nodes)")
	fs.IntVar(&o.Visitors, "visitors", o.Visitors, "concurrent visitors, one socket each")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "visitor messages per second in total, paced open-loop; 0 saturates")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "measured window")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "load before the window, not measured")
	fs.IntVar(&o.Idle, "idle", o.Idle, "idle sockets for the memory measure (0: skip)")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	noFloor := fs.Bool("no-floor", false, "skip the echo floor")
	noPgbench := fs.Bool("no-pgbench", false, "skip pgbench (postgres and cluster modes)")
	fs.IntVar(&o.PgbenchClients, "pgbench-clients", 0, "pgbench clients (0: as many as visitors, within Postgres's free connections)")
	fs.StringVar(&o.PostgresURL, "postgres-url", o.PostgresURL, "Postgres for the postgres and cluster modes (FRONTDESK_BENCH_POSTGRES_URL); the bench creates and drops a schema of its own")
	fs.StringVar(&o.RedisURL, "redis-url", o.RedisURL, "Redis for the postgres and cluster modes (FRONTDESK_BENCH_REDIS_URL)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temp dir (database file, server logs)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "frontdesk bench: unexpected arguments %v\n", fs.Args())
		return 2
	}
	o.Mode = Mode(*mode)
	o.Floor, o.Pgbench = !*noFloor, !*noPgbench
	o.Progress = stderr
	if err := o.check(); err != nil {
		fmt.Fprintf(stderr, "frontdesk bench: %v\n", err)
		return 2
	}
	rep, err := Run(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "frontdesk bench: %v\n", err)
		return 1
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return 1
		}
		return 0
	}
	if err := rep.WriteTable(stdout); err != nil {
		return 1
	}
	return 0
}

// echoMain serves the floor until ctx ends or --lifetime passes.
func echoMain(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench echo-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	lifetime := fs.Duration("lifetime", 10*time.Minute, "stop after this long in any case")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *lifetime <= 0 || *lifetime > 24*time.Hour {
		fmt.Fprintf(stderr, "frontdesk bench echo-server: --lifetime %v: want up to 24h\n", *lifetime)
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "frontdesk bench echo-server: %v\n", err)
		return 1
	}
	if err := ServeEcho(ctx, ln, *lifetime); err != nil {
		fmt.Fprintf(stderr, "frontdesk bench echo-server: %v\n", err)
		return 1
	}
	return 0
}
