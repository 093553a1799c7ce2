// The Store: its options, its table, and Process, which runs the
// merchant's function in a transaction with the key's mark.

package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"unicode/utf8"

	"github.com/hipopay-go/hipopay"
)

var _ hipopay.NotificationStore = (*Store)(nil)

// DefaultTable is the table a Store keeps its marks in unless [WithTable]
// names another.
const DefaultTable = "hipopay_processed_notifications"

// Option configures a [Store]; [New] reports an option's error. A
// [Dialect] is itself an Option.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	dialect Dialect
	table   string
}

// Dialect is the SQL flavour a Store speaks: placeholders, DDL and the way
// it locks a key. Pass it to [New] as an option; it must match the driver
// the *sql.DB was opened with. An unknown value is refused.
type Dialect int

const (
	// Postgres locks each key with a transaction-scoped advisory lock, so
	// any number of instances may share the database. The default.
	Postgres Dialect = iota
	// SQLite serializes processing on SQLite's single write lock (and,
	// within one Store, in process). For one instance.
	SQLite
)

// String returns "postgres" or "sqlite".
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	default:
		return fmt.Sprintf("Dialect(%d)", int(d))
	}
}

func (d Dialect) apply(c *config) error {
	if d != Postgres && d != SQLite {
		return fmt.Errorf("sqlstore: unknown dialect %v", d)
	}
	c.dialect = d
	return nil
}

// WithTable sets the table the marks are kept in ([DefaultTable] by
// default). The name is written into SQL unquoted: a plain identifier,
// optionally schema-qualified, of ASCII letters, digits and underscores,
// not starting with a digit, at most 63 bytes a part ("hipopay_marks",
// "payments.hipopay_marks"); anything else is refused. A reserved word is
// accepted here but makes CreateTable fail.
func WithTable(name string) Option {
	return optionFunc(func(c *config) error {
		if err := checkTableName(name); err != nil {
			return fmt.Errorf("sqlstore: WithTable: %w", err)
		}
		c.table = name
		return nil
	})
}

// Store is a [hipopay.NotificationStore] kept in a SQL database: a table of
// the keys whose notification was processed, written in the same
// transaction as the merchant's own effects ([TxFromContext]). Safe for
// concurrent use; with [Postgres], also by several processes sharing the
// database. The package documentation explains how it locks and stores.
type Store struct {
	db      *sql.DB
	dialect Dialect
	table   string

	payments paymentLocks  // PostgreSQL: in-process wait per key
	writer   chan struct{} // SQLite: one Process at a time (capacity 1)
}

// New returns a store keeping its marks in db, which the merchant opened
// with the driver matching the dialect ([Postgres] unless an option says
// [SQLite]). It neither connects nor creates the table: call
// [Store.CreateTable], or run [Store.Schema] in a migration. A nil db,
// invalid options and a table in a temporary schema (pg_temp.x, temp.x:
// its marks would vanish with the connection) are refused.
func New(db *sql.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: New: nil *sql.DB")
	}
	cfg := config{dialect: Postgres, table: DefaultTable}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(&cfg); err != nil {
			return nil, err
		}
	}
	if err := checkNotTemporary(cfg.dialect, cfg.table); err != nil {
		return nil, fmt.Errorf("sqlstore: New: %w", err)
	}
	return &Store{
		db:      db,
		dialect: cfg.dialect,
		table:   cfg.table,
		writer:  make(chan struct{}, 1),
	}, nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Table returns the name of the store's table.
func (s *Store) Table() string { return s.table }

// Schema returns the DDL of the store's table for its dialect, one CREATE
// TABLE IF NOT EXISTS statement, for migrations. On PostgreSQL:
//
//	CREATE TABLE IF NOT EXISTS hipopay_processed_notifications (
//	    payment_no   TEXT PRIMARY KEY,
//	    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
//	)
//
// On SQLite processed_at is TEXT, CURRENT_TIMESTAMP's UTC
// "YYYY-MM-DD HH:MM:SS".
func (s *Store) Schema() string {
	if s.dialect == SQLite {
		return "CREATE TABLE IF NOT EXISTS " + s.table + " (\n" +
			"    payment_no   TEXT PRIMARY KEY NOT NULL,\n" +
			"    processed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP\n" +
			")"
	}
	return "CREATE TABLE IF NOT EXISTS " + s.table + " (\n" +
		"    payment_no   TEXT PRIMARY KEY,\n" +
		"    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()\n" +
		")"
}

