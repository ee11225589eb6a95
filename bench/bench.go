// Package bench measures a running Frontdesk the way visitors use it: N
// concurrent websocket visitors walk the lead-qualification playbook on
// loopback, and the bench reports bot reply latency, visitor messages per
// second, errors, the server's CPU per message and memory per idle socket.
// In the same run it measures the floor, a minimal websocket echo server on
// the same stack (fiber and gofiber/contrib/websocket), with the same
// clients, and reports Frontdesk's figures as ratios of the floor's.
//
// The bench starts every server itself by re-executing its own binary:
// "frontdesk serve --migrate" for the nodes (after seeding their database
// directly through package storage) and "frontdesk bench echo-server" for
// the floor. Everything listens on 127.0.0.1; clients bind other loopback
// addresses (127.10.x.y) so the server's per-address socket cap does not
// apply to the bench as a whole. Every loop is bounded by a count and by
// the clock, and every child process is stopped (SIGTERM, then SIGKILL)
// at the end.
//
// See docs/performance.md for what each figure means and the targets.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/wire"
)

// Mode selects the servers under test.
type Mode string

// The modes.
const (
	// Embedded is one node on a SQLite file (in a temp dir) with the
	// memory broker: the default deployment.
	Embedded Mode = "embedded"
	// Postgres is one node on Postgres (a schema of its own) with the
	// Redis broker.
	Postgres Mode = "postgres"
	// Cluster is two nodes on the same Postgres and Redis; visitors
	// alternate between them, and an observer socket on the other node
	// measures the cross-node delay.
	Cluster Mode = "cluster"
)

// Defaults.
const (
	DefaultVisitors    = 200
	DefaultDuration    = 20 * time.Second
	DefaultWarmup      = 2 * time.Second
	DefaultIdle        = 1000
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	// PgbenchSeconds is how long pgbench runs.
	PgbenchSeconds = 10
)

// Options configure a run. Start from Defaults.
type Options struct {
	Mode Mode
	// Visitors run concurrently, each on its own socket.
	Visitors int
	// Rate is visitor messages per second in total, paced open-loop
	// (each visitor on its own schedule); 0 saturates: each visitor sends
	// its next message as soon as the bot replied. Either way each
	// visitor stays under the server's per-socket frame limit.
	Rate float64
	// Duration is the measured window, after Warmup.
	Duration, Warmup time.Duration
	// Idle is how many idle sockets the memory measure opens (0: none).
	Idle int
	// Floor runs the echo floor after Frontdesk.
	Floor bool
	// Pgbench runs pgbench's single-row INSERT rate (postgres and
	// cluster modes) with PgbenchClients clients (0: as many as visitors,
	// within what Postgres has free).
	Pgbench        bool
	PgbenchClients int
	// PostgresURL and RedisURL serve the postgres and cluster modes.
	PostgresURL, RedisURL string

	// Exe is the binary to re-execute (default: os.Executable()).
	// ServerArgs start a node (default: serve --migrate) and EchoArgs the
	// floor (default: bench echo-server); Env is added to both.
	Exe                  string
	ServerArgs, EchoArgs []string
	Env                  []string
	// Dir is where the run's temp dir goes (default: os.TempDir()). Keep
	// keeps it (database file and server logs) and says where.
	Dir  string
	Keep bool
	// Progress receives one line per phase; nil discards them.
	Progress io.Writer
}

// Defaults returns the options of `frontdesk bench` with no flags.
func Defaults() Options {
	return Options{
		Mode: Embedded, Visitors: DefaultVisitors, Duration: DefaultDuration, Warmup: DefaultWarmup,
		Idle: DefaultIdle, Floor: true, Pgbench: true,
		PostgresURL: DefaultPostgresURL, RedisURL: DefaultRedisURL,
		ServerArgs: []string{"serve", "--migrate"}, EchoArgs: []string{"bench", "echo-server"},
	}
}

