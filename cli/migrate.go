package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/migrations"
	"github.com/frontdesk/frontdesk/storage"
)

// Migrate runs `frontdesk migrate up|down|status` against the configured
// database.
func Migrate(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, "usage: frontdesk migrate up|down|status [--database-url URL]")
		return ExitUsage
	}
	action := args[0]
	cfg, _, err := config.Load("migrate", args[1:], env.Getenv, env.Stderr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "frontdesk: %v\n", err)
		return ExitUsage
	}
	store, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{})
	if err != nil {
		fmt.Fprintf(env.Stderr, "frontdesk: opening the database: %v\n", err)
		return ExitError
	}
	defer store.Close()
	d := store.Dialect()
	switch action {
	case "up":
		err = migrations.Up(ctx, store.DB(), d)
	case "down":
		err = migrations.Down(ctx, store.DB(), d)
	case "status":
		var st []migrations.MigrationStatus
		if st, err = migrations.Status(ctx, store.DB(), d); err == nil {
			for _, m := range st {
				applied := "pending"
				if m.Applied {
					applied = "applied " + m.AppliedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(env.Stdout, "%05d  %-30s %s\n", m.Version, m.Name, applied)
			}
		}
	default:
		fmt.Fprintf(env.Stderr, "frontdesk: unknown migrate action %q (up, down or status)\n", action)
		return ExitUsage
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "frontdesk: migrate %s: %v\n", action, err)
		return ExitError
	}
	if action != "status" {
		fmt.Fprintf(env.Stdout, "migrate %s: done\n", action)
	}
	return ExitOK
}
