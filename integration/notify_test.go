package integration

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/sqlstore"
)

// The notification handler over sqlstore.Store, end to end: signed deliveries over
// HTTP to several instances, the merchant's update through the store's
// transaction, the answers, and what the database holds afterwards.

// The load of the exactly-once tests: every payment is delivered
// duplicates times to every instance (interleaved round-robin), all
// deliveries at once: instances × payments × duplicates in all.
const (
	instances  = 3
	payments   = 50
	duplicates = 8 // per payment and instance
	// fnDelay keeps a payment's lock held a little in the PostgreSQL
	// helper processes, so that duplicates on other instances wait on it.
	fnDelay = 5 * time.Millisecond
)

// TestPostgresMultiInstanceExactlyOnce runs the handler in separate
// processes, each with its own connection pool to one PostgreSQL database,
// and delivers every payment several times to all of them at once: each
// payment's order is marked paid exactly once and every delivery is
// answered 200 "success".
func TestPostgresMultiInstanceExactlyOnce(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	urls := startProcessInstances(t, b, instances, fnDelay)
	runExactlyOnce(t, b, urls, "separate processes")
}

// TestSQLiteMultiInstanceExactlyOnce is the same on SQLite, in one process:
// several handlers, each with its own connection pool and store, sharing
// one database file (SQLite is for a single instance; several handlers on
// one file is the harder case of it).
func TestSQLiteMultiInstanceExactlyOnce(t *testing.T) {
	b := sqliteBackend(t)
	db := b.open(t)
	createOrders(t, b, db)
	urls := startInProcessInstances(t, b, instances, nil)
	runExactlyOnce(t, b, urls, "handlers in one process sharing one file")
}

func runExactlyOnce(t *testing.T, b *backend, urls []string, how string) {
	t.Helper()
	sqlDB := b.open(t)
	store, err := sqlstore.New(sqlDB, b.dialect)
	require.NoError(t, err)

	k := loadKeys(t)
	var ds []delivery
	perPayment := duplicates * len(urls)
	for p := range payments {
		for d := range perPayment {
			ds = append(ds, newDelivery(t, k, urls[d%len(urls)], p, d))
		}
	}
	began := time.Now()
	results := sendAll(t, ds)
	took := time.Since(began)

	failed := 0
	for i, r := range results {
		if r.err != nil || r.status != http.StatusOK || r.body != "success" {
			failed++
			if failed <= 5 {
				t.Errorf("delivery %d (payment %s to %s): status %d, body %q, error %v", i, paymentNo(ds[i].payment), ds[i].url, r.status, r.body, r.err)
			}
		}
	}
	require.Zero(t, failed, "%d of %d deliveries not answered 200 success", failed, len(ds))

	orders := ordersPaid(t, sqlDB)
	require.Len(t, orders, payments, "payments marked paid")
	for p := range payments {
		require.Equal(t, 1, orders[paymentNo(p)], "orders_paid rows for payment %s", paymentNo(p))
	}
	requireOrdersMatchMarks(t, sqlDB, store)
	t.Logf("%s: %d deliveries (%d instances × %d payments × %d duplicates) to %d instances (%s), all at once: all answered 200 success, each payment processed exactly once, in %v (%.0f deliveries/s)",
		b.name, len(ds), len(urls), payments, duplicates, len(urls), how, took.Round(time.Millisecond), float64(len(ds))/took.Seconds())
}

// failPlan makes the merchant's function fail (or panic) after it wrote
// its update, the first times[payment] times it runs for a payment.
type failPlan struct {
	panics bool
	mu     sync.Mutex
	left   map[string]int
	ok     map[string]int // successful runs per payment
}

func newFailPlan(panics bool) *failPlan {
	return &failPlan{panics: panics, left: map[string]int{}, ok: map[string]int{}}
}

func (f *failPlan) failNext(paymentNo string, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.left[paymentNo] += times
}

func (f *failPlan) after(paymentNo string) error {
	f.mu.Lock()
	fail := f.left[paymentNo] > 0
	if fail {
		f.left[paymentNo]--
	} else {
		f.ok[paymentNo]++
	}
	f.mu.Unlock()
	switch {
	case fail && f.panics:
		panic("merchant function panicked for payment " + paymentNo)
	case fail:
		return errors.New("order service unavailable")
	}
	return nil
}

func (f *failPlan) successes() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.ok))
	for k, v := range f.ok {
		out[k] = v
	}
	return out
}

// TestPostgresFailingFnRollsBack: a function that wrote the order update
// and then failed leaves neither the update nor the mark, the delivery is
// answered 500, and a later delivery processes the payment.
func TestPostgresFailingFnRollsBack(t *testing.T) {
	runFailingFn(t, postgresBackend(t), false)
}

// TestPostgresPanickingFnRollsBack is the same with a panicking function.
func TestPostgresPanickingFnRollsBack(t *testing.T) {
	runFailingFn(t, postgresBackend(t), true)
}

// TestSQLiteFailingFnRollsBack is TestPostgresFailingFnRollsBack on SQLite.
func TestSQLiteFailingFnRollsBack(t *testing.T) {
	runFailingFn(t, sqliteBackend(t), false)
}

// TestSQLitePanickingFnRollsBack is TestPostgresPanickingFnRollsBack on
// SQLite.
func TestSQLitePanickingFnRollsBack(t *testing.T) {
	runFailingFn(t, sqliteBackend(t), true)
}

