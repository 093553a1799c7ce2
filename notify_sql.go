// A NotificationStore on database/sql: exactly-once notification processing
// shared by several instances through PostgreSQL, or by one instance through
// SQLite. The SDK imports no database driver: the merchant opens the *sql.DB
// with the driver of their choice (pgx's stdlib, lib/pq, modernc.org/sqlite,
// mattn/go-sqlite3) and hands it over.

package hipopay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
)

// DefaultSQLTable is the table SQLStore keeps its marks in unless
// WithSQLTable names another.
const DefaultSQLTable = "hipopay_processed_notifications"

// SQLDialect is the SQL flavour an SQLStore speaks: placeholders, DDL and
// the way it locks a payment.
type SQLDialect int

const (
	// SQLDialectPostgres locks each payment with a transaction-scoped
	// advisory lock (pg_advisory_xact_lock), so any number of instances
	// may share the database. The default.
	SQLDialectPostgres SQLDialect = iota
	// SQLDialectSQLite serializes processing on SQLite's single write lock
	// (and, within one SQLStore, in process). For one instance: SQLite is a
	// file, not a server.
	SQLDialectSQLite
)

// String returns "postgres" or "sqlite".
func (d SQLDialect) String() string {
	switch d {
	case SQLDialectPostgres:
		return "postgres"
	case SQLDialectSQLite:
		return "sqlite"
	default:
		return fmt.Sprintf("SQLDialect(%d)", int(d))
	}
}

// SQLStoreOption configures an SQLStore; NewSQLStore reports an option's
// error.
type SQLStoreOption func(*sqlStoreConfig) error

type sqlStoreConfig struct {
	dialect SQLDialect
	table   string
}

// WithSQLDialect sets the dialect (SQLDialectPostgres by default). It must
// match the driver the *sql.DB was opened with; an unknown dialect is
// refused.
func WithSQLDialect(d SQLDialect) SQLStoreOption {
	return func(c *sqlStoreConfig) error {
		if d != SQLDialectPostgres && d != SQLDialectSQLite {
			return fmt.Errorf("hipopay: WithSQLDialect: unknown dialect %v", d)
		}
		c.dialect = d
		return nil
	}
}

// WithSQLTable sets the table the marks are kept in (DefaultSQLTable by
// default). The name is written into SQL unquoted, so it must be a plain
// identifier, optionally schema-qualified: letters, digits and underscores,
// not starting with a digit, at most 63 bytes a part ("hipopay_marks",
// "payments.hipopay_marks"); anything else is refused. A reserved word is
// accepted here but makes CreateTable fail.
func WithSQLTable(name string) SQLStoreOption {
	return func(c *sqlStoreConfig) error {
		if err := checkSQLTableName(name); err != nil {
			return fmt.Errorf("hipopay: WithSQLTable: %w", err)
		}
		c.table = name
		return nil
	}
}

// SQLStore is a NotificationStore kept in a SQL database: a table of the
// payments whose notification was processed (payment_no, processed_at),
// written in the same transaction as the merchant's own effects. Safe for
// concurrent use; with SQLDialectPostgres, also by several processes
// sharing the database.
//
// The payment_no column holds the handler's deduplication key: the
// payment number itself for a PAID notification; for another status the
// key has a zero byte (see NotificationStore), which PostgreSQL's text
// cannot hold, so the store writes it "%00" (and a '%' "%25"). A key
// without either, every payment number, is written as it is.
//
// Each Process call runs in one database transaction, which it hands to fn
// through the context (TxFromContext). When fn does its work (marking the
// order paid) through that transaction, the work and the mark commit
// together or not at all: a crash, a failing fn or a failed commit leaves
// neither, and HipoPay's next delivery processes the payment again.
//
// On PostgreSQL the transaction is READ COMMITTED whatever the database's
// default. It takes pg_advisory_xact_lock(k), where k is the FNV-1a 64-bit
// hash of the table name as written to WithSQLTable, a zero byte and the
// payment number, as a signed 64-bit integer; then it writes the mark
// first (INSERT ... ON CONFLICT DO NOTHING): no row written means the
// payment was processed, and Process returns without calling fn. Then it
// runs fn and commits; fn failing rolls the mark back with fn's effects.
// Exactly-once does not depend on the advisory lock: the mark's primary
// key does it, since a second transaction inserting the same payment
// waits for the first one's row and writes nothing once it is committed.
// So stores that name one table differently ("Marks", "marks",
// "public.marks") and so get different lock keys are still correct. The
// lock only keeps duplicates queued (and instances of earlier versions of
// this SDK, which checked the mark before running fn, serialized with
// this one). Within one SQLStore, calls for the same payment also wait for
// each other in process first, so that duplicates do not each hold a
// connection while they wait.
//
// On SQLite the transaction writes the mark first, which takes SQLite's
// write lock at once (as BEGIN IMMEDIATE would), then runs fn; the mark is
// rolled back with fn's effects if fn fails. Calls on one SQLStore are
// serialized in process, so its own goroutines never meet SQLITE_BUSY;
// other writers of the same file (another SQLStore, another process, the
// merchant's own code) wait on SQLite's busy timeout, which the DSN should
// set (modernc.org/sqlite: "_pragma=busy_timeout(5000)"; mattn/go-sqlite3:
// "_busy_timeout=5000"), or fail with SQLITE_BUSY, which Process returns as
// an error (the handler answers 500 and HipoPay retries).
//
// fn must do its database work through the transaction, never through the
// *sql.DB itself: on SQLite a write through another connection waits for the
// lock fn's own transaction holds, and on either database a pool with few
// connections can run dry. fn must not commit or roll back the
// transaction.
type SQLStore struct {
	db      *sql.DB
	dialect SQLDialect
	table   string

	payments sqlPaymentLocks // PostgreSQL: in-process wait per payment
	writer   chan struct{}   // SQLite: one Process at a time (capacity 1)
}

