package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
)

// Origin is the page origin the bench's channel allows and its clients
// send.
const Origin = "http://bench.local"

// Template is the playbook the bench's visitors walk through.
const Template = "lead-qualification"

// database is where a run's nodes keep their data.
type database struct {
	url string
	// schema is the Postgres schema made for the run ("" on SQLite).
	schema string
	// baseURL is the Postgres URL without search_path (for pgbench).
	baseURL string
	admin   *sql.DB
}

// prepareDatabase makes an empty database for the run: a SQLite file in
// dir, or a Postgres schema of its own reached through search_path.
func prepareDatabase(ctx context.Context, mode Mode, pgURL, dir string) (*database, error) {
	if mode == Embedded {
		return &database{url: "sqlite:" + filepath.Join(dir, "frontdesk.db")}, nil
	}
	u, err := url.Parse(pgURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("bench: FRONTDESK_BENCH_POSTGRES_URL is not a postgres:// URL")
	}
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return nil, fmt.Errorf("bench: postgres: %w", err)
	}
	admin.SetMaxOpenConns(2)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := admin.PingContext(pctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("bench: Postgres at %s does not answer (set FRONTDESK_BENCH_POSTGRES_URL): %w", u.Redacted(), err)
	}
	schema := "fdbench_" + randomHex(6)
	if _, err := admin.ExecContext(pctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return nil, fmt.Errorf("bench: create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return &database{url: u.String(), schema: schema, baseURL: pgURL, admin: admin}, nil
}

// drop removes the run's schema.
func (d *database) drop() error {
	if d.admin == nil {
		return nil
	}
	defer d.admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := d.admin.ExecContext(ctx, "DROP SCHEMA "+d.schema+" CASCADE")
	return err
}

// seeded is what the nodes serve: one channel running the template.
type seeded struct {
	Workspace string
	ChannelID string
	PublicKey string
}

// seed migrates the database and creates a workspace, a channel allowing
// Origin, and the template's assistant, published and connected.
func seed(ctx context.Context, dbURL string) (*seeded, error) {
	store, err := storage.Open(ctx, dbURL, storage.Options{})
	if err != nil {
		return nil, fmt.Errorf("bench: open database: %w", err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("bench: migrate: %w", err)
	}
	w, err := store.CreateWorkspace(ctx, "Bench")
	if err != nil {
		return nil, fmt.Errorf("bench: seed workspace: %w", err)
	}
	ch, err := store.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Bench site", AllowedOrigins: []string{Origin}})
	if err != nil {
		return nil, fmt.Errorf("bench: seed channel: %w", err)
	}
	f, err := playbooks.Template(Template)
	if err != nil {
		return nil, fmt.Errorf("bench: template: %w", err)
	}
	graph, err := json.Marshal(f.Graph)
	if err != nil {
		return nil, err
	}
	a, err := store.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Ava", Graph: graph})
	if err != nil {
		return nil, fmt.Errorf("bench: seed assistant: %w", err)
	}
	if _, err := store.PublishVersion(ctx, w.ID, a.ID, graph, ""); err != nil {
		return nil, fmt.Errorf("bench: publish: %w", err)
	}
	if err := store.ConnectAssistant(ctx, w.ID, ch.ID, a.ID); err != nil {
		return nil, fmt.Errorf("bench: connect: %w", err)
	}
	return &seeded{Workspace: w.ID, ChannelID: ch.ID, PublicKey: ch.PublicKey}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
