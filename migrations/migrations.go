package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Dialect names a database dialect that has its own migration directory.
type Dialect string

// The dialects Frontdesk runs on.
const (
	// SQLite is the embedded default (a file in WAL mode).
	SQLite Dialect = "sqlite"
	// Postgres is the scale-out database.
	Postgres Dialect = "postgres"
)

// ErrNoAppliedMigration is returned by Down when there is nothing left to
// roll back.
var ErrNoAppliedMigration = errors.New("migrations: no applied migration to roll back")

// lockRetry is how often a process waiting for another one's migration lock
// tries again, and lockAttempts how many times before it gives up (5 min).
const (
	lockRetrySeconds = 1
	lockAttempts     = 300
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// MigrationStatus describes one migration known to the binary.
type MigrationStatus struct {
	// Version is the number the file name starts with.
	Version int64
	// Name is the file name, e.g. "00001_init.sql".
	Name string
	// Applied reports whether the database has it.
	Applied bool
	// AppliedAt is when it was applied; zero when not applied.
	AppliedAt time.Time
}

// Up applies every pending migration, in order. It is a no-op when the
// database is current.
func Up(ctx context.Context, db *sql.DB, dialect Dialect) error {
	p, err := newProvider(ctx, db, dialect, true)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: up (%s): %w", dialect, err)
	}
	return nil
}

// Down rolls back the most recently applied migration. It returns
// ErrNoAppliedMigration when there is none.
func Down(ctx context.Context, db *sql.DB, dialect Dialect) error {
	p, err := newProvider(ctx, db, dialect, true)
	if err != nil {
		return err
	}
	if _, err := p.Down(ctx); err != nil {
		if errors.Is(err, goose.ErrNoNextVersion) {
			return ErrNoAppliedMigration
		}
		return fmt.Errorf("migrations: down (%s): %w", dialect, err)
	}
	return nil
}

// DownTo rolls back applied migrations newer than version; version 0 rolls
// back everything. Rolling back to the current version is a no-op.
func DownTo(ctx context.Context, db *sql.DB, dialect Dialect, version int64) error {
	p, err := newProvider(ctx, db, dialect, true)
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version); err != nil {
		return fmt.Errorf("migrations: down to %d (%s): %w", version, dialect, err)
	}
	return nil
}

// Status lists every migration embedded for dialect, oldest first, with
// whether the database has applied it.
func Status(ctx context.Context, db *sql.DB, dialect Dialect) ([]MigrationStatus, error) {
	p, err := newProvider(ctx, db, dialect, false)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: status (%s): %w", dialect, err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{
			Version:   s.Source.Version,
			Name:      path.Base(s.Source.Path),
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}

// Pending returns how many embedded migrations the database has not applied.
func Pending(ctx context.Context, db *sql.DB, dialect Dialect) (int, error) {
	st, err := Status(ctx, db, dialect)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range st {
		if !s.Applied {
			n++
		}
	}
	return n, nil
}

// Latest returns the highest migration version embedded for dialect, the
// version a fully migrated database reports.
func Latest(dialect Dialect) (int64, error) {
	fsys, err := dialectFS(dialect)
	if err != nil {
		return 0, err
	}
	entries, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, e := range entries {
		v, err := goose.NumericComponent(e)
		if err != nil {
			return 0, fmt.Errorf("migrations: %s: %w", e, err)
		}
		latest = max(latest, v)
	}
	return latest, nil
}

func dialectFS(dialect Dialect) (fs.FS, error) {
	switch dialect {
	case SQLite, Postgres:
		return fs.Sub(files, string(dialect))
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q (want %q or %q)", dialect, SQLite, Postgres)
	}
}

// newProvider builds a goose provider that touches no goose globals. When
// locking is set and the dialect is Postgres, it takes an advisory lock
// keyed by database and schema: two servers migrating the same schema wait
// for each other, while tests migrating their own schemas in parallel do not.
func newProvider(ctx context.Context, db *sql.DB, dialect Dialect, locking bool) (*goose.Provider, error) {
	if db == nil {
		return nil, errors.New("migrations: nil *sql.DB")
	}
	fsys, err := dialectFS(dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	var gooseDialect goose.Dialect
	switch dialect {
	case SQLite:
		// SQLite allows one writer at a time, so no lock is needed: a second
		// migrator waits on the busy timeout and then finds nothing to do.
		gooseDialect = goose.DialectSQLite3
	case Postgres:
		gooseDialect = goose.DialectPostgres
		if locking {
			id, err := postgresLockID(ctx, db)
			if err != nil {
				return nil, err
			}
			locker, err := lock.NewPostgresSessionLocker(
				lock.WithLockID(id),
				lock.WithLockTimeout(lockRetrySeconds, lockAttempts),
			)
			if err != nil {
				return nil, fmt.Errorf("migrations: %w", err)
			}
			opts = append(opts, goose.WithSessionLocker(locker))
		}
	}
	p, err := goose.NewProvider(gooseDialect, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// postgresLockID derives the advisory lock id from the database and schema
// the connection migrates.
func postgresLockID(ctx context.Context, db *sql.DB) (int64, error) {
	var scope string
	err := db.QueryRowContext(ctx,
		`SELECT current_database() || '.' || coalesce(current_schema(), '')`).Scan(&scope)
	if err != nil {
		return 0, fmt.Errorf("migrations: read current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("frontdesk-migrations:" + scope))
	return int64(h.Sum64() >> 1), nil
}