// NewSQLStore returns a store keeping its marks in db, which the merchant
// opened with the driver matching the dialect. It neither connects nor
// creates the table: call CreateTable, or run Schema's DDL in a migration.
// A nil db and invalid options are refused.
func NewSQLStore(db *sql.DB, opts ...SQLStoreOption) (*SQLStore, error) {
	if db == nil {
		return nil, errors.New("hipopay: NewSQLStore: nil *sql.DB")
	}
	cfg := sqlStoreConfig{dialect: SQLDialectPostgres, table: DefaultSQLTable}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	return &SQLStore{
		db:      db,
		dialect: cfg.dialect,
		table:   cfg.table,
		writer:  make(chan struct{}, 1),
	}, nil
}

// Dialect returns the store's dialect.
func (s *SQLStore) Dialect() SQLDialect { return s.dialect }

// Table returns the name of the store's table.
func (s *SQLStore) Table() string { return s.table }

// Schema returns the DDL of the store's table for its dialect, a single
// CREATE TABLE IF NOT EXISTS statement, for merchants who manage their
// schema with migrations rather than CreateTable. On PostgreSQL:
//
//	CREATE TABLE IF NOT EXISTS hipopay_processed_notifications (
//	    payment_no   TEXT PRIMARY KEY,
//	    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
//	)
//
// On SQLite processed_at is TEXT, CURRENT_TIMESTAMP's UTC
// "YYYY-MM-DD HH:MM:SS".
func (s *SQLStore) Schema() string {
	if s.dialect == SQLDialectSQLite {
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

// CreateTable creates the store's table (Schema) unless it exists. On
// PostgreSQL it runs under an advisory lock, so instances starting together
// may all call it. It fails when the database is unreachable or refuses the
// DDL (no privilege, a schema that does not exist, a reserved word as table
// name).
func (s *SQLStore) CreateTable(ctx context.Context) error {
	if s.dialect == SQLDialectSQLite {
		if _, err := s.db.ExecContext(ctx, s.Schema()); err != nil {
			return fmt.Errorf("hipopay: sql store: create table %s: %w", s.table, err)
		}
		return nil
	}
	// Concurrent CREATE TABLE IF NOT EXISTS can fail on PostgreSQL with a
	// unique violation in its catalogue: serialize them.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("hipopay: sql store: create table %s: begin: %w", s.table, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", sqlLockKey("hipopay create table", s.table)); err != nil {
		return fmt.Errorf("hipopay: sql store: create table %s: lock: %w", s.table, err)
	}
	if _, err := tx.ExecContext(ctx, s.Schema()); err != nil {
		return fmt.Errorf("hipopay: sql store: create table %s: %w", s.table, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("hipopay: sql store: create table %s: commit: %w", s.table, err)
	}
	return nil
}

// Processed reports whether paymentNo's notification was processed (its mark
// is committed). paymentNo is a key as the handler passes it to Process (a
// PAID notification's payment number). It fails when the database does.
func (s *SQLStore) Processed(ctx context.Context, paymentNo string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, "SELECT 1 FROM "+s.table+" WHERE payment_no = "+s.placeholder(1), sqlMarkKey(paymentNo)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("hipopay: sql store: look up payment %s: %w", paymentNo, err)
	}
	return true, nil
}

// Process runs fn for paymentNo in a database transaction unless the
// payment's mark is already committed, and commits the mark with fn's
// effects; it implements NotificationStore. fn's context carries the
// transaction (TxFromContext).
//
// The outcomes:
//   - ran == false, err == nil: already processed; fn was not called.
//   - ran == true, err == nil: fn returned nil and the mark is committed,
//     with whatever fn did through the transaction.
//   - ran == false, err != nil: fn was not called and nothing was recorded:
//     ctx ended while waiting for the payment's lock, or the database failed
//     (begin, lock, writing the mark).
//   - ran == true, err != nil: fn was called and nothing was recorded: fn's
//     own error, returned as is, or the store's failure to commit, wrapped. The transaction was rolled back, fn's effects made
//     through it with it. When the connection is lost during the commit the
//     outcome is unknown to the database client: the commit may have taken
//     place, and then the next delivery finds the mark and is acknowledged
//     without calling fn. Effects through the transaction are all or nothing
//     either way; effects outside it (an e-mail, a call to another service)
//     may happen again, so they should be idempotent.
//
// If fn panics, the transaction is rolled back, the lock released, and the
// panic passed on unchanged: Process itself never panics. An empty paymentNo
// and a nil fn are refused with an error.
func (s *SQLStore) Process(ctx context.Context, paymentNo string, fn func(ctx context.Context) error) (ran bool, err error) {
	if paymentNo == "" {
		return false, errors.New("hipopay: sql store: empty payment number")
	}
	if fn == nil {
		return false, errors.New("hipopay: sql store: nil function")
	}
	if s.dialect == SQLDialectSQLite {
		return s.processSQLite(ctx, sqlMarkKey(paymentNo), fn)
	}
	return s.processPostgres(ctx, sqlMarkKey(paymentNo), fn)
}

// processPostgres runs fn for the mark key paymentNo (see sqlMarkKey).
func (s *SQLStore) processPostgres(ctx context.Context, paymentNo string, fn func(ctx context.Context) error) (bool, error) {
	unlock, err := s.payments.lock(ctx, paymentNo)
	if err != nil {
		return false, fmt.Errorf("hipopay: sql store: waiting for payment %s: %w", paymentNo, err)
	}
	defer unlock()

	// READ COMMITTED: the insert below, meeting the uncommitted mark of
	// another transaction, waits for it and then writes nothing if it
	// committed, or the mark if it rolled back. Under REPEATABLE READ the
	// first case would be a serialization failure.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return false, fmt.Errorf("hipopay: sql store: payment %s: begin: %w", paymentNo, err)
	}
	// The lock queues duplicates; the mark, written first, decides.
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", sqlLockKey(s.table, paymentNo)); err != nil {
		_ = tx.Rollback()
		return false, fmt.Errorf("hipopay: sql store: payment %s: lock: %w", paymentNo, err)
	}
	return markThenRun(ctx, tx, "INSERT INTO "+s.table+" (payment_no, processed_at) VALUES ($1, now()) ON CONFLICT (payment_no) DO NOTHING", paymentNo, fn)
}