func (o *Options) check() error {
	var errs []error
	switch o.Mode {
	case Embedded, Postgres, Cluster:
	default:
		errs = append(errs, fmt.Errorf("--mode %q: want embedded, postgres or cluster", o.Mode))
	}
	if o.Visitors < 1 || o.Visitors > 20_000 {
		errs = append(errs, fmt.Errorf("--visitors %d: want 1 to 20000", o.Visitors))
	}
	if o.Rate < 0 || o.Rate > float64(o.Visitors)*clientRate {
		errs = append(errs, fmt.Errorf("--rate %g: want 0 (saturate) up to %g (%d visitors × %g messages/s each)", o.Rate, float64(o.Visitors)*clientRate, o.Visitors, clientRate))
	}
	if o.Duration < time.Second || o.Duration > time.Hour {
		errs = append(errs, fmt.Errorf("--duration %v: want 1s to 1h", o.Duration))
	}
	if o.Warmup < 0 || o.Warmup > 5*time.Minute {
		errs = append(errs, fmt.Errorf("--warmup %v: want 0 to 5m", o.Warmup))
	}
	if o.Idle < 0 || o.Idle > 15_000 {
		errs = append(errs, fmt.Errorf("--idle %d: want 0 to 15000", o.Idle))
	}
	return errors.Join(errs...)
}

// Side is one server's figures under the same load: Frontdesk's or the
// floor's.
type Side struct {
	Nodes int `json:"nodes"`
	// Messages is visitor messages answered (bot reply or echo) that
	// were sent inside the window; Conversations those finished in it.
	Messages          int64   `json:"messages"`
	Conversations     int64   `json:"conversations"`
	MessagesPerSecond float64 `json:"messages_per_second"`
	// ClientCapPerSecond is the most the visitors can send when
	// saturating (each stays under the per-socket frame limit); a
	// saturated rate near it means the run needs more visitors.
	ClientCapPerSecond float64 `json:"client_cap_per_second,omitempty"`
	// Reply is send → first bot reply event (Frontdesk, after the
	// transaction committed) or → echo (floor).
	Reply Percentiles `json:"reply"`
	// Start is connect-less hello → greeting (or its echo).
	Start Percentiles `json:"conversation_start"`
	// LateSends: open-loop sends more than 10 ms behind schedule.
	LateSends   int64  `json:"late_sends"`
	Errors      Errors `json:"errors"`
	ErrorsTotal int64  `json:"errors_total"`
	// Server CPU (user + system, every node) over the window.
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
	ServerCPUPer1000 float64 `json:"server_cpu_seconds_per_1000_messages"`
	ServerRSSBytes   int64   `json:"server_rss_bytes"`
	ServerPeakRSS    int64   `json:"server_peak_rss_bytes"`
	// ClientCPUSeconds is the bench's own CPU over the window, and
	// MachineBusyCPUs the machine's mean busy CPUs (servers, bench,
	// databases and everything else).
	ClientCPUSeconds float64 `json:"client_cpu_seconds"`
	MachineBusyCPUs  float64 `json:"machine_busy_cpus"`
	// OtherBusyCPUs is what the rest of the machine kept busy: the
	// databases in postgres and cluster modes, and anything else running.
	OtherBusyCPUs float64 `json:"other_busy_cpus"`
	WindowSeconds float64 `json:"window_seconds"`
	Idle          Idle    `json:"idle"`
}

// CrossNode is the cluster mode's second-node figures: for each bot event,
// when it reached the observer socket (on the other node, through Redis)
// minus when it reached the visitor's socket.
type CrossNode struct {
	Delay Percentiles `json:"delay"`
	// ObserverReply is send → the reply reaching the other node.
	ObserverReply Percentiles `json:"observer_reply"`
}

// Ratios are Frontdesk's figures divided by the floor's.
type Ratios struct {
	ReplyP50      float64 `json:"reply_p50"`
	ReplyP99      float64 `json:"reply_p99"`
	CPUPerMessage float64 `json:"cpu_per_message"`
	IdleMemory    float64 `json:"idle_memory_per_socket"`
}

// Report is a run's result.
type Report struct {
	Started         time.Time  `json:"started"`
	Machine         Machine    `json:"machine"`
	Mode            Mode       `json:"mode"`
	Visitors        int        `json:"visitors"`
	Rate            float64    `json:"rate"`
	DurationSeconds float64    `json:"duration_seconds"`
	WarmupSeconds   float64    `json:"warmup_seconds"`
	Frontdesk       *Side      `json:"frontdesk"`
	Floor           *Side      `json:"floor,omitempty"`
	CrossNode       *CrossNode `json:"cross_node,omitempty"`
	Pgbench         *Pgbench   `json:"pgbench,omitempty"`
	Ratios          *Ratios    `json:"ratios,omitempty"`
	Targets         []Target   `json:"targets"`
	Notes           []string   `json:"notes,omitempty"`
	// NodeSettings are the settings the bench gives its nodes beyond
	// where to listen and what to use (nodeSettings).
	NodeSettings []string `json:"node_settings,omitempty"`
	// Dir is the kept temp dir (with the server logs), when kept.
	Dir string `json:"dir,omitempty"`
}

