// Package storagetest gives tests real, isolated databases: a SQLite file in
// the test's temp directory, or a fresh Postgres schema dropped when the
// test ends. Storage is never mocked; any package whose tests need a Store
// uses these helpers.
//
// Postgres is found at FRONTDESK_TEST_POSTGRES_URL, by default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. When it cannot be
// reached the Postgres half of a test fails rather than skips, so a broken
// setup is not mistaken for a pass. Set FRONTDESK_TEST_POSTGRES_URL=skip to
// run the SQLite half only.
package storagetest
