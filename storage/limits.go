package storage

import "time"

// List bounds. Every list method takes a limit: zero or less means
// DefaultListLimit, and anything above MaxListLimit is cut to it, so no
// request can read a whole table.
const (
	// DefaultListLimit is the page size when the caller gives none.
	DefaultListLimit = 50
	// MaxListLimit is the largest page any list method returns.
	MaxListLimit = 500
	// MaxListOffset bounds offset paging in ListConversations; deeper pages
	// should narrow the filter instead.
	MaxListOffset = 10_000
)

// Size bounds on what is stored. They are backstops: the API refuses
// oversized input earlier, with its own (smaller) limits and field errors.
const (
	// MaxNameBytes bounds names, emails and other short labels.
	MaxNameBytes = 512
	// MaxTextBytes bounds free text such as lead notes and addresses.
	MaxTextBytes = 16 << 10
	// MaxMessageBytes bounds a message body.
	MaxMessageBytes = 64 << 10
	// MaxJSONBytes bounds JSON documents other than graphs: engine state,
	// settings, payloads, event data.
	MaxJSONBytes = 1 << 20
	// MaxGraphBytes bounds a draft or version graph.
	MaxGraphBytes = 8 << 20
	// MaxStringListItems bounds lists such as allowed origins and languages.
	MaxStringListItems = 100
)

// Defaults for Options.
const (
	// DefaultMaxOpenConnsPostgres is the Postgres pool size per process.
	DefaultMaxOpenConnsPostgres = 20
	// DefaultMaxOpenConnsSQLite is the SQLite pool size. Readers run in
	// parallel in WAL mode; writers queue on the busy timeout.
	DefaultMaxOpenConnsSQLite = 8
	// DefaultBusyTimeout is how long a SQLite writer waits for the write
	// lock before failing with ErrBusy.
	DefaultBusyTimeout = 5 * time.Second
)

// clampLimit applies DefaultListLimit and MaxListLimit.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultListLimit
	case n > MaxListLimit:
		return MaxListLimit
	default:
		return n
	}
}