// Run runs the bench: Frontdesk under load, then the floor, then pgbench
// (postgres and cluster modes). It stops every process it started before
// it returns, and is bounded in time whatever happens.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("bench: cannot find my own binary to start servers: %w", err)
		}
		o.Exe = exe
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	say := func(format string, args ...any) { fmt.Fprintf(progress, "bench: "+format+"\n", args...) }

	// Each side: start ≤ 1m, idle ≤ 1.5m, load, stop ≤ 10s; pgbench 10s.
	budget := 2*(o.Warmup+o.Duration+replyTimeout+3*time.Second) + 2*(readyTimeout+idleTimeout+stopTimeout+10*time.Second) + time.Minute
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	dir, err := os.MkdirTemp(o.Dir, "frontdesk-bench-")
	if err != nil {
		return nil, err
	}
	rep := &Report{
		Started: time.Now().UTC().Truncate(time.Second), Machine: describeMachine(), Mode: o.Mode,
		Visitors: o.Visitors, Rate: o.Rate, DurationSeconds: o.Duration.Seconds(), WarmupSeconds: o.Warmup.Seconds(),
		NodeSettings: append(append([]string(nil), nodeSettings...), o.Env...),
	}
	if o.Keep {
		rep.Dir = dir
	} else {
		defer os.RemoveAll(dir)
	}

	if o.Mode != Embedded {
		if err := pingRedis(ctx, o.RedisURL); err != nil {
			return nil, err
		}
	}
	db, err := prepareDatabase(ctx, o.Mode, o.PostgresURL, dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := db.drop(); err != nil {
			say("dropping schema %s: %v", db.schema, err)
		}
	}()

	say("frontdesk (%s): seeding the database, starting the server", o.Mode)
	side, cross, err := runFrontdesk(ctx, o, db, dir, say)
	if err != nil {
		return nil, err
	}
	rep.Frontdesk, rep.CrossNode = side, cross

	if o.Floor {
		say("floor: starting the echo server")
		floor, err := runFloor(ctx, o, dir, say)
		if err != nil {
			return nil, err
		}
		rep.Floor = floor
		rep.Ratios = ratios(side, floor)
	}
	if o.Pgbench && o.Mode != Embedded {
		say("pgbench: single-row INSERTs for %ds", PgbenchSeconds)
		rep.Pgbench = runPgbench(ctx, db, o, dir)
	}
	if ctx.Err() != nil {
		return rep, fmt.Errorf("bench: stopped early: %w", ctx.Err())
	}
	rep.Targets = evaluate(rep)
	rep.Notes = notes(rep)
	return rep, nil
}

func pingRedis(ctx context.Context, raw string) error {
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return fmt.Errorf("bench: FRONTDESK_BENCH_REDIS_URL: %w", err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		return fmt.Errorf("bench: Redis at %s does not answer (set FRONTDESK_BENCH_REDIS_URL): %w", raw, err)
	}
	return nil
}

// nodeSettings are the settings every node the bench starts gets besides
// its address, database, Redis and secret (Options.Env comes after them
// and may override them). The bench's visitors start a conversation every
// 6.5 messages at up to 9.5 frames a second, 10 visitors to a source
// address: up to about 12 starts a second per address, over the
// product's default of 60 a minute (a real widget starts one
// conversation per visit). The start limit is raised to its maximum so
// that the run measures the product, with the limiter still counting
// every start; the per-conversation message limit keeps its default (a
// bench conversation has at most 7 messages).
var nodeSettings = []string{
	fmt.Sprintf("FRONTDESK_VISITOR_STARTS_PER_MINUTE=%d", config.MaxVisitorRatePerMinute),
}

type sayFunc func(format string, args ...any)

