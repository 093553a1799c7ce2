package integration

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/sqlstore"
)

// dsnEnv names the PostgreSQL the Postgres tests run against, e.g.
// postgres://user:pass@127.0.0.1:5432/db?sslmode=disable; .ci/postgres.sh
// start prints it.
const dsnEnv = "HIPOPAY_TEST_POSTGRES_DSN"

// poolSize is each instance's connection pool (SetMaxOpenConns).
const poolSize = 8

// backend is a database the scenarios run on: open returns a new,
// independent connection pool to the same database each time, as a new
// instance of the merchant's service would have.
type backend struct {
	name    string
	dialect sqlstore.Dialect
	dsn     string // for helper processes
	schema  string // PostgreSQL: the test's own schema, first on the search path
	open    func(t testing.TB) *sql.DB
}

// postgresBackend returns PostgreSQL in a schema of its own for this test
// (dropped at the end), or skips the test when HIPOPAY_TEST_POSTGRES_DSN is
// unset.
func postgresBackend(t testing.TB) *backend {
	t.Helper()
	base := os.Getenv(dsnEnv)
	if base == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL test (eval \"$(.ci/postgres.sh start)\" starts a throwaway server and sets it)", dsnEnv)
	}
	schema := "hipopay_it_" + randomHex(t, 6)
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = admin.ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err, "create schema on %s", redactDSN(base))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	dsn := withSearchPath(t, base, schema)
	return &backend{
		name:    "postgres",
		dialect: sqlstore.Postgres,
		dsn:     dsn,
		schema:  schema,
		open: func(t testing.TB) *sql.DB {
			t.Helper()
			db, err := openDB("pgx", dsn)
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
}

// sqliteBackend returns a SQLite file in the test's temporary folder, in WAL
// mode with a 5 s busy timeout, as README.md recommends.
func sqliteBackend(t *testing.T) *backend {
	t.Helper()
	dsn := sqliteDSN(filepath.Join(t.TempDir(), "notifications.db"))
	return &backend{
		name:    "sqlite",
		dialect: sqlstore.SQLite,
		dsn:     dsn,
		open: func(t testing.TB) *sql.DB {
			t.Helper()
			db, err := openDB("sqlite", dsn)
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
}

// openDB opens a pool of at most poolSize connections.
func openDB(driver, dsn string) (*sql.DB, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(poolSize)
	return db, nil
}

func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
}

// withSearchPath adds search_path=schema to a PostgreSQL DSN (URL or
// key=value form); pgx sends it as a run-time parameter.
func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		require.NoError(t, err, "parse %s", dsnEnv)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// redactDSN hides the password of a URL DSN.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return "(DSN)"
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// newStore returns a sqlstore.Store on db with its table created.
func newStore(t testing.TB, b *backend, db *sql.DB) *sqlstore.Store {
	t.Helper()
	store, err := sqlstore.New(db, b.dialect)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, store.CreateTable(ctx))
	return store
}

// ordersDDL is the merchant's own table: one row per order marked paid. It
// has no unique constraint on payment_no on purpose, so that a payment
// processed twice shows as two rows rather than as an error.
func ordersDDL(d sqlstore.Dialect) string {
	if d == sqlstore.SQLite {
		return `CREATE TABLE IF NOT EXISTS orders_paid (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_no   TEXT NOT NULL,
    out_trade_id TEXT NOT NULL,
    amount       TEXT NOT NULL,
    instance     TEXT NOT NULL,
    paid_at      TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)`
	}
	return `CREATE TABLE IF NOT EXISTS orders_paid (
    id           BIGSERIAL PRIMARY KEY,
    payment_no   TEXT NOT NULL,
    out_trade_id TEXT NOT NULL,
    amount       TEXT NOT NULL,
    instance     TEXT NOT NULL,
    paid_at      TIMESTAMPTZ NOT NULL DEFAULT now()
)`
}

func createOrders(t testing.TB, b *backend, db *sql.DB) {
	t.Helper()
	_, err := db.Exec(ordersDDL(b.dialect))
	require.NoError(t, err)
}

// markOrderPaid is the merchant's processing: it records the order as paid
// through the store's transaction, so that the row and the store's mark
// commit together. after, when set, runs once the row is written: the tests
// make it fail or panic there.
func markOrderPaid(d sqlstore.Dialect, instance string, after func(paymentNo string) error) func(ctx context.Context, fields url.Values) error {
	insert := "INSERT INTO orders_paid (payment_no, out_trade_id, amount, instance) VALUES ($1, $2, $3, $4)"
	if d == sqlstore.SQLite {
		insert = "INSERT INTO orders_paid (payment_no, out_trade_id, amount, instance) VALUES (?, ?, ?, ?)"
	}
	return func(ctx context.Context, fields url.Values) error {
		tx, ok := sqlstore.TxFromContext(ctx)
		if !ok {
			return fmt.Errorf("no store transaction in the context")
		}
		paymentNo := fields.Get("payment_no")
		if _, err := tx.ExecContext(ctx, insert, paymentNo, fields.Get("out_trade_id"), fields.Get("amount"), instance); err != nil {
			return fmt.Errorf("mark order paid: %w", err)
		}
		if after != nil {
			return after(paymentNo)
		}
		return nil
	}
}

// ordersPaid counts orders_paid rows per payment.
func ordersPaid(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	rows, err := db.Query("SELECT payment_no, COUNT(*) FROM orders_paid GROUP BY payment_no")
	require.NoError(t, err)
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var p string
		var n int
		require.NoError(t, rows.Scan(&p, &n))
		m[p] = n
	}
	require.NoError(t, rows.Err())
	return m
}