// processSQLite runs fn for the mark key paymentNo (see sqlMarkKey).
func (s *SQLStore) processSQLite(ctx context.Context, paymentNo string, fn func(ctx context.Context) error) (bool, error) {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("hipopay: sql store: waiting for payment %s: %w", paymentNo, ctx.Err())
	}
	defer func() { <-s.writer }()

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("hipopay: sql store: payment %s: begin: %w", paymentNo, err)
	}
	// Writing first takes SQLite's write lock now, waiting on the busy
	// timeout if another connection holds it, rather than failing later
	// when a read lock would have to be upgraded.
	return markThenRun(ctx, tx, "INSERT INTO "+s.table+" (payment_no, processed_at) VALUES (?, CURRENT_TIMESTAMP) ON CONFLICT (payment_no) DO NOTHING", paymentNo, fn)
}

// markThenRun ends tx: it writes paymentNo's mark with insertMark (an
// insert that writes nothing when the mark exists), and when it was new
// runs fn in tx and commits. An existing mark means processed before
// (false, nil). fn's error, a failed commit or fn's panic roll the mark
// back with fn's own writes.
func markThenRun(ctx context.Context, tx *sql.Tx, insertMark, paymentNo string, fn func(ctx context.Context) error) (bool, error) {
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback() // also on fn's panic, which then goes on
		}
	}()
	res, err := tx.ExecContext(ctx, insertMark, paymentNo)
	if err != nil {
		return false, fmt.Errorf("hipopay: sql store: payment %s: write mark: %w", paymentNo, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("hipopay: sql store: payment %s: write mark: %w", paymentNo, err)
	}
	if n == 0 {
		return false, nil // processed before: nothing written, the rollback ends tx
	}
	if err := fn(context.WithValue(ctx, sqlTxKey{}, tx)); err != nil {
		return true, err
	}
	if err := tx.Commit(); err != nil {
		return true, fmt.Errorf("hipopay: sql store: payment %s: commit: %w", paymentNo, err)
	}
	committed = true
	return true, nil
}