// runFrontdesk seeds the database, starts the nodes, measures idle
// sockets, runs the load and stops the nodes.
func runFrontdesk(ctx context.Context, o Options, db *database, dir string, say sayFunc) (*Side, *CrossNode, error) {
	s, err := seed(ctx, db.url)
	if err != nil {
		return nil, nil, err
	}
	nodes := 1
	if o.Mode == Cluster {
		nodes = 2
	}
	secret := randomHex(32)
	var children []*child
	defer func() {
		for _, c := range children {
			c.stop()
		}
	}()
	ep := endpoint{}
	for i := 0; i < nodes; i++ {
		c, err := startReady(ctx, fmt.Sprintf("frontdesk-%d", i+1), o.Exe,
			func(string) []string { return o.ServerArgs },
			func(addr string) []string {
				env := append([]string{
					"FRONTDESK_ADDR=" + addr,
					"FRONTDESK_DATABASE_URL=" + db.url,
					"FRONTDESK_SECRET=" + secret,
					"FRONTDESK_MIGRATE=true",
					"FRONTDESK_SHUTDOWN_TIMEOUT=5s",
				}, nodeSettings...)
				env = append(env, o.Env...)
				if o.Mode != Embedded {
					env = append(env, "FRONTDESK_REDIS_URL="+o.RedisURL)
				}
				return env
			}, dir, "/readyz")
		if err != nil {
			return nil, nil, err
		}
		children = append(children, c)
		ep.urls = append(ep.urls, "ws://"+c.addr+"/api/v1/widget/ws?key="+s.PublicKey)
	}
	side, out, err := measure(ctx, o, ep, children, say, "frontdesk")
	if err != nil {
		return nil, nil, err
	}
	side.Nodes = nodes
	var cross *CrossNode
	if o.Mode == Cluster {
		cross = &CrossNode{Delay: summarize(out.stats.obsDelay), ObserverReply: summarize(out.stats.obsReply)}
	}
	for _, c := range children {
		if c.exited() {
			return nil, nil, fmt.Errorf("bench: %s died during the run (%v); its log ends with:\n%s", c.name, c.err, c.logTail())
		}
	}
	return side, cross, nil
}

// runFloor starts the echo server and puts it through the same measure.
func runFloor(ctx context.Context, o Options, dir string, say sayFunc) (*Side, error) {
	lifetime := o.Warmup + o.Duration + idleTimeout + readyTimeout + time.Minute
	c, err := startReady(ctx, "echo", o.Exe,
		func(addr string) []string {
			return append(append([]string(nil), o.EchoArgs...), "--addr", addr, "--lifetime", lifetime.String())
		},
		func(string) []string { return o.Env }, dir, "/healthz")
	if err != nil {
		return nil, err
	}
	defer c.stop()
	side, _, err := measure(ctx, o, endpoint{floor: true, urls: []string{"ws://" + c.addr + EchoPath}}, []*child{c}, say, "floor")
	if err != nil {
		return nil, err
	}
	side.Nodes = 1
	return side, nil
}

