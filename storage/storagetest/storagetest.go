package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/frontdesk/frontdesk/storage"
)

// EnvPostgresURL names the variable holding the test Postgres URL.
const EnvPostgresURL = "FRONTDESK_TEST_POSTGRES_URL"

// DefaultPostgresURL is used when EnvPostgresURL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// skipValue in EnvPostgresURL skips the Postgres half of the tests.
const skipValue = "skip"

// Dialects lists the dialects every storage test runs against.
var Dialects = []storage.Dialect{storage.SQLite, storage.Postgres}

// Each runs fn once per dialect, each as a parallel subtest named after the
// dialect with its own freshly migrated Store.
func Each(t *testing.T, fn func(t *testing.T, s *storage.Store)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, d))
		})
	}
}

// Open returns a migrated Store on a database of its own, closed when the
// test ends.
func Open(t testing.TB, d storage.Dialect) *storage.Store {
	t.Helper()
	return OpenWith(t, d, storage.Options{})
}

// OpenWith is Open with options.
func OpenWith(t testing.TB, d storage.Dialect, opts storage.Options) *storage.Store {
	t.Helper()
	u := URL(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := storage.Open(ctx, u, opts)
	if err != nil {
		t.Fatalf("storagetest: open %s: %v", d, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("storagetest: migrate %s: %v", d, err)
	}
	return s
}

// URL returns the URL of an empty database of dialect d, for tests that
// open it themselves (e.g. migration tests).
func URL(t testing.TB, d storage.Dialect) string {
	t.Helper()
	switch d {
	case storage.SQLite:
		return SQLiteURL(t)
	case storage.Postgres:
		return PostgresURL(t)
	default:
		t.Fatalf("storagetest: unknown dialect %q", d)
		return ""
	}
}

// SQLiteURL returns a SQLite URL for a new file in the test's temp
// directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "frontdesk.db")
}

// PostgresURL creates a schema of its own for the test and returns a URL
// whose search_path points at it; the schema is dropped when the test ends.
// It skips only when EnvPostgresURL is "skip", and fails when Postgres
// cannot be reached.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgresURL)
	if base == skipValue {
		t.Skipf("storagetest: %s=skip", EnvPostgresURL)
	}
	if base == "" {
		base = DefaultPostgresURL
	}
	admin, err := adminDB(base)
	if err != nil {
		t.Fatalf("storagetest: Postgres at %s is not reachable (set %s, or %s=skip to run SQLite only): %v",
			redact(base), EnvPostgresURL, EnvPostgresURL, err)
	}
	schema := "fdtest_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storagetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storagetest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storagetest: parse %s: %v", EnvPostgresURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

// adminDB is one small pool per test binary for creating and dropping
// schemas, so tests do not each open their own.
func adminDB(base string) (*sql.DB, error) {
	adminOnce.Do(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			adminErr = err
			return
		}
		db.SetMaxOpenConns(4)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			adminErr = err
			return
		}
		admin = db
	})
	return admin, adminErr
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("storagetest: crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}

// redact hides a password in a URL before it is printed.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