// marks lists the payments the store recorded as processed.
func marks(t *testing.T, db *sql.DB, store *sqlstore.Store) []string {
	t.Helper()
	rows, err := db.Query("SELECT payment_no FROM " + store.Table() + " ORDER BY payment_no")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		require.NoError(t, rows.Scan(&p))
		out = append(out, p)
	}
	require.NoError(t, rows.Err())
	return out
}

// requireOrdersMatchMarks checks that the merchant's update is visible iff
// the store's mark is: the payments in orders_paid are exactly the marked
// ones, once each.
func requireOrdersMatchMarks(t *testing.T, db *sql.DB, store *sqlstore.Store) {
	t.Helper()
	orders := ordersPaid(t, db)
	var paid []string
	for p, n := range orders {
		require.Equal(t, 1, n, "payment %s marked paid %d times", p, n)
		paid = append(paid, p)
	}
	sort.Strings(paid)
	marked := marks(t, db, store)
	if len(paid) == 0 && len(marked) == 0 {
		return
	}
	require.Equal(t, marked, paid, "orders_paid and the store's marks differ")
}

// keys are the stand-in HipoPay key pair of testdata/.
type keys struct {
	signer *hipopay.Signer
	pub    *rsa.PublicKey
}

func loadKeys(t testing.TB) keys {
	t.Helper()
	priv, err := hipopay.LoadPrivateKey(filepath.Join("testdata", "fake_hipopay_private.pem"))
	require.NoError(t, err)
	pub, err := hipopay.LoadPublicKey(filepath.Join("testdata", "fake_hipopay_public.pem"))
	require.NoError(t, err)
	signer, err := hipopay.NewSigner(priv)
	require.NoError(t, err)
	return keys{signer: signer, pub: pub}
}

// paymentNo returns the payment number of the i-th payment of a test, in
// HipoPay's 25-digit shape.
func paymentNo(i int) string { return fmt.Sprintf("2023111418%015d", 154204114+i) }

// notificationFields are a PAID notification's fields, as in
// testdata/notification_vectors.json's paid_basic, for payment i.
func notificationFields(i int) url.Values {
	return url.Values{
		"status":          {"PAID"},
		"trade_type":      {"MINIPROGRAM"},
		"exchange_rate":   {"0.881890"},
		"payment_no":      {paymentNo(i)},
		"currency":        {"HKD"},
		"settle_currency": {"HKD"},
		"amount":          {"8.88"},
		"trade_time":      {"2023-11-14 18:15:42"},
		"finish_time":     {"2023-11-14 18:15:59"},
		"pay_currency":    {"CNY"},
		"pay_amount":      {"7.83"},
		"out_trade_id":    {fmt.Sprintf("20190102%010d", i)},
	}
}

// delivery is one signed POST of a notification, as HipoPay sends it: each
// delivery is signed afresh with its own Timestamp.
type delivery struct {
	payment   int
	url       string
	body      string
	timestamp string
	signature string
}

func newDelivery(t *testing.T, k keys, url string, payment, attempt int) delivery {
	t.Helper()
	fields := notificationFields(payment)
	ts := strconv.FormatInt(1700000123+int64(attempt), 10)
	sig, err := k.signer.SignString(hipopay.NotificationStringToSign(fields, ts))
	require.NoError(t, err)
	return delivery{payment: payment, url: url, body: fields.Encode(), timestamp: ts, signature: sig}
}

// result is how a delivery was answered.
type result struct {
	status int
	body   string
	err    error
}

func (d delivery) send(ctx context.Context, hc *http.Client) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, strings.NewReader(d.body))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Timestamp", d.timestamp)
	req.Header.Set("Signature", d.signature)
	resp, err := hc.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return result{status: resp.StatusCode, body: string(b), err: err}
}

// sendAll sends every delivery at once (all goroutines released together)
// and returns the answers in the same order.
func sendAll(t *testing.T, ds []delivery) []result {
	t.Helper()
	hc := &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	}
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	results := make([]result, len(ds))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = ds[i].send(ctx, hc)
		}()
	}
	close(start)
	wg.Wait()
	return results
}

// lockedBuffer collects a helper process's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
