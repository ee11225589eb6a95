package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/frontdesk/frontdesk/migrations"
)

// Dialect names the database behind a Store. It is the migrations package's
// type, so Store.Dialect can be passed straight to migrations.Up.
type Dialect = migrations.Dialect

// The dialects a Store runs on.
const (
	// SQLite is the embedded default.
	SQLite = migrations.SQLite
	// Postgres is the scale-out database.
	Postgres = migrations.Postgres
)

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// MaxOpenConns bounds the connection pool. Defaults to
	// DefaultMaxOpenConnsPostgres or DefaultMaxOpenConnsSQLite.
	MaxOpenConns int
	// BusyTimeout is how long a SQLite writer waits for the write lock
	// before failing with ErrBusy. Defaults to DefaultBusyTimeout. Ignored
	// on Postgres, where row locks wait until the context ends.
	BusyTimeout time.Duration
	// MaxWriteQueue bounds the write transactions waiting for SQLite's
	// writer. Defaults to DefaultMaxWriteQueue. Ignored on Postgres.
	MaxWriteQueue int
	// MaxGroupCommit bounds the write transactions SQLite's writer commits
	// together. Defaults to DefaultMaxGroupCommit; 1 turns group commit
	// off (each transaction commits alone, still queued in Go). Ignored on
	// Postgres.
	MaxGroupCommit int
	// WriteObserver, when set, receives the SQLite write queue's figures.
	WriteObserver WriteObserver
	// Now is the clock for created_at and similar columns. Defaults to
	// time.Now. Whatever it returns is stored in UTC at microsecond
	// precision, which both dialects keep exactly.
	Now func() time.Time
}

// Store is the database API. It is safe for concurrent use. A Store handed
// to an InTx callback is bound to that transaction and must not be used
// after the callback returns.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect Dialect
	clock   func() time.Time
	// writer queues and group-commits write transactions (SQLite only).
	writer *groupCommit

	// Set on a transaction's Store only.
	inTx bool
	// seqs are the message seqs of the conversations the transaction
	// locked.
	seqs *txSeqs
	// txCtx, when set, runs the transaction's statements instead of each
	// call's context.
	txCtx context.Context
}

// Open connects to the database the URL names and checks that it answers.
// It does not migrate: call Migrate, or check migrations.Pending first.
//
//	postgres://user@host:5432/db?sslmode=disable   Postgres
//	postgresql://…                                 Postgres
//	sqlite:/var/lib/frontdesk/frontdesk.db         SQLite file
//	file:frontdesk.db                              SQLite file
//	frontdesk.db                                   SQLite file
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.MaxWriteQueue <= 0 {
		opts.MaxWriteQueue = DefaultMaxWriteQueue
	}
	if opts.MaxGroupCommit <= 0 {
		opts.MaxGroupCommit = DefaultMaxGroupCommit
	}
	var (
		sqlDB     *sql.DB
		dialector gorm.Dialector
		dialect   Dialect
		err       error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		dialect = Postgres
		if opts.MaxOpenConns <= 0 {
			opts.MaxOpenConns = DefaultMaxOpenConnsPostgres
		}
		sqlDB, err = openPostgres(rawURL)
		if err != nil {
			return nil, err
		}
		dialector = postgres.New(postgres.Config{Conn: sqlDB})
	default:
		dialect = SQLite
		if opts.MaxOpenConns <= 0 {
			opts.MaxOpenConns = DefaultMaxOpenConnsSQLite
		}
		dsn, err := sqliteDSN(rawURL, opts.BusyTimeout)
		if err != nil {
			return nil, err
		}
		sqlDB, err = sql.Open(sqlite.DriverName, dsn)
		if err != nil {
			return nil, fmt.Errorf("storage: open sqlite: %w", mapError(err))
		}
		dialector = sqlite.Dialector{Conn: sqlDB}
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opts.MaxOpenConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)

	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: connect to %s: %w", dialect, mapError(err))
	}
	s := &Store{sqlDB: sqlDB, dialect: dialect}
	s.clock = func() time.Time { return opts.Now().UTC().Truncate(time.Microsecond) }
	s.db, err = gorm.Open(dialector, &gorm.Config{
		// Single statements are atomic already; multi-statement methods
		// open their own transaction.
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
		NowFunc:                s.clock,
		DisableAutomaticPing:   true,
	})
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("storage: init %s: %w", dialect, mapError(err))
	}
	if dialect == SQLite {
		if err := s.checkSQLite(ctx); err != nil {
			sqlDB.Close()
			return nil, err
		}
		s.writer = startGroupCommit(s, opts.MaxWriteQueue, opts.MaxGroupCommit, opts.BusyTimeout, opts.WriteObserver)
	}
	return s, nil
}

