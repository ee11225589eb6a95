package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/bench"
	"github.com/frontdesk/frontdesk/cli"
)

// childVar makes the test binary act as the frontdesk binary: the bench
// re-executes it as `serve --migrate` for the nodes and as
// `bench echo-server` for the floor.
const childVar = "FRONTDESK_BENCH_TEST_CHILD"

// profileVar names a directory where server children write a CPU profile
// of their whole life and a heap profile every second (see profile), for
// docs/performance.md: the server has no pprof endpoint.
const profileVar = "FRONTDESK_BENCH_PROFILE_DIR"

// TestMain also makes the test binary a stand-in for the frontdesk binary
// outside tests: with FRONTDESK_BENCH_TEST_CHILD=1,
//
//	bench.test bench --mode embedded ...
//
// runs the real bench, whose children (this binary again) are the
// server and the floor.
func TestMain(m *testing.M) {
	if os.Getenv(childVar) != "1" {
		os.Exit(m.Run())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	args := os.Args[1:]
	var code int
	if len(args) > 0 && args[0] == "bench" {
		code = bench.Main(ctx, args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	finish := func() {}
	if dir := os.Getenv(profileVar); dir != "" {
		finish = profile(ctx, dir)
	}
	code = cli.Main(ctx, args, cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	finish()
	os.Exit(code)
}

// profile starts a CPU profile for the process's life and writes a heap
// profile and a line of runtime figures every second (at most 600).
func profile(ctx context.Context, dir string) func() {
	pid := os.Getpid()
	cpu, err := os.Create(filepath.Join(dir, fmt.Sprintf("server-%d.cpu.pprof", pid)))
	if err == nil && pprof.StartCPUProfile(cpu) != nil {
		cpu.Close()
		cpu = nil
	}
	// FRONTDESK_BENCH_TRACE=START+LENGTH (e.g. 10s+3s) also writes an
	// execution trace of that window of the server's life, for latency
	// tails that CPU profiles do not show.
	if spec := os.Getenv(traceVar); spec != "" {
		go traceWindow(dir, pid, spec)
	}
	stats, _ := os.Create(filepath.Join(dir, fmt.Sprintf("server-%d.memstats.tsv", pid)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		fmt.Fprintln(stats, "second\tgoroutines\theap_inuse\tstack_inuse\theap_sys\tsys")
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; i < 600; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(stats, "%d\t%d\t%d\t%d\t%d\t%d\n", i+1, runtime.NumGoroutine(), ms.HeapInuse, ms.StackInuse, ms.HeapSys, ms.Sys)
			if f, err := os.Create(filepath.Join(dir, fmt.Sprintf("server-%d.heap.%03d.pprof", pid, i+1))); err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
	}()
	return func() {
		<-done
		stats.Close()
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
	}
}

// traceVar names the execution-trace window; see profile.
const traceVar = "FRONTDESK_BENCH_TRACE"

// traceWindow writes an execution trace of the window spec names
// ("START+LENGTH", both durations) of the process's life.
func traceWindow(dir string, pid int, spec string) {
	start, length, ok := strings.Cut(spec, "+")
	from, err1 := time.ParseDuration(start)
	span, err2 := time.ParseDuration(length)
	if !ok || err1 != nil || err2 != nil || span <= 0 || span > time.Minute {
		fmt.Fprintf(os.Stderr, "%s=%q: want START+LENGTH, e.g. 10s+3s, at most a minute long\n", traceVar, spec)
		return
	}
	time.Sleep(from)
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("server-%d.trace", pid)))
	if err != nil {
		return
	}
	defer f.Close()
	if trace.Start(f) != nil {
		return
	}
	time.Sleep(span)
	trace.Stop()
}

func TestTinyEmbeddedBenchWithTheFloor(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot find the test binary to re-execute: %v", err)
	}
	o := bench.Defaults()
	o.Exe, o.Env, o.Dir = exe, []string{childVar + "=1"}, t.TempDir()
	o.Visitors, o.Warmup, o.Duration, o.Idle = 5, 500*time.Millisecond, 2*time.Second, 100
	var progress bytes.Buffer
	o.Progress = &progress
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	rep, err := bench.Run(ctx, o)
	require.NoError(t, err, progress.String())
	t.Logf("bench took %v", time.Since(began))

	for name, s := range map[string]*bench.Side{"frontdesk": rep.Frontdesk, "floor": rep.Floor} {
		require.NotNil(t, s, name)
		require.Zero(t, s.ErrorsTotal, "%s errors: %+v", name, s.Errors)
		// 5 visitors for 2 s, each under 9.5 frames/s after a burst of
		// at most 10.
		require.Greater(t, s.Messages, int64(20), name)
		require.LessOrEqual(t, s.Messages, int64(5*(2*9.5+10)), name)
		require.Greater(t, s.Conversations, int64(0), name)
		require.Equal(t, int(s.Messages), s.Reply.Count, name)
		require.Greater(t, s.Reply.P50, 0.0, name)
		require.LessOrEqual(t, s.Reply.P50, s.Reply.P90, name)
		require.LessOrEqual(t, s.Reply.P90, s.Reply.P99, name)
		require.LessOrEqual(t, s.Reply.P99, s.Reply.Max, name)
		require.Less(t, s.Reply.Max, 5000.0, "%s: replies within the timeout", name)
		// CPU time is read in clock ticks (10 ms): in this tiny run the
		// echo floor may use less than one.
		if name == "frontdesk" {
			require.Greater(t, s.ServerCPUSeconds, 0.0, name)
			require.Greater(t, s.ServerCPUPer1000, 0.0, name)
		} else {
			require.GreaterOrEqual(t, s.ServerCPUSeconds, 0.0, name)
		}
		require.Greater(t, s.ServerRSSBytes, int64(1<<20), name)
		require.GreaterOrEqual(t, s.ServerPeakRSS, s.ServerRSSBytes, name)
		require.Equal(t, 100, s.Idle.Opened, name)
		require.Zero(t, s.Idle.Errors, name)
	}
	fd := rep.Frontdesk
	require.Equal(t, 1, fd.Nodes)
	// Each idle visitor holds a socket, two goroutines and a subscription.
	require.Greater(t, fd.Idle.BytesPerSocket, 0.0)
	require.Less(t, fd.Idle.BytesPerSocket, 1e6)
	require.Greater(t, fd.Start.Count, 0)
	require.NotNil(t, rep.Ratios)
	// A floor below one clock tick of CPU has no ratio (see above).
	floorMeasured := rep.Floor.ServerCPUSeconds > 0
	require.Equal(t, floorMeasured, rep.Ratios.CPUPerMessage > 0)
	require.Greater(t, rep.Ratios.ReplyP50, 0.0)
	require.Nil(t, rep.CrossNode)
	require.Nil(t, rep.Pgbench)

	status := map[string]string{}
	for _, tg := range rep.Targets {
		status[tg.Name] = tg.Status
	}
	require.Len(t, status, 8)
	require.Contains(t, []string{bench.Met, bench.NotMet}, status["embedded throughput, saturated"])
	if floorMeasured {
		require.Contains(t, []string{bench.Met, bench.NotMet}, status["server CPU per message vs the echo floor"])
	} else {
		require.Equal(t, bench.NA, status["server CPU per message vs the echo floor"])
	}
	require.Contains(t, []string{bench.Met, bench.NotMet}, status["idle visitor connection"])
	require.Equal(t, bench.NA, status["second node through Redis adds, p50"])
	require.Equal(t, bench.NA, status["postgres p99 bot reply at 1,000 messages/s"])

	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	for _, want := range []string{"visitor messages/s", "bot reply p99 (ms)", "idle socket memory (kB)", "Targets", "[n/a]"} {
		require.Contains(t, table.String(), want)
	}
	t.Log("\n" + table.String())
	raw, err := json.Marshal(rep)
	require.NoError(t, err)
	var back bench.Report
	require.NoError(t, json.Unmarshal(raw, &back))
	require.Equal(t, rep.Frontdesk.Messages, back.Frontdesk.Messages)

	// Nothing is left behind: the temp dir is gone.
	entries, err := os.ReadDir(o.Dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

func TestMainRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--mode", "galaxy"},
		{"--visitors", "0"},
		{"--duration", "10ms"},
		{"--rate", "-1"},
		{"--visitors", "10", "--rate", "1000"}, // over the per-socket limit
		{"extra"},
	} {
		var stderr bytes.Buffer
		code := bench.Main(context.Background(), args, &bytes.Buffer{}, &stderr)
		require.Equal(t, 2, code, "%v: %s", args, stderr.String())
		require.NotEmpty(t, strings.TrimSpace(stderr.String()), "%v", args)
	}
}
