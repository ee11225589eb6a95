package migrations_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/migrations"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// tables are the tables migration 1 creates; they must all appear on up and
// all disappear on down.
var tables = []string{
	"workspaces", "users", "assistants", "channels", "drafts", "versions", "conversations",
	"messages", "timers", "leads", "conversation_events", "webhook_outbox",
}

func TestUpDownUp(t *testing.T) {
	t.Parallel()
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			// Open a Store without migrating, to test from an empty database.
			st, err := storage.Open(ctx, storagetest.URL(t, d), storage.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			db := st.DB()

			latest, err := migrations.Latest(d)
			require.NoError(t, err)
			require.GreaterOrEqual(t, latest, int64(1))

			all, err := migrations.Status(ctx, db, d)
			require.NoError(t, err)
			pending, err := migrations.Pending(ctx, db, d)
			require.NoError(t, err)
			require.Equal(t, len(all), pending, "a new database has every migration pending")
			require.Equal(t, latest, all[len(all)-1].Version)

			require.NoError(t, migrations.Up(ctx, db, d))
			requireTables(t, db, d, true)
			requireFullyApplied(t, db, d)
			require.NoError(t, migrations.Up(ctx, db, d), "up on a current database is a no-op")

			require.NoError(t, migrations.Down(ctx, db, d))
			pending, err = migrations.Pending(ctx, db, d)
			require.NoError(t, err)
			require.Equal(t, 1, pending, "down rolls back exactly one migration")

			require.NoError(t, migrations.DownTo(ctx, db, d, 0))
			requireTables(t, db, d, false)
			require.ErrorIs(t, migrations.Down(ctx, db, d), migrations.ErrNoAppliedMigration)

			require.NoError(t, migrations.Up(ctx, db, d), "up again after down to zero")
			requireTables(t, db, d, true)
			requireFullyApplied(t, db, d)
		})
	}
}

func TestUnknownDialect(t *testing.T) {
	t.Parallel()
	_, err := migrations.Latest("oracle")
	require.ErrorContains(t, err, "unknown dialect")
}

func requireFullyApplied(t *testing.T, db *sql.DB, d migrations.Dialect) {
	t.Helper()
	st, err := migrations.Status(context.Background(), db, d)
	require.NoError(t, err)
	require.NotEmpty(t, st)
	for _, s := range st {
		require.True(t, s.Applied, "%s applied", s.Name)
		require.False(t, s.AppliedAt.IsZero(), "%s has an applied time", s.Name)
	}
	require.Equal(t, "00001_init.sql", st[0].Name)
	pending, err := migrations.Pending(context.Background(), db, d)
	require.NoError(t, err)
	require.Zero(t, pending)
}

func requireTables(t *testing.T, db *sql.DB, d migrations.Dialect, present bool) {
	t.Helper()
	q := `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	if d == migrations.SQLite {
		q = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	}
	for _, name := range tables {
		var n int
		require.NoError(t, db.QueryRow(q, name).Scan(&n))
		require.Equal(t, present, n == 1, "table %s present=%v", name, present)
	}
}
