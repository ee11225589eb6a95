package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Pgbench is the reference for the Postgres target: pgbench's rate of
// single-row INSERTs into a scratch table shaped like messages, with the
// given number of clients, on the same Postgres.
type Pgbench struct {
	Clients      int     `json:"clients"`
	Seconds      int     `json:"seconds"`
	TPS          float64 `json:"tps"`
	LatencyAvgMS float64 `json:"latency_avg_ms"`
	// Error says why there is no figure (pgbench missing, failed).
	Error string `json:"error,omitempty"`
}

var (
	tpsRe     = regexp.MustCompile(`tps = ([0-9.]+)`)
	latencyRe = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
)

// runPgbench creates the scratch table in the run's schema and runs
// pgbench on it for PgbenchSeconds.
func runPgbench(ctx context.Context, db *database, o Options, dir string) *Pgbench {
	out := &Pgbench{Seconds: PgbenchSeconds}
	path, err := exec.LookPath("pgbench")
	if err != nil {
		out.Error = "pgbench is not installed (PATH)"
		return out
	}
	clients := o.PgbenchClients
	if clients <= 0 {
		clients = min(o.Visitors, freeConnections(ctx, db))
	}
	out.Clients = max(clients, 1)
	table := db.schema + ".pgbench_messages"
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = db.admin.ExecContext(cctx, `CREATE TABLE `+table+` (
		id bigserial PRIMARY KEY,
		conversation_id text NOT NULL,
		seq bigint NOT NULL,
		body text NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now())`)
	cancel()
	if err != nil {
		out.Error = "create the scratch table: " + err.Error()
		return out
	}
	script := filepath.Join(dir, "insert.sql")
	body := "\\set c random(1, 1000000)\n" +
		"INSERT INTO " + table + " (conversation_id, seq, body) VALUES ('conv-' || :c, :c, 'Get a quote');\n"
	if err := os.WriteFile(script, []byte(body), 0o600); err != nil {
		out.Error = err.Error()
		return out
	}
	pctx, cancel := context.WithTimeout(ctx, time.Duration(PgbenchSeconds)*time.Second+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(pctx, path, "-n", "-f", script,
		"-c", strconv.Itoa(out.Clients), "-j", strconv.Itoa(min(out.Clients, runtime.NumCPU())),
		"-T", strconv.Itoa(PgbenchSeconds), db.baseURL)
	cmd.Env = childEnv(os.Environ())
	text, err := cmd.CombinedOutput()
	if err != nil {
		out.Error = fmt.Sprintf("pgbench failed: %v: %s", err, lastLines(string(text), 5))
		return out
	}
	if m := tpsRe.FindStringSubmatch(string(text)); m != nil {
		out.TPS, _ = strconv.ParseFloat(m[1], 64)
	} else {
		out.Error = "no tps in pgbench's output: " + lastLines(string(text), 5)
	}
	if m := latencyRe.FindStringSubmatch(string(text)); m != nil {
		out.LatencyAvgMS, _ = strconv.ParseFloat(m[1], 64)
	}
	return out
}

// freeConnections is how many more connections Postgres takes, less a
// margin for the reserved and the admin's own.
func freeConnections(ctx context.Context, db *database) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var maxConns, used, reserved int
	if db.admin.QueryRowContext(ctx, `SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int, (SELECT count(*) FROM pg_stat_activity)`).Scan(&maxConns, &reserved, &used) != nil {
		return 20
	}
	return max(1, maxConns-reserved-used-5)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