// measure runs the idle measure and then the load against ep.
func measure(ctx context.Context, o Options, ep endpoint, children []*child, say sayFunc, name string) (*Side, loadOutcome, error) {
	pids := make([]int, len(children))
	for i, c := range children {
		pids[i] = c.pid()
	}
	say("%s: %d idle sockets", name, o.Idle)
	idle := measureIdle(ctx, ep, o.Idle, pids)
	if ctx.Err() != nil {
		return nil, loadOutcome{}, ctx.Err()
	}
	load := "saturating"
	if o.Rate > 0 {
		load = fmt.Sprintf("%g messages/s", o.Rate)
	}
	say("%s: %d visitors, %s, %v warm-up + %v", name, o.Visitors, load, o.Warmup, o.Duration)
	now := time.Now()
	spec := loadSpec{endpoint: ep, visitors: o.Visitors, rate: o.Rate, observe: o.Mode == Cluster && !ep.floor,
		win: window{start: now.Add(o.Warmup), end: now.Add(o.Warmup + o.Duration)}}
	out := runLoad(ctx, spec, pids)
	if ctx.Err() != nil {
		return nil, out, ctx.Err()
	}
	st := &out.stats
	side := &Side{
		Messages: st.messages, Conversations: st.conversations,
		Reply: summarize(st.reply), Start: summarize(st.start),
		LateSends: st.lateSends, Errors: st.errs, ErrorsTotal: st.errs.Total(),
		ServerCPUSeconds: out.after.server - out.before.server,
		ServerRSSBytes:   out.rssEnd, ServerPeakRSS: out.rssMax,
		ClientCPUSeconds: out.after.self - out.before.self,
		WindowSeconds:    out.window.Seconds(),
		Idle:             idle,
	}
	if secs := o.Duration.Seconds(); secs > 0 {
		side.MessagesPerSecond = float64(st.messages) / secs
	}
	if o.Rate == 0 {
		side.ClientCapPerSecond = float64(o.Visitors) * clientRate * meanScriptLen() / (meanScriptLen() + 1)
	}
	if st.messages > 0 {
		side.ServerCPUPer1000 = side.ServerCPUSeconds / float64(st.messages) * 1000
	}
	if total := out.after.total - out.before.total; total > 0 && side.WindowSeconds > 0 {
		cpus := float64(describeMachine().CPUs)
		side.MachineBusyCPUs = (out.after.busy - out.before.busy) / total * cpus
		// total is CPU-seconds of every CPU, so total/cpus is the window
		// as the kernel counted it.
		side.OtherBusyCPUs = max(0, side.MachineBusyCPUs-(side.ServerCPUSeconds+side.ClientCPUSeconds)/(total/cpus))
	}
	return side, out, nil
}

func ratios(fd, floor *Side) *Ratios {
	div := func(a, b float64) float64 {
		if b <= 0 {
			return 0
		}
		return a / b
	}
	fdCPU, flCPU := 0.0, 0.0
	if fd.Messages > 0 {
		fdCPU = fd.ServerCPUSeconds / float64(fd.Messages)
	}
	if floor.Messages > 0 {
		flCPU = floor.ServerCPUSeconds / float64(floor.Messages)
	}
	return &Ratios{
		ReplyP50:      div(fd.Reply.P50, floor.Reply.P50),
		ReplyP99:      div(fd.Reply.P99, floor.Reply.P99),
		CPUPerMessage: div(fdCPU, flCPU),
		IdleMemory:    div(fd.Idle.BytesPerSocket, floor.Idle.BytesPerSocket),
	}
}

// notes explain figures that need a caveat.
func notes(rep *Report) []string {
	var out []string
	fd := rep.Frontdesk
	if fd.ClientCapPerSecond > 0 && fd.MessagesPerSecond >= 0.9*fd.ClientCapPerSecond {
		out = append(out, fmt.Sprintf("the saturated rate is at the visitors' cap (%d visitors × %g frames/s each, under the server's per-socket limit): run with more --visitors to find the server's limit", rep.Visitors, clientRate))
	}
	if busy := fd.MachineBusyCPUs; busy >= 0.9*float64(rep.Machine.CPUs) && fd.WindowSeconds > 0 {
		out = append(out, fmt.Sprintf("the machine was CPU-bound during the frontdesk load (%.2f of %d CPUs busy: server %.2f, bench %.2f, other processes %.2f): latency includes waiting for a CPU",
			busy, rep.Machine.CPUs, fd.ServerCPUSeconds/fd.WindowSeconds, fd.ClientCPUSeconds/fd.WindowSeconds, fd.OtherBusyCPUs))
	}
	if fd.ErrorsTotal > 0 {
		out = append(out, fmt.Sprintf("%d client errors; see the errors row and the server logs (--keep)", fd.ErrorsTotal))
	}
	if n := fd.Errors.Frames[string(wire.CodeRateLimited)]; n > 0 {
		out = append(out, fmt.Sprintf("the server refused %d frames as rate_limited: the visitors went over a server limit (per socket, or the visitor limits of the node settings above), so the run measured refusals too", n))
	}
	if rep.Pgbench != nil && rep.Pgbench.Error != "" {
		out = append(out, "pgbench: "+rep.Pgbench.Error)
	}
	return out
}

// describeLoad names a run's load shape in words.
func describeLoad(rep *Report) string {
	load := "saturating"
	if rep.Rate > 0 {
		load = fmt.Sprintf("%g messages/s", rep.Rate)
	}
	return strings.Join([]string{string(rep.Mode), fmt.Sprintf("%d visitors", rep.Visitors), load}, ", ")
}
