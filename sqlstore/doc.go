// Package sqlstore is a [hipopay.NotificationStore] on database/sql:
// exactly-once processing of HipoPay's payment notifications, shared by
// several instances through PostgreSQL, or by one instance through SQLite.
// The package imports no database driver: open the *sql.DB with the driver
// of your choice (pgx's stdlib, lib/pq, modernc.org/sqlite,
// mattn/go-sqlite3) and hand it to [New].
//
//	db, err := sql.Open("pgx", dsn)
//	store, err := sqlstore.New(db) // sqlstore.New(db, sqlstore.SQLite) for SQLite
//	err = store.CreateTable(ctx)   // or run store.Schema() in a migration
//	handler := client.NotificationHandler(func(ctx context.Context, n *hipopay.PaymentNotification) error {
//		tx, _ := sqlstore.TxFromContext(ctx)
//		_, err := tx.ExecContext(ctx, `UPDATE orders SET paid = true WHERE id = $1`, n.OutTradeID)
//		return err // the update and the store's mark commit together, or neither
//	}, hipopay.WithStore(store))
//
// # The table
//
// The store keeps one row per processed key (payment_no, processed_at),
// written in the same transaction as the merchant's own effects. Each
// Process call runs in one transaction, handed to fn through the context
// ([TxFromContext]). When fn does its work through it, the work and the
// mark commit together or not at all: a crash, a failing fn or a failed
// commit leaves neither, and HipoPay's next delivery processes the payment
// again. A table in a temporary schema (pg_temp on PostgreSQL, temp on
// SQLite) lives and dies with one connection, so its marks would vanish on
// a reconnect: [New] refuses it, and on PostgreSQL [Store.CreateTable]
// refuses a name that resolves to a temporary table.
//
// # Keys
//
// The payment_no column holds the handler's deduplication key: the
// payment number for a PAID notification, payment_no + "\x00" + status
// otherwise. A key is written as it is when it is valid UTF-8, at most
// 128 bytes once escaped, and does not start with "sha256:"; the escape
// writes '%' as "%25" and a zero byte (which PostgreSQL's text cannot
// hold) as "%00". Every other key (invalid UTF-8, longer, or starting with
// the prefix) is written "sha256:" + the hex SHA-256 of the key: 71 bytes.
// The mapping is one-to-one: the escape is injective and turns only '%'
// and zero bytes into sequences starting with '%', so an escaped key starts
// with "sha256:" only when the key did (and then it is hashed), and two
// keys hashing alike would be a SHA-256 collision. Every payment number is written unchanged, as in
// earlier versions of the SDK. A key holding '&' is refused before the
// database is touched: HipoPay's values never hold one, and a notification
// whose payment_no does was re-cut from another notification's signed
// string.
//
// # PostgreSQL
//
// The transaction is READ COMMITTED whatever the database's default. In
// one statement (one round trip) it takes pg_advisory_xact_lock(k), where k
// is the FNV-1a 64-bit hash of the table name as written to [WithTable], a
// zero byte and the stored key, as a signed 64-bit integer, and then writes
// the mark first (WITH lock AS (SELECT pg_advisory_xact_lock(k)) INSERT
// ... SELECT ... FROM lock ON CONFLICT DO NOTHING): no row written means
// the key was processed, and Process returns without calling fn. Then it
// runs fn and commits; fn failing rolls the mark back with fn's effects.
//
// Exactly-once does not depend on the advisory lock: the mark's primary
// key does it, since a second transaction inserting the same key waits for
// the first one's row and writes nothing once it is committed (under
// REPEATABLE READ that would be a serialization failure, hence READ
// COMMITTED). So stores that name one table differently ("Marks", "marks",
// "public.marks"), and so get different lock keys, are still correct. The
// lock keeps duplicates queued, and serializes this store with instances
// of earlier versions of the SDK, which checked the mark before running fn.
// Within one Store, calls for the same key also wait for each other in
// process first, so that duplicates do not each hold a connection while
// they wait. A backend that dies mid-way releases its lock and rolls its
// transaction back with it.
//
// CreateTable serializes concurrent CREATE TABLE IF NOT EXISTS (which can
// fail on PostgreSQL with a unique violation in its catalogue) under an
// advisory lock keyed on the table's qualified name folded as PostgreSQL
// folds unquoted identifiers (lower case; an unqualified name qualified by
// current_schema()), so instances spelling one table differently ("marks",
// "MARKS", "public.marks") take the same lock and start together.
//
// # SQLite
//
// The transaction writes the mark first, which takes SQLite's write lock at
// once (as BEGIN IMMEDIATE would), then runs fn; the mark is rolled back
// with fn's effects if fn fails. Calls on one Store are serialized in
// process, so its own goroutines never meet SQLITE_BUSY; other writers of
// the same file (another Store, another process, the merchant's own code)
// wait on SQLite's busy timeout, which the DSN should set (modernc.org/sqlite:
// "_pragma=busy_timeout(5000)"; mattn/go-sqlite3: "_busy_timeout=5000"), or
// fail with SQLITE_BUSY, which Process returns as an error (the handler
// answers 500 and HipoPay retries). SQLite is a file, not a server: one
// instance.
//
// # The merchant's function
//
// fn must do its database work through the transaction, never through the
// *sql.DB itself: on SQLite a write through another connection waits for
// the lock fn's own transaction holds, and on either database a pool with
// few connections can run dry. fn must not commit or roll back the
// transaction. If it does so anyway through the *sql.Tx, the store's own
// commit fails with sql.ErrTxDone and Process returns an error (the handler
// answers 500): after fn's commit the mark is kept, so the next delivery is
// acknowledged without fn; after fn's rollback nothing is kept, so the next
// delivery runs fn again. A COMMIT sent as SQL commits the mark with fn's
// writes. A ROLLBACK sent as SQL is invisible to database/sql: the mark and
// fn's writes are gone, yet the store's commit succeeds and the payment is
// acknowledged unprocessed. Catching it would cost every payment one more
// round trip (about a fifth of the raw floor's time in integration's
// BenchmarkPostgresNotifications), so the store does not: never end the
// transaction with SQL. Effects outside the transaction (an e-mail, a
// call to another service) may happen again after a failure, so they
// should be idempotent.
//
// When the connection is lost during the commit, the outcome is unknown to
// the database client: the commit may have taken place, and then the next
// delivery finds the mark and is acknowledged without calling fn. Effects
// through the transaction are all or nothing either way.
package sqlstore