// runFailingFn runs two handler instances (own pools and stores, in this
// process) on b whose function fails once per payment after writing its
// update.
func runFailingFn(t *testing.T, b *backend, panics bool) {
	t.Helper()
	db := b.open(t)
	createOrders(t, b, db)
	store, err := sqlstore.New(db, b.dialect)
	require.NoError(t, err)
	plan := newFailPlan(panics)
	urls := startInProcessInstances(t, b, 2, plan.after)
	k := loadKeys(t)
	ctx := context.Background()
	hc := &http.Client{Timeout: time.Minute}

	// One delivery, failing: 500, and nothing visible.
	p0 := paymentNo(0)
	plan.failNext(p0, 1)
	r := newDelivery(t, k, urls[0], 0, 0).send(ctx, hc)
	require.NoError(t, r.err)
	require.Equal(t, http.StatusInternalServerError, r.status, "body %q", r.body)
	processed, err := store.Processed(ctx, p0)
	require.NoError(t, err)
	require.False(t, processed, "a failed processing left a mark")
	require.Empty(t, ordersPaid(t, db), "a failed processing left the order update")

	// HipoPay delivers it again, to the other instance: processed.
	r = newDelivery(t, k, urls[1], 0, 1).send(ctx, hc)
	require.NoError(t, r.err)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "success", r.body)
	processed, err = store.Processed(ctx, p0)
	require.NoError(t, err)
	require.True(t, processed)
	require.Equal(t, map[string]int{p0: 1}, ordersPaid(t, db))

	// Many payments, each failing its first run, delivered 4 times at
	// once over both instances: per payment exactly one delivery gets 500
	// (the failed run), a waiting duplicate runs the function again and
	// succeeds, the rest are acknowledged.
	const n, dups = 20, 4
	var ds []delivery
	for p := 1; p <= n; p++ {
		plan.failNext(paymentNo(p), 1)
		for d := range dups {
			ds = append(ds, newDelivery(t, k, urls[(p+d)%2], p, d))
		}
	}
	results := sendAll(t, ds)
	failures := map[string]int{}
	for i, r := range results {
		require.NoError(t, r.err)
		p := paymentNo(ds[i].payment)
		switch r.status {
		case http.StatusInternalServerError:
			failures[p]++
		case http.StatusOK:
			assert.Equal(t, "success", r.body)
		default:
			t.Errorf("payment %s: status %d %q", p, r.status, r.body)
		}
	}
	for p := 1; p <= n; p++ {
		assert.Equal(t, 1, failures[paymentNo(p)], "500 answers for payment %s", paymentNo(p))
	}
	requireOrdersMatchMarks(t, db, store)
	orders := ordersPaid(t, db)
	require.Len(t, orders, n+1)

	// Every payment delivered once more: acknowledged, the function not
	// called again.
	ds = ds[:0]
	for p := 0; p <= n; p++ {
		ds = append(ds, newDelivery(t, k, urls[p%2], p, 9))
	}
	for i, r := range sendAll(t, ds) {
		require.NoError(t, r.err)
		require.Equal(t, http.StatusOK, r.status, "payment %s", paymentNo(ds[i].payment))
	}
	for p, count := range plan.successes() {
		assert.Equal(t, 1, count, "successful runs of the function for payment %s", p)
	}
	assert.Len(t, plan.successes(), n+1)
	requireOrdersMatchMarks(t, db, store)
	what := "failed"
	if panics {
		what = "panicked"
	}
	t.Logf("%s: the function %s once for each of %d payments (answered 500, nothing visible), then each was processed exactly once on a later delivery; order updates visible iff marked",
		b.name, what, n+1)
}

// TestPostgresNonPaidThenPaid: a signed notification of another status,
// processed and acknowledged, does not make the payment's PAID
// notification a duplicate; both are deduplicated on their own.
func TestPostgresNonPaidThenPaid(t *testing.T) { runNonPaidThenPaid(t, postgresBackend(t)) }

// TestSQLiteNonPaidThenPaid is TestPostgresNonPaidThenPaid on SQLite.
func TestSQLiteNonPaidThenPaid(t *testing.T) { runNonPaidThenPaid(t, sqliteBackend(t)) }

func runNonPaidThenPaid(t *testing.T, b *backend) {
	store := newStore(t, b, b.open(t))
	k := loadKeys(t)
	var statuses []string
	h := newNotifyHandler(k.pub, store, func(ctx context.Context, fields url.Values) error {
		statuses = append(statuses, fields.Get("status"))
		return nil
	})
	paid := notificationFields(1)
	closed := notificationFields(1)
	closed.Set("status", "CLOSED")
	for i, fields := range []url.Values{closed, closed, paid, paid, closed} {
		ts := strconv.Itoa(1700000123 + i)
		sig, err := k.signer.SignString(hipopay.NotificationStringToSign(fields, ts))
		require.NoError(t, err)
		r := httptest.NewRequest(http.MethodPost, "/hipopay/notify", strings.NewReader(fields.Encode()))
		r.Header.Set("Timestamp", ts)
		r.Header.Set("Signature", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code, "delivery %d: %s", i, w.Body.String())
		require.Equal(t, "success", w.Body.String())
	}
	assert.Equal(t, []string{"CLOSED", "PAID"}, statuses)
	processed, err := store.Processed(context.Background(), paymentNo(1))
	require.NoError(t, err)
	assert.True(t, processed)
}
