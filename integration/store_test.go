package integration

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hipopay-go/hipopay/sqlstore"
)

// sqlstore.Store.Process on the real databases, without HTTP: several stores
// (each its own pool, as instances have) racing on the same payments, the
// rollback of a failing or panicking function, the per-payment lock, and a
// commit that fails.

// TestPostgresStoreProcessExactlyOnce races 3 stores × 40 payments × 6
// goroutines on Process.
func TestPostgresStoreProcessExactlyOnce(t *testing.T) {
	runStoreExactlyOnce(t, postgresBackend(t))
}

// TestSQLiteStoreProcessExactlyOnce is the same on one SQLite file.
func TestSQLiteStoreProcessExactlyOnce(t *testing.T) {
	runStoreExactlyOnce(t, sqliteBackend(t))
}

func runStoreExactlyOnce(t *testing.T, b *backend) {
	const stores, n, callers = 3, 40, 6
	db := b.open(t)
	createOrders(t, b, db)
	ss := make([]*sqlstore.Store, stores)
	for i := range ss {
		ss[i] = newStore(t, b, b.open(t))
	}
	fn := markOrderPaid(b.dialect, "store", nil)
	var ran, calls atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, stores*n*callers)
	for s := range stores {
		for p := range n {
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r, err := ss[s].Process(context.Background(), paymentNo(p), func(ctx context.Context) error {
						calls.Add(1)
						return fn(ctx, notificationFields(p))
					})
					if err != nil {
						errs <- err
					}
					if r {
						ran.Add(1)
					}
				}()
			}
		}
	}
	began := time.Now()
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.EqualValues(t, n, calls.Load(), "function calls")
	assert.EqualValues(t, n, ran.Load(), "calls that returned ran")
	requireOrdersMatchMarks(t, db, ss[0])
	require.Len(t, ordersPaid(t, db), n)
	t.Logf("%s: %d Process calls (%d stores × %d payments × %d callers) in %v: the function ran once per payment",
		b.name, stores*n*callers, stores, n, callers, time.Since(began).Round(time.Millisecond))
}

// TestPostgresStoreFailingFnRollsBack: fn's error comes back as is, and
// neither its update nor the mark is visible; a panic goes on and leaves
// nothing either; then a successful run commits both.
func TestPostgresStoreFailingFnRollsBack(t *testing.T) {
	runStoreRollback(t, postgresBackend(t))
}

// TestSQLiteStoreFailingFnRollsBack is the same on SQLite.
func TestSQLiteStoreFailingFnRollsBack(t *testing.T) {
	runStoreRollback(t, sqliteBackend(t))
}

func runStoreRollback(t *testing.T, b *backend) {
	db := b.open(t)
	createOrders(t, b, db)
	store := newStore(t, b, db)
	ctx := context.Background()
	p := paymentNo(1)
	boom := errors.New("order service unavailable")
	write := markOrderPaid(b.dialect, "store", nil)

	ran, err := store.Process(ctx, p, func(ctx context.Context) error {
		require.NoError(t, write(ctx, notificationFields(1)))
		return boom
	})
	assert.True(t, ran)
	assert.Same(t, boom, err)
	requireNothingFor(t, db, store, p)

	func() {
		defer func() { assert.Equal(t, "merchant bug", recover(), "the panic goes on unchanged") }()
		_, _ = store.Process(ctx, p, func(ctx context.Context) error {
			require.NoError(t, write(ctx, notificationFields(1)))
			panic("merchant bug")
		})
	}()
	requireNothingFor(t, db, store, p)

	ran, err = store.Process(ctx, p, func(ctx context.Context) error { return write(ctx, notificationFields(1)) })
	require.NoError(t, err)
	assert.True(t, ran)
	processed, err := store.Processed(ctx, p)
	require.NoError(t, err)
	assert.True(t, processed)
	assert.Equal(t, map[string]int{p: 1}, ordersPaid(t, db))

	ran, err = store.Process(ctx, p, func(context.Context) error { t.Error("fn ran for a processed payment"); return nil })
	require.NoError(t, err)
	assert.False(t, ran)
}

// requireNothingFor checks that neither the mark nor the order update of
// payment p is visible.
func requireNothingFor(t *testing.T, db *sql.DB, store *sqlstore.Store, p string) {
	t.Helper()
	processed, err := store.Processed(context.Background(), p)
	require.NoError(t, err)
	require.False(t, processed, "payment %s marked after a failed run", p)
	require.Zero(t, ordersPaid(t, db)[p], "order update of %s visible after a failed run", p)
}

// TestPostgresStoreLocksPerPayment: while one store (one instance) runs fn
// for a payment, another store waits for that payment, until its context
// ends, yet processes other payments meanwhile; once the first commits,
// the second finds the payment processed.
func TestPostgresStoreLocksPerPayment(t *testing.T) {
	b := postgresBackend(t)
	a, other := newStore(t, b, b.open(t)), newStore(t, b, b.open(t))
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := a.Process(context.Background(), paymentNo(1), func(context.Context) error {
			close(inside)
			<-release
			return nil
		})
		done <- err
	}()
	<-inside

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	ran, err := other.Process(ctx, paymentNo(1), func(context.Context) error { t.Error("fn ran while another instance held the payment"); return nil })
	assert.False(t, ran)
	assert.Error(t, err, "waiting for a held payment ends with the context")
	assert.GreaterOrEqual(t, time.Since(began), 250*time.Millisecond)

	ran, err = other.Process(context.Background(), paymentNo(2), func(context.Context) error { return nil })
	require.NoError(t, err, "another payment is not held up")
	assert.True(t, ran)

	close(release)
	require.NoError(t, <-done)
	ran, err = other.Process(context.Background(), paymentNo(1), func(context.Context) error { t.Error("fn ran twice"); return nil })
	require.NoError(t, err)
	assert.False(t, ran)
}

