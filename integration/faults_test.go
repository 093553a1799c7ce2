package integration

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hipopay-go/hipopay/sqlstore"
)

// The exactly-once core under faults on PostgreSQL: a backend killed in
// the middle of the merchant's function, a COMMIT or its reply lost, a
// pool of one connection, statement and idle timeouts, a function that
// ends the transaction itself, a foreign session holding the advisory
// lock. In each, a payment is processed exactly once in the end, and a
// failed attempt leaves nothing behind.

// counted wraps markOrderPaid, counting the function's runs.
type counted struct {
	calls atomic.Int64
	write func(ctx context.Context, fields url.Values) error
}

func newCounted(b *backend) *counted {
	return &counted{write: markOrderPaid(b.dialect, "fault", nil)}
}

// requireProcessedOnce checks that payment p is marked and its order row
// written exactly once.
func requireProcessedOnce(t *testing.T, db *sql.DB, store *sqlstore.Store, p string) {
	t.Helper()
	processed, err := store.Processed(context.Background(), p)
	require.NoError(t, err)
	require.True(t, processed, "payment %s not marked", p)
	require.Equal(t, 1, ordersPaid(t, db)[p], "order rows of payment %s", p)
}

// TestPostgresFaultBackendKilledMidFn: the backend serving a delivery is
// terminated (pg_terminate_backend) while the merchant's function runs,
// with a duplicate waiting on another instance. The killed delivery is
// answered 500 and leaves nothing; the waiting duplicate, or the next
// delivery, processes the payment exactly once; the pools recover.
func TestPostgresFaultBackendKilledMidFn(t *testing.T) {
	b := postgresBackend(t)
	admin := b.open(t)
	createOrders(t, b, admin)
	k := loadKeys(t)

	inFn := make(chan int, 1) // backend pid of the first run
	proceed := make(chan struct{})
	var runs atomic.Int64
	fn := func(ctx context.Context, fields url.Values) error {
		tx, _ := sqlstore.TxFromContext(ctx)
		if runs.Add(1) == 1 {
			var pid int
			if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				return err
			}
			if err := markOrderPaid(b.dialect, "killed", nil)(ctx, fields); err != nil {
				return err
			}
			inFn <- pid
			<-proceed
			// The backend is gone: this write fails, and so would the
			// commit.
			_, err := tx.ExecContext(ctx, "SELECT 1")
			return err
		}
		return markOrderPaid(b.dialect, "survivor", nil)(ctx, fields)
	}
	var urls []string
	var stores []*sqlstore.Store
	for range 2 {
		db := b.open(t)
		store := newStore(t, b, db)
		stores = append(stores, store)
		srv := httptestServer(t, newNotifyHandler(k.pub, store, fn))
		urls = append(urls, srv+"/hipopay/notify")
	}
	hc := &http.Client{Timeout: time.Minute}
	first := make(chan result, 1)
	go func() { first <- newDelivery(t, k, urls[0], 1, 0).send(context.Background(), hc) }()
	pid := <-inFn
	second := make(chan result, 1)
	go func() { second <- newDelivery(t, k, urls[1], 1, 1).send(context.Background(), hc) }()
	time.Sleep(100 * time.Millisecond) // the duplicate waits on the lock
	var ok bool
	require.NoError(t, admin.QueryRow("SELECT pg_terminate_backend($1)", pid).Scan(&ok))
	require.True(t, ok)
	close(proceed)

	r1, r2 := <-first, <-second
	require.NoError(t, r1.err)
	require.NoError(t, r2.err)
	assert.Equal(t, http.StatusInternalServerError, r1.status, "the killed delivery: %q", r1.body)
	assert.Equal(t, http.StatusOK, r2.status, "the waiting duplicate: %q", r2.body)
	requireProcessedOnce(t, admin, stores[0], paymentNo(1))

	// HipoPay re-sends the failed delivery: acknowledged, nothing runs,
	// and the first instance's pool works again.
	r := newDelivery(t, k, urls[0], 1, 2).send(context.Background(), hc)
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status)
	assert.EqualValues(t, 2, runs.Load(), "function runs: the killed one and the survivor")
	r = newDelivery(t, k, urls[0], 2, 0).send(context.Background(), hc)
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status, "another payment on the instance whose backend was killed")
	requireProcessedOnce(t, admin, stores[0], paymentNo(2))
}