// openPostgres opens a pgx pool whose connections read timestamps in UTC,
// as SQLite does, so a Store returns the same values on both dialects
// whatever the server's TimeZone or the process's time.Local.
func openPostgres(rawURL string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, invalidf("database URL: not a valid Postgres URL")
	}
	utcTimes := func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{
			Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	return stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(utcTimes)), nil
}

// sqliteDSN turns a URL into the driver's DSN with the pragmas every
// connection needs. Parameters in the URL are refused rather than merged: the
// pragmas below are what the rest of the package relies on.
func sqliteDSN(rawURL string, busy time.Duration) (string, error) {
	path := rawURL
	switch {
	case strings.HasPrefix(path, "sqlite://"):
		path = strings.TrimPrefix(path, "sqlite://")
	case strings.HasPrefix(path, "sqlite:"):
		path = strings.TrimPrefix(path, "sqlite:")
	case strings.HasPrefix(path, "file:"):
		path = strings.TrimPrefix(path, "file:")
	}
	if path == "" {
		return "", invalidf("database URL %q: no SQLite file path", rawURL)
	}
	if strings.Contains(path, "?") {
		return "", invalidf("database URL %q: SQLite URL parameters are not supported", rawURL)
	}
	if path == ":memory:" || strings.Contains(path, "mode=memory") {
		// Each pooled connection would get its own empty database.
		return "", invalidf("database URL %q: in-memory SQLite is not supported; use a file", rawURL)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// FULL: a commit is on disk (the WAL fsynced) before InTx returns, so
	// nothing is acknowledged before it is durable, power loss included.
	// NORMAL would skip that fsync; group commit (groupcommit.go) pays one
	// fsync for all the transactions of a group, which makes FULL cheap
	// under load (measured in docs/performance.md).
	q.Add("_pragma", "synchronous(FULL)")
	// Group commit runs each transaction in a savepoint, and SQLite copies
	// every page a savepoint first changes to a statement journal: in
	// memory, that is a memcpy instead of a write(2) to a temp file.
	q.Add("_pragma", "temp_store(MEMORY)")
	// Take the write lock at BEGIN: a deferred transaction that reads and
	// then writes fails at once with SQLITE_BUSY when another writer went
	// first, and the busy timeout cannot help it.
	q.Set("_txlock", "immediate")
	// No _time_format: the driver's default already writes the sortable
	// "2006-01-02 15:04:05.999999999-07:00", and setting it would skip
	// _txlock (the driver returns early after it).
	return path + "?" + q.Encode(), nil
}

// checkSQLite verifies that the pragmas took effect, so a misconfigured
// driver fails at start rather than corrupting assumptions later.
func (s *Store) checkSQLite(ctx context.Context) error {
	var mode string
	if err := s.sqlDB.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("storage: sqlite journal mode: %w", mapError(err))
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("storage: sqlite journal mode is %q, want wal", mode)
	}
	var fk int
	if err := s.sqlDB.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("storage: sqlite foreign keys: %w", mapError(err))
	}
	if fk != 1 {
		return errors.New("storage: sqlite foreign keys are off")
	}
	var sync int
	if err := s.sqlDB.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("storage: sqlite synchronous: %w", mapError(err))
	}
	if sync != 2 {
		return fmt.Errorf("storage: sqlite synchronous is %d, want 2 (FULL)", sync)
	}
	return nil
}

// Dialect reports which database the Store talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB returns the underlying pool, for migrations and health checks. Queries
// on it bypass the Store's tenant checks.
func (s *Store) DB() *sql.DB { return s.sqlDB }

