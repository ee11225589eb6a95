package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	sqlite3 "modernc.org/sqlite/lib"
)

// The sentinel errors every Store method returns, wrapped with detail. Test
// them with errors.Is.
var (
	// ErrNotFound: the row does not exist, or it belongs to another
	// workspace, or a reference names such a row.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict: a compare-and-set lost (the row changed since it was
	// read), or the row is in a state that forbids the change. A lost
	// compare-and-set is a *ConflictError carrying the current value.
	ErrConflict = errors.New("storage: conflict")
	// ErrDuplicate: a unique key is already taken (an email in a workspace,
	// a webhook event id).
	ErrDuplicate = errors.New("storage: duplicate")
	// ErrInvalid: the input breaks a rule of the schema (empty workspace id,
	// unknown enum value, malformed JSON, over a size limit, an update of an
	// immutable row).
	ErrInvalid = errors.New("storage: invalid")
	// ErrBusy: the database could not take a lock in time (SQLite busy
	// timeout, Postgres deadlock or serialization failure). Retrying the
	// whole transaction may succeed.
	ErrBusy = errors.New("storage: busy")
	// ErrUnavailable: the database cannot be reached or cannot write
	// (connection refused or lost, disk full, read-only file). Nothing was
	// committed; report not ready and retry later.
	ErrUnavailable = errors.New("storage: unavailable")
)

// ConflictError is the ErrConflict of a compare-and-set: the caller expected
// one revision or version and the row holds another. errors.Is(err,
// ErrConflict) is true for it; use errors.As to read Current, reload, and
// decide whether to retry or to tell the user.
type ConflictError struct {
	// Resource names what conflicted: "draft" or "conversation".
	Resource string
	// Expected is the revision or version the caller passed.
	Expected int64
	// Current is the revision or version the row holds now.
	Current int64
	// Reason is set when the versions match but the change is still refused,
	// e.g. "conversation is not unassigned".
	Reason string
}

// Error describes the conflict.
func (e *ConflictError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("storage: conflict: %s (%s at %d)", e.Reason, e.Resource, e.Current)
	}
	return fmt.Sprintf("storage: conflict: %s changed (expected %d, current %d)",
		e.Resource, e.Expected, e.Current)
}

// Is reports that a ConflictError is an ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// invalidf returns an ErrInvalid naming the offending field.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// notFound returns an ErrNotFound naming what was looked for.
func notFound(what string) error {
	return fmt.Errorf("%w: %s", ErrNotFound, what)
}

// isMapped reports whether err already speaks this package's language.
func isMapped(err error) bool {
	for _, s := range []error{ErrNotFound, ErrConflict, ErrDuplicate, ErrInvalid, ErrBusy, ErrUnavailable} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// mapError is the one place where driver and gorm errors become sentinels.
// The result never wraps a driver type: only its text is kept, for logs.
// Context errors stay recognisable with errors.Is.
func mapError(err error) error {
	if err == nil || isMapped(err) {
		return err
	}
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound), errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("storage: %w", context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("storage: %w", context.DeadlineExceeded)
	}

	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return mapPostgres(pgErr)
	}
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) {
		return mapSQLite(liteErr)
	}

	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		pgconn.SafeToRetry(err):
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return fmt.Errorf("storage: %v", err)
}

// mapPostgres maps SQLSTATE codes
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
func mapPostgres(e *pgconn.PgError) error {
	detail := e.Message
	if e.ConstraintName != "" {
		detail = e.ConstraintName + ": " + e.Message
	}
	switch e.Code {
	case "23505": // unique_violation
		return fmt.Errorf("%w: %s", ErrDuplicate, detail)
	case "23503": // foreign_key_violation: the referenced row is not there
		return fmt.Errorf("%w: %s", ErrNotFound, detail)
	case "23502", "23514", "22001", "22003", "22007", "22008", "22021", "22P02", "22P05":
		// not null, check, too long, out of range, bad datetime, bad
		// encoding (NUL bytes), bad text representation.
		return fmt.Errorf("%w: %s", ErrInvalid, detail)
	case "FD001": // raised by frontdesk_refuse_update(): immutable rows
		return fmt.Errorf("%w: %s", ErrInvalid, detail)
	case "40001", "40P01", "55P03": // serialization failure, deadlock, lock not available
		return fmt.Errorf("%w: %s", ErrBusy, detail)
	case "57014": // query_canceled (statement timeout or cancel)
		return fmt.Errorf("%w: %s", ErrBusy, detail)
	}
	switch {
	case strings.HasPrefix(e.Code, "08"), // connection exception
		strings.HasPrefix(e.Code, "53"),  // insufficient resources (disk full, too many connections)
		strings.HasPrefix(e.Code, "57P"): // admin shutdown, crash shutdown, cannot connect now
		return fmt.Errorf("%w: %s", ErrUnavailable, detail)
	}
	return fmt.Errorf("storage: postgres %s: %s", e.Code, detail)
}

// mapSQLite maps result codes (https://www.sqlite.org/rescode.html). The
// driver turns extended codes on, so the low byte is the primary code.
func mapSQLite(e *gosqlite.Error) error {
	code := e.Code()
	msg := e.Error()
	switch code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %s", ErrDuplicate, msg)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %s", ErrNotFound, msg)
	}
	switch code & 0xff {
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
		// check, not null, the immutability triggers' RAISE(ABORT).
		return fmt.Errorf("%w: %s", ErrInvalid, msg)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%w: %s", ErrBusy, msg)
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("%w: %s", ErrUnavailable, msg)
	case sqlite3.SQLITE_INTERRUPT:
		return fmt.Errorf("storage: %w: %s", context.Canceled, msg)
	}
	return fmt.Errorf("storage: sqlite: %s", msg)
}