// TestPostgresFaultBackendKilledAlone: the same without a waiting
// duplicate: the next delivery processes the payment.
func TestPostgresFaultBackendKilledAlone(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	store := newStore(t, b, b.open(t))
	admin := b.open(t)
	write := markOrderPaid(b.dialect, "fault", nil)
	p := paymentNo(1)

	ran, err := store.Process(context.Background(), p, func(ctx context.Context) error {
		tx, _ := sqlstore.TxFromContext(ctx)
		if err := write(ctx, notificationFields(1)); err != nil {
			return err
		}
		var pid int
		if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return err
		}
		_, err := admin.Exec("SELECT pg_terminate_backend($1)", pid)
		return err // fn says fine: the commit finds the backend gone
	})
	assert.True(t, ran)
	require.Error(t, err, "the commit on a terminated backend fails")
	requireNothingFor(t, db, store, p)

	ran, err = store.Process(context.Background(), p, func(ctx context.Context) error { return write(ctx, notificationFields(1)) })
	require.NoError(t, err)
	assert.True(t, ran)
	requireProcessedOnce(t, db, store, p)
}

// faultProxy is a TCP proxy to PostgreSQL that can lose the next COMMIT,
// or the reply to it, by closing the connection.
type faultProxy struct {
	ln     net.Listener
	target string
	mode   atomic.Int32 // proxyPass, proxyLoseCommit, proxyLoseCommitReply
	fired  atomic.Int32
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn // closed when the test ends
}

const (
	proxyPass int32 = iota
	proxyLoseCommit
	proxyLoseCommitReply
)

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &faultProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *faultProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.pipe(c)
		}()
	}
}

func (p *faultProxy) pipe(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	p.mu.Lock()
	p.conns = append(p.conns, server)
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(client, server)
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if bytes.Contains(bytes.ToLower(chunk), []byte("commit\x00")) {
				switch p.mode.Load() {
				case proxyLoseCommit:
					if p.mode.CompareAndSwap(proxyLoseCommit, proxyPass) {
						p.fired.Add(1)
						return // the server sees the client vanish: it rolls back
					}
				case proxyLoseCommitReply:
					if p.mode.CompareAndSwap(proxyLoseCommitReply, proxyPass) {
						p.fired.Add(1)
						client.Close() // nothing more reaches the client
						_, _ = server.Write(chunk)
						time.Sleep(200 * time.Millisecond) // the server commits
						return
					}
				}
			}
			if _, werr := server.Write(chunk); werr != nil {
				return
			}
		}
		if err != nil {
			server.Close() // ends the copy towards the client
			<-done
			return
		}
	}
}

// TestPostgresFaultLostCommit: the COMMIT, or the reply to it, is lost
// with the connection. Process reports an error either way; when the
// COMMIT never arrived nothing was recorded and the next delivery runs the
// function; when only the reply was lost the commit took place, and the
// next delivery finds the mark and does not run it. Once in both cases.
func TestPostgresFaultLostCommit(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	newStore(t, b, db)
	u, err := url.Parse(b.dsn)
	require.NoError(t, err, "the fault proxy needs a URL DSN")
	proxy := newFaultProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	proxied := u.String()
	viaProxy, err := openDB("pgx", proxied)
	require.NoError(t, err)
	defer viaProxy.Close()
	store, err := sqlstore.New(viaProxy)
	require.NoError(t, err)
	c := newCounted(b)
	fn := func(i int) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			c.calls.Add(1)
			return c.write(ctx, notificationFields(i))
		}
	}

	for i, mode := range []int32{proxyLoseCommit, proxyLoseCommitReply} {
		p := paymentNo(i)
		c.calls.Store(0)
		proxy.mode.Store(mode)
		ran, err := store.Process(context.Background(), p, fn(i))
		assert.True(t, ran, "mode %d", mode)
		require.Error(t, err, "mode %d: the lost commit is reported", mode)
		assert.ErrorContains(t, err, "commit")
		assert.EqualValues(t, i+1, proxy.fired.Load(), "the proxy lost the commit")

		processed, err := store.Processed(context.Background(), p)
		require.NoError(t, err)
		assert.Equal(t, mode == proxyLoseCommitReply, processed, "mode %d: committed iff only the reply was lost", mode)

		// HipoPay delivers again.
		ran, err = store.Process(context.Background(), p, fn(i))
		require.NoError(t, err)
		assert.Equal(t, mode == proxyLoseCommit, ran, "mode %d: the function runs again iff nothing was committed", mode)
		requireProcessedOnce(t, db, store, p)
	}
}