// CreateTable creates the store's table ([Store.Schema]) unless it exists.
// On PostgreSQL it runs under an advisory lock on the table's folded,
// qualified name, so instances starting together may all call it, however
// they spell the name, and it refuses a name that resolves to a temporary
// table (a search_path starting with pg_temp). It fails when the database
// is unreachable or refuses the DDL (no privilege, a schema that does not
// exist, a reserved word as table name).
func (s *Store) CreateTable(ctx context.Context) error {
	if s.dialect == SQLite {
		if _, err := s.db.ExecContext(ctx, s.Schema()); err != nil {
			return fmt.Errorf("sqlstore: create table %s: %w", s.table, err)
		}
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: create table %s: begin: %w", s.table, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// NULL when no schema of the search_path exists.
	var schema sql.NullString
	if err := tx.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("sqlstore: create table %s: current schema: %w", s.table, err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("hipopay create table", foldedName(s.table, schema.String))); err != nil {
		return fmt.Errorf("sqlstore: create table %s: lock: %w", s.table, err)
	}
	if _, err := tx.ExecContext(ctx, s.Schema()); err != nil {
		return fmt.Errorf("sqlstore: create table %s: %w", s.table, err)
	}
	var persistence string
	if err := tx.QueryRowContext(ctx, "SELECT relpersistence::text FROM pg_class WHERE oid = to_regclass($1)", s.table).Scan(&persistence); err != nil {
		return fmt.Errorf("sqlstore: create table %s: check: %w", s.table, err)
	}
	if persistence == "t" {
		return fmt.Errorf("sqlstore: create table %s: it resolves to a temporary table (search_path starts with pg_temp?), whose marks would vanish with the connection", s.table)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: create table %s: commit: %w", s.table, err)
	}
	return nil
}

// Processed reports whether key's notification was processed (its mark is
// committed). key is a key as the handler passes it to [Store.Process]. It
// fails when the database does.
func (s *Store) Processed(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	var one int
	err := s.db.QueryRowContext(ctx, "SELECT 1 FROM "+s.table+" WHERE payment_no = "+s.placeholder(1), markKey(key)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("sqlstore: look up %q: %w", markKey(key), err)
	}
	return true, nil
}

// Process runs fn in a database transaction unless key's mark is already
// committed, and commits the mark with fn's effects; it implements
// [hipopay.NotificationStore]. fn's context carries the transaction
// ([TxFromContext]). ran == false, err == nil: processed before, fn not
// called. ran == true, err == nil: fn returned nil and the mark committed.
// ran == false, err != nil: fn not called, nothing recorded (ctx ended
// while waiting for the key's lock, or the database failed). ran == true,
// err != nil: fn's own error (as is) or a failed commit (wrapped), all
// rolled back. A panic in fn rolls back and goes on. An empty key, a key
// holding '&' (see the package doc) and a nil fn are refused.
func (s *Store) Process(ctx context.Context, key string, fn func(ctx context.Context) error) (ran bool, err error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	if fn == nil {
		return false, errors.New("sqlstore: nil function")
	}
	if s.dialect == SQLite {
		return s.processSQLite(ctx, markKey(key), fn)
	}
	return s.processPostgres(ctx, markKey(key), fn)
}

// processPostgres runs fn for the stored key mark (see markKey).
func (s *Store) processPostgres(ctx context.Context, mark string, fn func(ctx context.Context) error) (bool, error) {
	unlock, err := s.payments.lock(ctx, mark)
	if err != nil {
		return false, fmt.Errorf("sqlstore: waiting for %q: %w", mark, err)
	}
	defer unlock()

	// READ COMMITTED: the insert, meeting another transaction's
	// uncommitted mark, waits for it (see the package doc).
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return false, fmt.Errorf("sqlstore: %q: begin: %w", mark, err)
	}
	// One round trip: the advisory lock queues duplicates, then the mark,
	// written first, decides.
	return markThenRun(ctx, tx, "WITH lock AS (SELECT pg_advisory_xact_lock($1)) "+
		"INSERT INTO "+s.table+" (payment_no, processed_at) SELECT $2, now() FROM lock "+
		"ON CONFLICT (payment_no) DO NOTHING", mark, fn, lockKey(s.table, mark), mark)
}

