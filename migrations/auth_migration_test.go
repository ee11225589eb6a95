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

// authTables are the tables migration 2 creates.
var authTables = []string{"sessions", "api_tokens", "instance_settings"}

// TestAuthMigrationUpDownUp checks that migration 2 comes and goes on its
// own, leaving migration 1's tables in place when it is rolled back.
func TestAuthMigrationUpDownUp(t *testing.T) {
	t.Parallel()
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, err := storage.Open(ctx, storagetest.URL(t, d), storage.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			db := st.DB()

			require.NoError(t, migrations.Up(ctx, db, d))
			requireTableSet(t, db, d, authTables, true)
			status, err := migrations.Status(ctx, db, d)
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(status), 2)
			require.Equal(t, "00002_auth.sql", status[1].Name)

			require.NoError(t, migrations.DownTo(ctx, db, d, 1))
			requireTableSet(t, db, d, authTables, false)
			requireTableSet(t, db, d, tables, true)

			require.NoError(t, migrations.Up(ctx, db, d))
			requireTableSet(t, db, d, authTables, true)
		})
	}
}

func requireTableSet(t *testing.T, db *sql.DB, d migrations.Dialect, names []string, present bool) {
	t.Helper()
	q := `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	if d == migrations.SQLite {
		q = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	}
	for _, name := range names {
		var n int
		require.NoError(t, db.QueryRow(q, name).Scan(&n))
		require.Equal(t, present, n == 1, "table %s present=%v", name, present)
	}
}
