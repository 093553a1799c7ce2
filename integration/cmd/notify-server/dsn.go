package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hipopay-go/hipopay/sqlstore"
)

// database is what -db names: the driver and DSN to open, the dialect, and
// what may be logged of it (never a password).
type database struct {
	driver   string
	dsn      string
	dialect  sqlstore.Dialect
	logAttrs []any
}

// errUnknownDSN is -db's error for a string that is neither kind. It never
// holds the string itself, which may hold a password.
func errUnknownDSN() error {
	return errors.New("-db is neither PostgreSQL (postgres://..., postgresql://..., or libpq's keyword form host=... user=... dbname=...) " +
		"nor a SQLite file (sqlite:PATH, file:PATH, or a path ending in .db, .sqlite or .sqlite3 or holding a '/', without '=', '@' or '://')")
}

// parseDSN tells which database -db names, so that the server never opens
// a SQLite file named after a PostgreSQL DSN (several instances would each
// keep their own file, and exactly-once across them would be gone). Its
// errors never hold the DSN.
func parseDSN(s string) (*database, error) {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return nil, errors.New("-db is empty")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"), isKeywordDSN(s):
		return parsePostgres(s)
	case strings.HasPrefix(lower, "sqlite:"):
		rest := strings.TrimPrefix(s[len("sqlite:"):], "//")
		if rest == "" {
			return nil, errors.New("-db sqlite: names no file")
		}
		return sqliteDatabase(rest), nil
	case strings.HasPrefix(lower, "file:"):
		if len(s) == len("file:") {
			return nil, errors.New("-db file: names no file")
		}
		return sqliteDatabase(s), nil
	case strings.Contains(s, "="), strings.Contains(s, "://"), strings.Contains(s, "@"):
		// Not a path: a DSN of some kind, maybe holding a password.
		return nil, errUnknownDSN()
	case strings.HasSuffix(lower, ".db"), strings.HasSuffix(lower, ".sqlite"), strings.HasSuffix(lower, ".sqlite3"), strings.Contains(s, "/"):
		return sqliteDatabase(s), nil
	}
	return nil, errUnknownDSN()
}

// libpqKeyword reports whether k is a parameter keyword of libpq's
// keyword/value connection strings.
func libpqKeyword(k string) bool {
	switch k {
	case "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "require_auth",
		"channel_binding", "connect_timeout", "client_encoding", "options", "application_name",
		"fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "sslmode", "requiressl",
		"sslcompression", "sslcert", "sslkey", "sslpassword", "sslcertmode", "sslrootcert", "sslcrl",
		"sslcrldir", "sslsni", "sslnegotiation", "requirepeer", "ssl_min_protocol_version",
		"ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation", "service",
		"target_session_attrs", "load_balance_hosts", "search_path":
		return true
	}
	return false
}

// isKeywordDSN reports whether s starts like libpq's keyword form: a
// known keyword, then '='.
func isKeywordDSN(s string) bool {
	key, _, ok := strings.Cut(s, "=")
	return ok && libpqKeyword(strings.ToLower(strings.TrimSpace(key)))
}

// parsePostgres checks a PostgreSQL DSN with pgx's own parser (which the
// driver uses too) and keeps its host, port, database and user for the
// log. pgx's errors are not passed on: they may quote the DSN.
func parsePostgres(s string) (*database, error) {
	cfg, err := pgx.ParseConfig(s)
	if err != nil {
		return nil, errors.New("-db looks like a PostgreSQL DSN but does not parse (check its syntax: postgres://user:password@host:port/db or host=... port=... user=... dbname=...)")
	}
	return &database{
		driver:  "pgx",
		dsn:     s,
		dialect: sqlstore.Postgres,
		logAttrs: []any{
			"db", "postgres", "host", cfg.Host, "port", strconv.Itoa(int(cfg.Port)),
			"database", cfg.Database, "user", cfg.User,
		},
	}, nil
}

// sqliteDatabase is a SQLite file; the log gets its name without query
// parameters.
func sqliteDatabase(dsn string) *database {
	file, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	return &database{driver: "sqlite", dsn: dsn, dialect: sqlstore.SQLite, logAttrs: []any{"db", "sqlite", "file", file}}
}