// TestPostgresStoreCommitFailureRecordsNothing makes the commit itself fail
// (a deferred constraint that fn violates): Process reports it, and neither
// fn's update nor the mark is recorded.
func TestPostgresStoreCommitFailureRecordsNothing(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	_, err := db.Exec("CREATE TABLE commit_guard (k INT, CONSTRAINT commit_guard_k UNIQUE (k) DEFERRABLE INITIALLY DEFERRED)")
	require.NoError(t, err)
	store := newStore(t, b, db)
	write := markOrderPaid(b.dialect, "store", nil)
	p := paymentNo(1)

	ran, err := store.Process(context.Background(), p, func(ctx context.Context) error {
		if err := write(ctx, notificationFields(1)); err != nil {
			return err
		}
		tx, _ := sqlstore.TxFromContext(ctx)
		_, err := tx.ExecContext(ctx, "INSERT INTO commit_guard VALUES (1), (1)") // checked at commit
		return err
	})
	assert.True(t, ran)
	require.Error(t, err)
	assert.ErrorContains(t, err, "commit")
	requireNothingFor(t, db, store, p)
}

// TestPostgresCreateTableConcurrently creates the table from 8 stores at
// once, as instances starting together do.
func TestPostgresCreateTableConcurrently(t *testing.T) {
	b := postgresBackend(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		store, err := sqlstore.New(b.open(t))
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := store.CreateTable(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSQLStoreTableOption keeps the marks in a table of the merchant's
// choosing, on both databases.
func TestSQLStoreTableOption(t *testing.T) {
	for _, name := range []string{"postgres", "sqlite"} {
		t.Run(name, func(t *testing.T) {
			var b *backend
			if name == "postgres" {
				b = postgresBackend(t)
			} else {
				b = sqliteBackend(t)
			}
			db := b.open(t)
			store, err := sqlstore.New(db, b.dialect, sqlstore.WithTable("merchant_hipopay_marks"))
			require.NoError(t, err)
			require.NoError(t, store.CreateTable(context.Background()))
			ran, err := store.Process(context.Background(), paymentNo(1), func(context.Context) error { return nil })
			require.NoError(t, err)
			assert.True(t, ran)
			var count int
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM merchant_hipopay_marks").Scan(&count))
			assert.Equal(t, 1, count)
		})
	}
}

// TestPostgresStoreTableSpellingsShareMarks races stores that name one
// table in different ways ("marks", "MARKS", "<schema>.Marks", ...), so
// that their advisory lock keys differ: the mark, written first under its
// primary key, still lets each payment be processed exactly once.
func TestPostgresStoreTableSpellingsShareMarks(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	names := []string{"marks", "Marks", "MARKS", b.schema + ".marks", strings.ToUpper(b.schema) + ".Marks"}
	stores := make([]*sqlstore.Store, len(names))
	for i, name := range names {
		s, err := sqlstore.New(b.open(t), sqlstore.WithTable(name))
		require.NoError(t, err)
		require.NoError(t, s.CreateTable(context.Background()))
		stores[i] = s
	}
	const n, callers = 20, 3
	fn := markOrderPaid(b.dialect, "spelling", nil)
	var calls atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, len(stores)*n*callers)
	for _, s := range stores {
		for p := range n {
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := s.Process(context.Background(), paymentNo(p), func(ctx context.Context) error {
						calls.Add(1)
						time.Sleep(2 * time.Millisecond) // hold the mark while others arrive
						return fn(ctx, notificationFields(p))
					})
					if err != nil {
						errs <- err
					}
				}()
			}
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.EqualValues(t, n, calls.Load(), "function calls")
	requireOrdersMatchMarks(t, db, stores[0])
	require.Len(t, ordersPaid(t, db), n)
}

// TestPostgresStoreNonPaidKeys and TestSQLiteStoreNonPaidKeys store the
// handler's key of a non-PAID notification, which holds a zero byte, and
// keep it apart from the payment's PAID key.
func TestPostgresStoreNonPaidKeys(t *testing.T) { runNonPaidKeys(t, postgresBackend(t)) }

// TestSQLiteStoreNonPaidKeys: see TestPostgresStoreNonPaidKeys.
func TestSQLiteStoreNonPaidKeys(t *testing.T) { runNonPaidKeys(t, sqliteBackend(t)) }

func runNonPaidKeys(t *testing.T, b *backend) {
	store := newStore(t, b, b.open(t))
	ctx := context.Background()
	p := paymentNo(1)
	closed := p + "\x00CLOSED"
	for i, tc := range []struct {
		key  string
		want bool
	}{{closed, true}, {closed, false}, {p, true}, {p, false}, {p + "\x00REFUND", true}} {
		processedBefore, err := store.Processed(ctx, tc.key)
		require.NoError(t, err)
		assert.Equal(t, !tc.want, processedBefore, "step %d: %q", i, tc.key)
		ran, err := store.Process(ctx, tc.key, func(context.Context) error { return nil })
		require.NoError(t, err, "step %d: %q", i, tc.key)
		assert.Equal(t, tc.want, ran, "step %d: %q", i, tc.key)
	}
	assert.Equal(t, []string{p, p + "%00CLOSED", p + "%00REFUND"}, marks(t, b.open(t), store))
}