// processSQLite runs fn for the stored key mark (see markKey).
func (s *Store) processSQLite(ctx context.Context, mark string, fn func(ctx context.Context) error) (bool, error) {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("sqlstore: waiting for %q: %w", mark, ctx.Err())
	}
	defer func() { <-s.writer }()

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlstore: %q: begin: %w", mark, err)
	}
	// Writing first takes SQLite's write lock now, waiting on the busy
	// timeout if another connection holds it, rather than failing later
	// when a read lock would have to be upgraded.
	return markThenRun(ctx, tx, "INSERT INTO "+s.table+" (payment_no, processed_at) VALUES (?, CURRENT_TIMESTAMP) ON CONFLICT (payment_no) DO NOTHING", mark, fn, mark)
}

// markThenRun ends tx: it writes the mark with insertMark and args (an
// insert that writes nothing when the mark exists), and when it was new
// runs fn in tx and commits. An existing mark means processed before
// (false, nil). fn's error, a failed commit or fn's panic roll the mark
// back with fn's writes.
func markThenRun(ctx context.Context, tx *sql.Tx, insertMark, mark string, fn func(ctx context.Context) error, args ...any) (bool, error) {
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback() // also on fn's panic, which then goes on
		}
	}()
	res, err := tx.ExecContext(ctx, insertMark, args...)
	if err != nil {
		return false, fmt.Errorf("sqlstore: %q: write mark: %w", mark, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: %q: write mark: %w", mark, err)
	}
	if n == 0 {
		return false, nil // processed before: nothing written, the rollback ends tx
	}
	if err := fn(context.WithValue(ctx, txKey{}, tx)); err != nil {
		return true, err
	}
	if err := tx.Commit(); err != nil {
		return true, fmt.Errorf("sqlstore: %q: commit: %w", mark, err)
	}
	committed = true
	return true, nil
}

func (s *Store) placeholder(n int) string {
	if s.dialect == SQLite {
		return "?"
	}
	return fmt.Sprintf("$%d", n)
}

// txKey is the context key of the transaction a Store hands to fn.
type txKey struct{}

// TxFromContext returns the transaction a [Store] runs the merchant's
// function in, so that the function's own writes (marking the order paid)
// commit together with the store's mark. ok is false when ctx does not
// come from a Store (the in-memory store, a test). The transaction is only
// valid while the function runs; do not commit or roll it back.
func TxFromContext(ctx context.Context) (tx *sql.Tx, ok bool) {
	tx, ok = ctx.Value(txKey{}).(*sql.Tx)
	return tx, ok && tx != nil
}

// checkKey refuses the keys no notification HipoPay signed can have: an
// empty one, and one holding '&', which only a notification re-cut out of
// another one's signed string carries.
func checkKey(key string) error {
	if key == "" {
		return errors.New("sqlstore: empty key")
	}
	if strings.IndexByte(key, '&') >= 0 {
		return errors.New("sqlstore: key holds '&': HipoPay's values never do (a re-cut notification?)")
	}
	return nil
}

// Stored keys: a key is written as it is (escaped) when it is valid UTF-8,
// at most maxStoredKey bytes once escaped and does not start with
// hashedPrefix; otherwise as hashedPrefix + hex SHA-256 of the key.
const (
	maxStoredKey = 128
	hashedPrefix = "sha256:"
)

// markKey is how a key is written in the payment_no column (see the
// package doc): one-to-one, at most maxStoredKey bytes of valid UTF-8
// without a zero byte, and every payment number unchanged.
func markKey(key string) string {
	if utf8.ValidString(key) && !strings.HasPrefix(key, hashedPrefix) {
		if escaped := escapeKey(key); len(escaped) <= maxStoredKey {
			return escaped
		}
	}
	sum := sha256.Sum256([]byte(key))
	return hashedPrefix + hex.EncodeToString(sum[:])
}

// escapeKey writes '%' as "%25" and a zero byte (which PostgreSQL's text
// cannot hold) as "%00", every other byte as it is: injective, and a key
// with neither is unchanged.
func escapeKey(key string) string {
	if !strings.ContainsAny(key, "%\x00") {
		return key
	}
	var b strings.Builder
	b.Grow(len(key) + 4)
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '%':
			b.WriteString("%25")
		case 0:
			b.WriteString("%00")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// lockKey is the advisory lock key of name within table: FNV-1a 64 of
// table, a zero byte and name, as the signed bigint PostgreSQL takes.
func lockKey(table, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int64(h.Sum64())
}
