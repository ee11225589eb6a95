// Package storage is Frontdesk's database layer: one Store API with the same
// behaviour on the embedded SQLite database (the default) and on Postgres
// (for scale-out).
//
// # Opening
//
// Open picks the dialect from the URL: "postgres://…" or "postgresql://…"
// is Postgres; "sqlite:PATH", "file:PATH" or a plain path is a SQLite file.
// SQLite runs in WAL mode with foreign keys on, a busy timeout, and
// BEGIN IMMEDIATE transactions, so a write transaction takes the write lock
// up front instead of failing when it upgrades from a read. The schema is
// applied by package migrations (Store.Migrate, or `frontdesk migrate up`).
//
// # Tenancy
//
// Every method on a tenant-owned table takes the workspace id and scopes the
// query by it. An empty workspace id is refused with ErrInvalid, never read
// as "all workspaces", and another workspace's ids answer ErrNotFound, so a
// caller cannot learn whether they exist. The few methods that are not
// scoped say so: GetChannelByPublicKey (the key identifies the tenant) and
// the background workers' ClaimDueTimers and ClaimOutbox, whose rows carry
// their workspace id for the follow-up calls.
//
// # Transactions
//
// InTx runs a function in one transaction and hands it a Store bound to that
// transaction. The conversation runner uses it to load a conversation with
// GetConversationForUpdate, compare-and-set its state with UpdateConversation,
// append messages (each gets the next per-conversation seq), set or cancel
// timers, and insert events and webhook outbox rows, all committed together.
// Methods that need several statements open their own transaction when they
// are not already inside one.
//
// # Errors
//
// Driver errors are mapped in one place (errors.go) to a few sentinels:
// ErrNotFound, ErrConflict, ErrDuplicate, ErrInvalid, ErrBusy and
// ErrUnavailable. Test them with errors.Is. A failed compare-and-set is a
// *ConflictError that carries the current revision or version. Callers never
// see a driver's error types.
//
// # Bounds
//
// List methods take a limit: zero or less means DefaultListLimit, and
// anything above MaxListLimit is cut to it. Stored texts and JSON documents
// have the size limits declared in limits.go.
package storage
