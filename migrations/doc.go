// Package migrations holds Frontdesk's versioned SQL schema, one directory
// per dialect, embedded in the binary, and the functions that apply it.
//
// The SQL is written by hand for each dialect (no AutoMigrate), so the
// schema that runs in production is the schema that was reviewed. Files are
// goose-annotated (-- +goose Up / -- +goose Down) and named NNNNN_name.sql;
// both dialects carry the same versions.
//
// Every function builds its own goose.Provider rather than using goose's
// package-level state, so several databases can be migrated at once (the
// tests do exactly that). On Postgres, Up and Down hold a session advisory
// lock keyed by database and schema, so several `frontdesk serve` processes
// starting together apply each migration once.
//
// The server refuses to start while Pending reports unapplied migrations,
// unless it is told to migrate; `frontdesk migrate up|down|status` calls Up,
// Down and Status.
package migrations