// Migrate applies pending migrations; see package migrations.
func (s *Store) Migrate(ctx context.Context) error {
	return migrations.Up(ctx, s.sqlDB, s.dialect)
}

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("storage: ping: %w", mapError(err))
	}
	return nil
}

// Close closes the pool. It must not be called on a transaction's Store.
func (s *Store) Close() error {
	if s.inTx {
		return errors.New("storage: Close called on a transaction's Store")
	}
	if s.writer != nil {
		s.writer.stop()
	}
	return s.sqlDB.Close()
}

// InTx runs fn in one transaction: it commits when fn returns nil and rolls
// back when fn returns an error or panics. fn's error is returned unchanged.
//
// fn must use the Store it is given, not the outer one: on SQLite the
// transaction holds the only write lock, so a write through the outer Store
// would wait for it until the busy timeout. Calling InTx on a transaction's
// Store runs fn in the same transaction (there is no nesting), so helpers can
// call InTx without knowing whether their caller already did.
//
// On Postgres the isolation level is READ COMMITTED; methods that must
// serialize (GetConversationForUpdate, AppendMessage, PublishVersion) lock
// the rows they depend on. On SQLite write transactions run one at a time,
// queued in Go and committed in groups (see groupcommit.go): fn runs on the
// writer goroutine, and InTx returns after the commit. A transaction that
// waits longer than the busy timeout for its turn, or finds
// DefaultMaxWriteQueue others waiting, fails with ErrBusy without running.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	if s.writer != nil {
		return s.writer.do(ctx, fn)
	}
	var res [1]writeResult
	if err := s.runGroup(ctx, []func(tx *Store) error{fn}, res[:]); err != nil {
		return err
	}
	return res[0].raise()
}

// conn returns the gorm handle for one call. Inside a group-committed
// transaction the group's context runs every statement (see
// groupCommit.commit).
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if s.txCtx != nil {
		ctx = s.txCtx
	}
	return s.db.WithContext(ctx)
}

// forUpdate is the row lock for read-modify-write inside a transaction. On
// Postgres, NO KEY UPDATE blocks other writers of the row but not inserts of
// rows that reference it (messages, events). SQLite has no row locks; the
// gorm dialector drops the clause, and BEGIN IMMEDIATE already serializes
// writers.
func forUpdate() clause.Locking {
	return clause.Locking{Strength: "NO KEY UPDATE"}
}

// now is the Store's clock, UTC at microsecond precision.
func (s *Store) now() time.Time { return s.clock() }

// utc normalizes a caller's time the same way the clock is normalized, so
// both dialects store and compare the same instant. SQLite compares times as
// text, which only orders correctly when every value is in UTC.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// newID returns a uuid v7: time-ordered, so ids sort by creation and index
// inserts stay local.
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// needWorkspace refuses an empty workspace id, which must never widen a
// query to every tenant.
func needWorkspace(ws string) error {
	if ws == "" {
		return invalidf("workspace id is empty")
	}
	return nil
}

// needID refuses an empty id. An empty id cannot match a row, so this only
// turns a confusing ErrNotFound into a clear ErrInvalid.
func needID(field, id string) error {
	if id == "" {
		return invalidf("%s is empty", field)
	}
	return nil
}

// exists reports whether table has a row with this id in the workspace. It
// checks references whose foreign key cannot name the workspace (nullable
// ones), so no row can point at another tenant's.
func (s *Store) exists(ctx context.Context, table, ws, id string) (bool, error) {
	var n int64
	err := s.conn(ctx).Table(table).Where("workspace_id = ? AND id = ?", ws, id).Limit(1).Count(&n).Error
	if err != nil {
		return false, mapError(err)
	}
	return n > 0, nil
}

// needRef returns ErrNotFound unless id is empty or names a row of table in
// the workspace.
func (s *Store) needRef(ctx context.Context, table, what, ws, id string) error {
	if id == "" {
		return nil
	}
	ok, err := s.exists(ctx, table, ws, id)
	if err != nil {
		return err
	}
	if !ok {
		return notFound(what + " " + id)
	}
	return nil
}

// wrap adds the operation to a mapped error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, mapError(err))
}