// TestPostgresFaultPoolOfOne: one connection in the pool, many payments
// and duplicates delivered at once through the handler: every delivery is
// answered success and every payment processed once; duplicates wait in
// process without holding the connection.
func TestPostgresFaultPoolOfOne(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	one := b.open(t)
	one.SetMaxOpenConns(1)
	store := newStore(t, b, one)
	k := loadKeys(t)
	srv := httptestServer(t, newNotifyHandler(k.pub, store, markOrderPaid(b.dialect, "one", nil)))
	const n, dups = 30, 5
	var ds []delivery
	for p := range n {
		for d := range dups {
			ds = append(ds, newDelivery(t, k, srv+"/hipopay/notify", p, d))
		}
	}
	for i, r := range sendAll(t, ds) {
		require.NoError(t, r.err)
		require.Equal(t, http.StatusOK, r.status, "delivery %d: %q", i, r.body)
	}
	require.Len(t, ordersPaid(t, db), n)
	requireOrdersMatchMarks(t, db, store)
	assert.Equal(t, 1, one.Stats().MaxOpenConnections)
}

// TestPostgresFaultPoolExhaustedByFn: a function that, against the rules,
// writes through the *sql.DB while the store's transaction holds the only
// connection waits for its context to end; the delivery fails and leaves
// nothing, and a well-behaved delivery later processes the payment once.
func TestPostgresFaultPoolExhaustedByFn(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	one := b.open(t)
	one.SetMaxOpenConns(1)
	store := newStore(t, b, one)
	p := paymentNo(1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	ran, err := store.Process(ctx, p, func(ctx context.Context) error {
		_, err := one.ExecContext(ctx, "INSERT INTO orders_paid (payment_no, out_trade_id, amount, instance) VALUES ($1, 'x', '1', 'db')", p)
		return err
	})
	assert.True(t, ran)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	requireNothingFor(t, db, store, p)

	write := markOrderPaid(b.dialect, "fault", nil)
	ran, err = store.Process(context.Background(), p, func(ctx context.Context) error { return write(ctx, notificationFields(1)) })
	require.NoError(t, err)
	assert.True(t, ran)
	requireProcessedOnce(t, db, store, p)
}

// withParam adds a run-time parameter to a URL DSN.
func withParam(t *testing.T, dsn, name, value string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestPostgresFaultStatementTimeout: with statement_timeout, a function
// whose statement runs too long fails and leaves nothing; a duplicate
// whose wait for the advisory lock outlasts the timeout fails without
// running the function; once the first run commits, deliveries are
// acknowledged. Exactly once.
func TestPostgresFaultStatementTimeout(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	timed, err := openDB("pgx", withParam(t, b.dsn, "statement_timeout", "150"))
	require.NoError(t, err)
	defer timed.Close()
	store := newStore(t, b, timed)
	other := newStore(t, b, b.open(t))
	write := markOrderPaid(b.dialect, "fault", nil)
	p := paymentNo(1)

	ran, err := store.Process(context.Background(), p, func(ctx context.Context) error {
		if err := write(ctx, notificationFields(1)); err != nil {
			return err
		}
		tx, _ := sqlstore.TxFromContext(ctx)
		_, err := tx.ExecContext(ctx, "SELECT pg_sleep(1)")
		return err
	})
	assert.True(t, ran)
	require.ErrorContains(t, err, "statement timeout")
	requireNothingFor(t, db, store, p)

	// Another instance holds the payment for longer than the timeout.
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := other.Process(context.Background(), p, func(ctx context.Context) error {
			close(inside)
			<-release
			return write(ctx, notificationFields(1))
		})
		done <- err
	}()
	<-inside
	ran, err = store.Process(context.Background(), p, func(context.Context) error { t.Error("fn ran while the payment was held"); return nil })
	assert.False(t, ran)
	require.ErrorContains(t, err, "statement timeout", "the wait for the lock timed out")
	close(release)
	require.NoError(t, <-done)
	ran, err = store.Process(context.Background(), p, func(context.Context) error { t.Error("fn ran twice"); return nil })
	require.NoError(t, err)
	assert.False(t, ran)
	requireProcessedOnce(t, db, store, p)
}

// TestPostgresFaultIdleInTransactionTimeout: a function that dawdles
// longer than idle_in_transaction_session_timeout loses its session; the
// commit fails, nothing is kept, and the next delivery processes the
// payment once.
func TestPostgresFaultIdleInTransactionTimeout(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	idle, err := openDB("pgx", withParam(t, b.dsn, "idle_in_transaction_session_timeout", "150"))
	require.NoError(t, err)
	defer idle.Close()
	store := newStore(t, b, idle)
	write := markOrderPaid(b.dialect, "fault", nil)
	p := paymentNo(1)

	ran, err := store.Process(context.Background(), p, func(ctx context.Context) error {
		if err := write(ctx, notificationFields(1)); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond) // a slow call to another service
		return nil
	})
	assert.True(t, ran)
	require.Error(t, err, "the session is gone: nothing can be committed")
	requireNothingFor(t, db, store, p)

	ran, err = store.Process(context.Background(), p, func(ctx context.Context) error { return write(ctx, notificationFields(1)) })
	require.NoError(t, err)
	assert.True(t, ran)
	requireProcessedOnce(t, db, store, p)
}

