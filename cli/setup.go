package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/storage"
)

// Setup creates the first workspace and its owner: `frontdesk setup
// --workspace NAME --email EMAIL --name NAME`, reading the password from the
// first line of stdin so it stays out of the shell history. It works once,
// on an empty database (the first-run page POST /api/v1/setup does the same).
func Setup(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	workspace := fs.String("workspace", "", "workspace name")
	email := fs.String("email", "", "owner's email")
	name := fs.String("name", "", "owner's name")
	dbURL := fs.String("database-url", "", "database URL (default FRONTDESK_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	cfgArgs := []string{}
	if *dbURL != "" {
		cfgArgs = append(cfgArgs, "--database-url", *dbURL)
	}
	cfg, _, err := config.Load("setup", cfgArgs, env.Getenv, env.Stderr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "frontdesk: %v\n", err)
		return ExitUsage
	}
	if env.StdinIsTTY {
		fmt.Fprint(env.Stdout, "Owner's password: ")
	}
	line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	password := strings.TrimRight(line, "\r\n")
	store, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{})
	if err != nil {
		fmt.Fprintf(env.Stderr, "frontdesk: opening the database: %v\n", err)
		return ExitError
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "frontdesk: migrating: %v\n", err)
		return ExitError
	}
	res, err := auth.Setup(ctx, store, auth.SetupInput{WorkspaceName: *workspace, Name: *name, Email: *email, Password: password})
	if err != nil {
		fmt.Fprintf(env.Stderr, "frontdesk: setup: %v\n", err)
		return ExitError
	}
	fmt.Fprintf(env.Stdout, "Created workspace %q (%s) with owner %s.\n", res.Workspace.Name, res.Workspace.ID, res.Owner.Email)
	return ExitOK
}
