package storage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Every analytics statement starts from the selected conversations, found
// by the partial index on start events, and reaches their events and leads
// by conversation id: SQLite, without statistics, must never walk a whole
// table or a whole workspace. (Postgres plans by statistics; on a test
// database it rightly scans its few rows, so its plans are not pinned.)
func TestAnalyticsPlansStartFromTheSelection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+t.TempDir()+"/plan.db", Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.Migrate(ctx))

	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, sel := range []AnalyticsSelection{
		{AssistantID: "a", From: at, To: at.AddDate(0, 1, 0)},
		{AssistantID: "a", VersionID: "v", From: at, To: at.AddDate(0, 1, 0)},
	} {
		facts, factsArgs := sel.factsQuery("w")
		count, countArgs := sel.countQuery("w")
		deals, dealArgs := sel.dealValuesQuery("w")
		nodes, nodeArgs := sel.nodeVisitsQuery("w", 10)
		for name, q := range map[string]struct {
			sql  string
			args []any
		}{
			"facts": {facts, factsArgs}, "count": {count, countArgs},
			"deal values": {deals, dealArgs}, "node visits": {nodes, nodeArgs},
		} {
			rows, err := s.DB().QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.sql, q.args...)
			require.NoError(t, err, name)
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
				plan = append(plan, detail)
			}
			require.NoError(t, rows.Err())
			rows.Close()
			text := strings.Join(plan, "\n")
			require.Contains(t, text, "USING INDEX conversation_events_started_idx", "%s:\n%s", name, text)
			for _, line := range plan {
				if strings.HasPrefix(line, "SCAN ") {
					// Only the selection itself and the CTEs built from it
					// are scanned.
					require.Contains(t, []string{"SCAN k", "SCAN f", "SCAN cohort"}, line, "%s:\n%s", name, text)
				}
				if strings.HasPrefix(line, "SEARCH e ") || strings.HasPrefix(line, "SEARCH l ") {
					require.Regexp(t, `conversation_id=\?`, line, "%s: events and leads by conversation:\n%s", name, text)
				}
			}
		}
	}
}

func TestAnyTimeReadsBothDialectsForms(t *testing.T) {
	t.Parallel()
	want := time.Date(2025, 3, 1, 9, 30, 15, 123456000, time.UTC)
	for _, src := range []any{
		want,
		want.In(time.FixedZone("CET", 3600)),
		"2025-03-01 09:30:15.123456+00:00",
		"2025-03-01 10:30:15.123456+01:00",
		[]byte("2025-03-01T09:30:15.123456Z"),
		"2025-03-01 09:30:15.123456",
	} {
		var a anyTime
		require.NoError(t, a.Scan(src), "%v", src)
		require.True(t, want.Equal(a.t), "%v: got %v", src, a.t)
		require.Equal(t, time.UTC, a.t.Location())
	}
	var a anyTime
	require.NoError(t, a.Scan(nil))
	require.True(t, a.t.IsZero())
	require.ErrorContains(t, a.Scan("yesterday"), `cannot parse time "yesterday"`)
	require.ErrorContains(t, a.Scan(42), "cannot scan int into a time")
}
