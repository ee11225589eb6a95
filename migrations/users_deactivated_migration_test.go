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

// TestDeactivatedMembersMigrationUpDownUp checks that migration 9 adds
// users.deactivated_at and takes it away again, keeping the users.
func TestDeactivatedMembersMigrationUpDownUp(t *testing.T) {
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
			status, err := migrations.Status(ctx, db, d)
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(status), 9)
			require.Equal(t, "00009_deactivated_members.sql", status[8].Name)
			require.True(t, hasColumn(t, db, d, "users", "deactivated_at"))

			// A user made before the rollback survives it, and comes back
			// active.
			ws, err := st.CreateWorkspace(ctx, "Acme")
			require.NoError(t, err)
			u, err := st.CreateUser(ctx, ws.ID, storage.NewUser{Email: "agent@acme.test", Role: storage.RoleAgent})
			require.NoError(t, err)
			_, err = st.SetUserDeactivated(ctx, ws.ID, u.ID, true)
			require.NoError(t, err)

			require.NoError(t, migrations.DownTo(ctx, db, d, 8))
			require.False(t, hasColumn(t, db, d, "users", "deactivated_at"))
			var n int
			require.NoError(t, db.QueryRow(`SELECT count(*) FROM users WHERE id = '`+u.ID+`'`).Scan(&n))
			require.Equal(t, 1, n)

			require.NoError(t, migrations.Up(ctx, db, d))
			require.True(t, hasColumn(t, db, d, "users", "deactivated_at"))
			got, err := st.GetUser(ctx, ws.ID, u.ID)
			require.NoError(t, err)
			require.Nil(t, got.DeactivatedAt)
		})
	}
}

func hasColumn(t *testing.T, db *sql.DB, d migrations.Dialect, table, column string) bool {
	t.Helper()
	q := `SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`
	if d == migrations.SQLite {
		q = `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`
	}
	var n int
	require.NoError(t, db.QueryRow(q, table, column).Scan(&n))
	return n == 1
}
