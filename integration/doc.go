// Package integration holds the hipopay SDK's tests against real databases
// (PostgreSQL through pgx, SQLite through modernc.org/sqlite) and the
// runnable notification server in cmd/notify-server. It is a module of its
// own so that the SDK itself imports no database driver; see README.md.
package integration
