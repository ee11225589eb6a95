package migrations_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/migrations"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// TestIdentityVerificationMigrationUpDownUp checks that migration 10 adds
// the channel's identity secret columns and takes them away again,
// keeping the channels.
func TestIdentityVerificationMigrationUpDownUp(t *testing.T) {
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
			require.GreaterOrEqual(t, len(status), 10)
			require.Equal(t, "00010_identity_verification.sql", status[9].Name)
			require.True(t, hasColumn(t, db, d, "channels", "identity_secret"))
			require.True(t, hasColumn(t, db, d, "channels", "identity_secret_set_at"))

			ws, err := st.CreateWorkspace(ctx, "Acme")
			require.NoError(t, err)
			ch, err := st.CreateChannel(ctx, ws.ID, storage.NewChannel{Name: "Shop"})
			require.NoError(t, err)
			_, _, err = st.GenerateIdentitySecret(ctx, ws.ID, ch.ID)
			require.NoError(t, err)

			require.NoError(t, migrations.DownTo(ctx, db, d, 9))
			require.False(t, hasColumn(t, db, d, "channels", "identity_secret"))
			require.False(t, hasColumn(t, db, d, "channels", "identity_secret_set_at"))
			var n int
			require.NoError(t, db.QueryRow(`SELECT count(*) FROM channels WHERE id = '`+ch.ID+`'`).Scan(&n))
			require.Equal(t, 1, n)

			require.NoError(t, migrations.Up(ctx, db, d))
			got, err := st.GetChannel(ctx, ws.ID, ch.ID)
			require.NoError(t, err)
			require.Empty(t, got.IdentitySecret, "the secret went with the rollback: verification is off")
			require.Nil(t, got.IdentitySecretSetAt)
		})
	}
}
