package migrations_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/migrations"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// webhookTables are the tables migration 3 creates.
var webhookTables = []string{"webhook_subscriptions", "webhook_deliveries"}

// TestWebhooksMigrationUpDownUp checks that migration 3 comes and goes on
// its own, leaving the outbox of migration 1 in place when rolled back.
func TestWebhooksMigrationUpDownUp(t *testing.T) {
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
			requireTableSet(t, db, d, webhookTables, true)
			status, err := migrations.Status(ctx, db, d)
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(status), 3)
			require.Equal(t, "00003_webhooks.sql", status[2].Name)

			require.NoError(t, migrations.DownTo(ctx, db, d, 2))
			requireTableSet(t, db, d, webhookTables, false)
			requireTableSet(t, db, d, []string{"webhook_outbox"}, true)

			require.NoError(t, migrations.Up(ctx, db, d))
			requireTableSet(t, db, d, webhookTables, true)
		})
	}
}
