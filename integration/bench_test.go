package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/sqlstore"
)

// BenchmarkPostgresNotifications measures notifications per second through
// the SDK's handler with the SQL store on PostgreSQL, beside the raw floor
// a merchant could write by hand: verify the signature, then in one
// transaction insert the mark (ON CONFLICT DO NOTHING) and run the
// merchant's update. Each operation is a new payment, delivered as an
// *http.Request to the handler (no network between HipoPay and it; the
// database over loopback TCP). "serial" delivers one at a time (the
// latency of one notification); "parallel" keeps 8 in flight on a pool of
// poolSize connections; "interleaved" alternates the two paths one
// notification at a time and reports their ratio (sdk/floor).
//
//	eval "$(.ci/postgres.sh start)"
//	cd integration && go test -run '^$' -bench BenchmarkPostgresNotifications -benchtime 2000x -count 3 .
func BenchmarkPostgresNotifications(b *testing.B) {
	be := postgresBackend(b)
	k := loadKeys(b)
	db := be.open(b)
	_, err := db.Exec(`CREATE TABLE bench_orders (
    out_trade_id TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    payment_no   TEXT
)`)
	require.NoError(b, err)
	store := newStore(b, be, db)
	_, err = db.Exec(strings.Replace(store.Schema(), store.Table(), "bench_floor_marks", 1))
	require.NoError(b, err)

	const update = "UPDATE bench_orders SET status = 'PAID', payment_no = $1 WHERE out_trade_id = $2 AND status = 'PENDING'"
	sdk := hipopay.NewNotificationHandler(k.pub, func(ctx context.Context, n *hipopay.PaymentNotification) error {
		tx, ok := sqlstore.TxFromContext(ctx)
		if !ok {
			return errors.New("no transaction")
		}
		return updateOne(ctx, tx, update, n.PaymentNo, n.OutTradeID)
	}, hipopay.WithStore(store))
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := floorProcess(r, k, db, update); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "success")
	})

	next := 0 // payments used so far: each run gets fresh ones
	for _, mode := range []struct {
		name     string
		inFlight int
	}{{"serial", 1}, {"parallel", 8}} {
		for _, path := range []struct {
			name string
			h    http.Handler
		}{{"sdk", sdk}, {"floor", floor}} {
			b.Run(mode.name+"/"+path.name, func(b *testing.B) {
				first := next
				next += b.N
				ds := benchDeliveries(b, k, db, first, b.N)
				b.ResetTimer()
				runDeliveries(b, path.h, ds, mode.inFlight)
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
				requirePaid(b, db, first, b.N)
			})
		}
	}

	// The two paths one notification after the other, in alternating
	// order, so that both see the same load from anything else on the
	// machine: the ratio is the figure to compare.
	b.Run("interleaved", func(b *testing.B) {
		first := next
		next += 2 * b.N
		ds := benchDeliveries(b, k, db, first, 2*b.N)
		var took [2]time.Duration // sdk, floor
		b.ResetTimer()
		for i := range b.N {
			for j := range 2 {
				which := (i + j) % 2
				h := []http.Handler{sdk, floor}[which]
				began := time.Now()
				runDeliveries(b, h, ds[2*i+which:2*i+which+1], 1)
				took[which] += time.Since(began)
			}
		}
		b.StopTimer()
		sdkNs, floorNs := float64(took[0].Nanoseconds())/float64(b.N), float64(took[1].Nanoseconds())/float64(b.N)
		b.ReportMetric(sdkNs, "sdk-ns/op")
		b.ReportMetric(floorNs, "floor-ns/op")
		b.ReportMetric(1e9/sdkNs, "sdk-notifications/s")
		b.ReportMetric(1e9/floorNs, "floor-notifications/s")
		b.ReportMetric(sdkNs/floorNs, "sdk/floor")
		requirePaid(b, db, first, 2*b.N)
	})
}

// requirePaid checks that the n orders from first were marked paid.
func requirePaid(b *testing.B, db *sql.DB, first, n int) {
	b.Helper()
	var paid int
	require.NoError(b, db.QueryRow("SELECT COUNT(*) FROM bench_orders WHERE status = 'PAID' AND out_trade_id >= $1 AND out_trade_id < $2",
		benchOrder(first), benchOrder(first+n)).Scan(&paid))
	require.Equal(b, n, paid, "orders marked paid")
}

// updateOne runs the merchant's update, which must touch one order.
func updateOne(ctx context.Context, tx *sql.Tx, update, paymentNo, outTradeID string) error {
	res, err := tx.ExecContext(ctx, update, paymentNo, outTradeID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("order %s: %d rows updated (%v)", outTradeID, n, err)
	}
	return nil
}

// floorProcess is the raw floor: read and verify, then mark and update in
// one transaction.
func floorProcess(r *http.Request, k keys, db *sql.DB, update string) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	fields, err := url.ParseQuery(string(body))
	if err != nil {
		return err
	}
	if err := hipopay.VerifyNotificationSignature(k.pub, fields, r.Header.Get("Timestamp"), r.Header.Get("Signature")); err != nil {
		return err
	}
	ctx := r.Context()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	res, err := tx.ExecContext(ctx, "INSERT INTO bench_floor_marks (payment_no, processed_at) VALUES ($1, now()) ON CONFLICT (payment_no) DO NOTHING", fields.Get("payment_no"))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // processed before
	}
	if err := updateOne(ctx, tx, update, fields.Get("payment_no"), fields.Get("out_trade_id")); err != nil {
		return err
	}
	return tx.Commit()
}

// benchOrder is the out_trade_id of benchmark payment i; zero-padded so
// that ranges compare as text.
func benchOrder(i int) string { return fmt.Sprintf("B%012d", i) }

// benchDeliveries inserts orders first..first+n-1 as PENDING and signs a
// PAID notification for each (signing spread over the CPUs).
func benchDeliveries(b *testing.B, k keys, db *sql.DB, first, n int) []delivery {
	b.Helper()
	_, err := db.Exec("INSERT INTO bench_orders (out_trade_id, status) SELECT 'B' || lpad(g::text, 12, '0'), 'PENDING' FROM generate_series($1::int, $2::int) g", first, first+n-1)
	require.NoError(b, err)
	ds := make([]delivery, n)
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fields := notificationFields(first + i)
				fields.Set("payment_no", "BP"+strconv.Itoa(first+i))
				fields.Set("out_trade_id", benchOrder(first+i))
				ts := strconv.Itoa(1700000123 + i)
				sig, err := k.signer.SignString(hipopay.NotificationStringToSign(fields, ts))
				if err != nil {
					panic(err) // the stand-in key signs
				}
				ds[i] = delivery{payment: first + i, body: fields.Encode(), timestamp: ts, signature: sig}
			}
		}()
	}
	wg.Wait()
	return ds
}

// runDeliveries serves every delivery through h, inFlight at a time, and
// fails the benchmark on any answer but 200 success.
func runDeliveries(b *testing.B, h http.Handler, ds []delivery, inFlight int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	work := make(chan int, len(ds))
	for i := range ds {
		work <- i
	}
	close(work)
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				d := ds[i]
				r := httptest.NewRequest(http.MethodPost, "/hipopay/notify", strings.NewReader(d.body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("Timestamp", d.timestamp)
				r.Header.Set("Signature", d.signature)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK || w.Body.String() != "success" {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("payment %d: %d %q", d.payment, w.Code, w.Body.String())
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}