func (s *SQLStore) placeholder(n int) string {
	if s.dialect == SQLDialectSQLite {
		return "?"
	}
	return fmt.Sprintf("$%d", n)
}

// sqlTxKey is the context key of the transaction SQLStore hands to fn.
type sqlTxKey struct{}

// TxFromContext returns the database transaction an SQLStore runs the
// merchant's function in, so that the function's own writes (marking the
// order paid) commit together with the store's mark. ok is false when ctx
// does not come from an SQLStore (the in-memory store, a test). The
// transaction is only valid while the function runs; do not commit or roll
// it back.
func TxFromContext(ctx context.Context) (tx *sql.Tx, ok bool) {
	tx, ok = ctx.Value(sqlTxKey{}).(*sql.Tx)
	return tx, ok && tx != nil
}

// sqlMarkKey is how a deduplication key is written in the payment_no
// column: '%' as "%25" and a zero byte (which PostgreSQL's text cannot
// hold) as "%00", every other byte as it is. It is injective, and a key
// with neither, every payment number, is unchanged.
func sqlMarkKey(key string) string {
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

// sqlLockKey is the advisory lock key of name within table: FNV-1a 64 of
// table, a zero byte and name, as the signed bigint PostgreSQL takes.
func sqlLockKey(table, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// checkSQLTableName accepts an identifier, optionally schema-qualified, of
// ASCII letters, digits and underscores.
func checkSQLTableName(name string) error {
	if name == "" {
		return errors.New("empty table name")
	}
	parts := 0
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			c := name[i]
			letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
			digit := '0' <= c && c <= '9'
			if !letter && !digit {
				return fmt.Errorf("table name %q: only letters, digits, underscores and one dot are allowed", name)
			}
			if digit && i == start {
				return fmt.Errorf("table name %q: a part starts with a digit", name)
			}
			continue
		}
		switch n := i - start; {
		case n == 0:
			return fmt.Errorf("table name %q: empty part", name)
		case n > 63:
			return fmt.Errorf("table name %q: a part is longer than 63 bytes", name)
		}
		parts++
		start = i + 1
	}
	if parts > 2 {
		return fmt.Errorf("table name %q: at most schema.table", name)
	}
	return nil
}

// sqlPaymentLocks is a set of per-payment locks that a waiter can leave when
// its context ends. Entries live while someone holds or waits for them.
type sqlPaymentLocks struct {
	mu sync.Mutex
	m  map[string]*sqlPaymentLock
}

type sqlPaymentLock struct {
	held chan struct{} // capacity 1: full while held
	refs int           // holders and waiters
}

// lock waits for paymentNo's lock and returns its release, or ctx's error.
func (l *sqlPaymentLocks) lock(ctx context.Context, paymentNo string) (func(), error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*sqlPaymentLock)
	}
	e := l.m[paymentNo]
	if e == nil {
		e = &sqlPaymentLock{held: make(chan struct{}, 1)}
		l.m[paymentNo] = e
	}
	e.refs++
	l.mu.Unlock()

	select {
	case e.held <- struct{}{}:
		return func() {
			<-e.held
			l.leave(paymentNo, e)
		}, nil
	case <-ctx.Done():
		l.leave(paymentNo, e)
		return nil, ctx.Err()
	}
}

func (l *sqlPaymentLocks) leave(paymentNo string, e *sqlPaymentLock) {
	l.mu.Lock()
	e.refs--
	if e.refs == 0 {
		delete(l.m, paymentNo)
	}
	l.mu.Unlock()
}