// TestPostgresFaultFnEndsTransaction: a function that, against the rules,
// commits or rolls back the store's transaction itself. Through *sql.Tx,
// the store's own commit fails and is reported (the handler answers 500);
// after a commit the mark is kept and the next delivery is acknowledged,
// after a rollback nothing is kept and the next delivery runs the
// function. A COMMIT in SQL commits the mark with the function's writes
// (the store's commit finds nothing left to do). Exactly once in every
// case. (A ROLLBACK in SQL is invisible to database/sql: see the sqlstore
// package doc.)
func TestPostgresFaultFnEndsTransaction(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	store := newStore(t, b, b.open(t))
	write := markOrderPaid(b.dialect, "fault", nil)
	for i, tc := range []struct {
		name      string
		end       func(ctx context.Context, tx *sql.Tx) error
		reported  bool // Process returns an error
		committed bool // the first run's writes and mark were committed
	}{
		{"tx.Commit", func(_ context.Context, tx *sql.Tx) error { return tx.Commit() }, true, true},
		{"tx.Rollback", func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() }, true, false},
		{"SQL COMMIT", func(ctx context.Context, tx *sql.Tx) error { _, err := tx.ExecContext(ctx, "COMMIT"); return err }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := paymentNo(i)
			calls := 0
			ran, err := store.Process(context.Background(), p, func(ctx context.Context) error {
				calls++
				if err := write(ctx, notificationFields(i)); err != nil {
					return err
				}
				tx, _ := sqlstore.TxFromContext(ctx)
				return tc.end(ctx, tx)
			})
			assert.True(t, ran)
			if tc.reported {
				require.ErrorIs(t, err, sql.ErrTxDone, "the store's commit fails")
			} else {
				require.NoError(t, err)
			}
			processed, err := store.Processed(context.Background(), p)
			require.NoError(t, err)
			assert.Equal(t, tc.committed, processed)

			// HipoPay delivers again.
			ran, err = store.Process(context.Background(), p, func(ctx context.Context) error {
				calls++
				return write(ctx, notificationFields(i))
			})
			require.NoError(t, err)
			assert.Equal(t, !tc.committed, ran)
			want := 2
			if tc.committed {
				want = 1
			}
			assert.Equal(t, want, calls, "function runs")
			requireProcessedOnce(t, db, store, p)
		})
	}
}

// TestPostgresFaultForeignAdvisoryLock: another application's session
// holds the advisory lock of a payment (a colliding key, or on purpose).
// That payment waits until its context ends, without running the function
// or leaving anything; other payments go on; once the lock is released the
// payment is processed once.
func TestPostgresFaultForeignAdvisoryLock(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	store := newStore(t, b, b.open(t))
	write := markOrderPaid(b.dialect, "fault", nil)
	p := paymentNo(1)

	foreign, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer foreign.Close()
	key := advisoryKey(store.Table(), p)
	_, err = foreign.ExecContext(context.Background(), "SELECT pg_advisory_lock($1)", key)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	ran, err := store.Process(ctx, p, func(context.Context) error { t.Error("fn ran under a foreign lock"); return nil })
	assert.False(t, ran)
	require.Error(t, err)
	requireNothingFor(t, db, store, p)

	ran, err = store.Process(context.Background(), paymentNo(2), func(ctx context.Context) error { return write(ctx, notificationFields(2)) })
	require.NoError(t, err, "another payment is not held up")
	assert.True(t, ran)

	_, err = foreign.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", key)
	require.NoError(t, err)
	ran, err = store.Process(context.Background(), p, func(ctx context.Context) error { return write(ctx, notificationFields(1)) })
	require.NoError(t, err)
	assert.True(t, ran)
	requireProcessedOnce(t, db, store, p)
}

// advisoryKey is the store's advisory lock key of a payment number
// (sqlstore's package doc): FNV-1a 64 of the table, a zero byte and the
// key, as a signed bigint.
func advisoryKey(table, key string) int64 {
	h := uint64(14695981039346656037)
	for _, c := range []byte(table + "\x00" + key) {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return int64(h)
}

// httptestServer serves h on a loopback port until the test ends and
// returns its base URL.
func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}
