package main

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/hipopay-go/hipopay/sqlstore"
)

const testKey = "../../testdata/fake_hipopay_public.pem"

// testdata returns the absolute path of a file of integration/testdata,
// whatever the working folder (some tests change it).
func testdata(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", name)
}

// noEnv is an empty environment, whatever the test's own.
func noEnv(string) string { return "" }

// startServer runs the command with args until the test ends and returns
// its notify URL.
func startServer(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-hipopay-key", testdata("fake_hipopay_public.pem")}, args...), noEnv, logger, func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "graceful shutdown")
		case <-time.After(40 * time.Second):
			t.Error("the server did not stop")
		}
	})
	select {
	case a := <-addr:
		return "http://" + a + "/hipopay/notify"
	case err := <-done:
		t.Fatalf("the server stopped at start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start")
	}
	return ""
}

// deliver POSTs a notification for the order, signed with the stand-in
// HipoPay key, and returns the status and body.
func deliver(t *testing.T, notifyURL, orderID string, attempt int) (int, string) {
	t.Helper()
	return deliverStatus(t, notifyURL, orderID, "PAID", attempt)
}

// deliverStatus is deliver for a notification of the given status.
func deliverStatus(t *testing.T, notifyURL, orderID, status string, attempt int) (int, string) {
	t.Helper()
	key, err := hipopay.LoadPrivateKey(testdata("fake_hipopay_private.pem"))
	require.NoError(t, err)
	signer, err := hipopay.NewSigner(key)
	require.NoError(t, err)
	fields := url.Values{
		"status": {status}, "trade_type": {"MINIPROGRAM"}, "exchange_rate": {"0.881890"},
		"payment_no": {"P" + orderID}, "currency": {"HKD"}, "settle_currency": {"HKD"},
		"amount": {"8.88"}, "trade_time": {"2023-11-14 18:15:42"}, "finish_time": {"2023-11-14 18:15:59"},
		"pay_currency": {"CNY"}, "pay_amount": {"7.83"}, "out_trade_id": {orderID},
	}
	ts := fmt.Sprint(1700000123 + attempt)
	sig, err := signer.SignString(hipopay.NotificationStringToSign(fields, ts))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, notifyURL, strings.NewReader(fields.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Timestamp", ts)
	req.Header.Set("Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestNotifyServerSQLite(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "notifications.db")
	u := startServer(t, "-db", "file:"+dbPath)
	for attempt := range 3 {
		status, body := deliver(t, u, "ORDER-1", attempt)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "success", body)
	}
	health, err := http.Get(strings.TrimSuffix(u, "/hipopay/notify") + "/healthz")
	require.NoError(t, err)
	health.Body.Close()
	assert.Equal(t, http.StatusOK, health.StatusCode)

	db, err := sql.Open("sqlite", "file:"+dbPath)
	require.NoError(t, err)
	defer db.Close()
	var status, paymentNo string
	var paidCount int
	require.NoError(t, db.QueryRow("SELECT status, payment_no, paid_count FROM merchant_orders WHERE out_trade_id = 'ORDER-1'").Scan(&status, &paymentNo, &paidCount))
	assert.Equal(t, "PAID", status)
	assert.Equal(t, "PORDER-1", paymentNo)
	assert.Equal(t, 1, paidCount, "three deliveries, processed once")
}

// TestNotifyServerMarksPaidNotificationsOnly: a notification of another
// status is acknowledged without marking the order paid, and does not stop
// the payment's PAID notification from being processed afterwards.
func TestNotifyServerMarksPaidNotificationsOnly(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "notifications.db")
	u := startServer(t, "-db", "file:"+dbPath)
	db, err := sql.Open("sqlite", "file:"+dbPath)
	require.NoError(t, err)
	defer db.Close()
	count := func() int {
		var n int
		require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM merchant_orders WHERE out_trade_id = 'ORDER-2'").Scan(&n))
		return n
	}

	status, body := deliverStatus(t, u, "ORDER-2", "CLOSED", 0)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "success", body)
	assert.Zero(t, count(), "a CLOSED notification marks nothing")

	status, body = deliver(t, u, "ORDER-2", 1)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "success", body)
	assert.Equal(t, 1, count(), "the PAID notification is processed")
}

// TestNotifyServerPostgresTwoInstances runs two servers on one PostgreSQL
// database and delivers the same notifications to both at once.
func TestNotifyServerPostgresTwoInstances(t *testing.T) {
	base := os.Getenv("HIPOPAY_TEST_POSTGRES_DSN")
	if base == "" {
		t.Skip("HIPOPAY_TEST_POSTGRES_DSN is not set: skipping the PostgreSQL test (eval \"$(.ci/postgres.sh start)\" starts a throwaway server and sets it)")
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer admin.Close()
	schema := fmt.Sprintf("notify_server_%d", time.Now().UnixNano())
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err)
	defer func() { _, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE") }()
	pu, err := url.Parse(base)
	require.NoError(t, err)
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()

	urls := []string{startServer(t, "-db", pu.String()), startServer(t, "-db", pu.String())}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body := deliver(t, urls[i%2], fmt.Sprintf("ORDER-%d", i%10), i)
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, "success", body)
		}()
	}
	wg.Wait()
	var orders, marks, doubled int
	require.NoError(t, admin.QueryRow("SELECT COUNT(*) FROM "+schema+".merchant_orders WHERE status = 'PAID'").Scan(&orders))
	require.NoError(t, admin.QueryRow("SELECT COUNT(*) FROM "+schema+".merchant_orders WHERE paid_count <> 1").Scan(&doubled))
	assert.Zero(t, doubled, "orders marked paid more than once")
	require.NoError(t, admin.QueryRow("SELECT COUNT(*) FROM "+schema+"."+sqlstore.DefaultTable).Scan(&marks))
	assert.Equal(t, 10, orders)
	assert.Equal(t, 10, marks)
}

func TestNotifyServerRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{},                                 // no key at all
		{"-merchant-no", "1"},              // no merchant key
		{"-hipopay-key", testKey, "extra"}, // stray argument
	} {
		err := run(context.Background(), args, noEnv, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		assert.Error(t, err, "%q", args)
	}
	err := run(context.Background(), []string{"-hipopay-key", testKey, "-table", "bad;name", "-db", "file:" + filepath.Join(t.TempDir(), "x.db")}, noEnv, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	assert.ErrorContains(t, err, "WithTable")
}

// TestNotifyServerThroughClient wires the handler through a Client (the
// merchant's number, key and HipoPay's base URL from the environment)
// against the fake HipoPay: the fake pays an order and delivers its
// notification, which the server confirms with the fake (GET payment)
// before marking the order paid.
func TestNotifyServerThroughClient(t *testing.T) {
	fake := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(20 * time.Millisecond))
	t.Cleanup(fake.Close)
	keyDER, err := x509.MarshalPKCS8PrivateKey(fake.MerchantKey)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(fake.PublicKey())
	require.NoError(t, err)
	dir := t.TempDir()
	merchantKey := filepath.Join(dir, "merchant.pem")
	require.NoError(t, os.WriteFile(merchantKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	hipopayKey := filepath.Join(dir, "hipopay_public.pem")
	require.NoError(t, os.WriteFile(hipopayKey, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600))
	env := map[string]string{
		"HIPOPAY_MERCHANT_NO": fake.MerchantNo,
		"HIPOPAY_PRIVATE_KEY": merchantKey,
		"HIPOPAY_SANDBOX":     "1",
		"HIPOPAY_BASE_URL":    fake.URL,
	}
	c, err := parseFlags([]string{"-hipopay-key", hipopayKey}, func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, fake.MerchantNo, c.merchantNo)
	assert.True(t, c.sandbox)
	assert.Equal(t, fake.URL, c.baseURL)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	done := make(chan error, 1)
	dbPath := filepath.Join(dir, "n.db")
	args := []string{"-addr", "127.0.0.1:0", "-hipopay-key", hipopayKey, "-db", "file:" + dbPath}
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a string) { addr <- a })
	}()
	var u string
	select {
	case a := <-addr:
		u = "http://" + a + "/hipopay/notify"
	case err := <-done:
		t.Fatalf("the server stopped at start: %v", err)
	}

	p, err := fake.Client().PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
		OutTradeID: "ORDER-9", Amount: "8.88", Currency: hipopay.HKD, ProductInfo: "tea",
		AppID: "wx1", OpenID: "o1", ClientIP: "127.0.0.1", NotifyURL: u,
	})
	require.NoError(t, err)
	require.NoError(t, fake.Pay(p.PaymentNo))
	waitCtx, cancelWait := context.WithTimeout(ctx, 20*time.Second)
	defer cancelWait()
	require.NoError(t, fake.WaitDelivered(waitCtx, p.PaymentNo))
	d := fake.Deliveries(p.PaymentNo)
	require.NotEmpty(t, d)
	assert.Equal(t, http.StatusOK, d[len(d)-1].StatusCode)
	assert.Equal(t, "success", d[len(d)-1].Body)

	db, err := sql.Open("sqlite", "file:"+dbPath)
	require.NoError(t, err)
	defer db.Close()
	var paymentNo string
	require.NoError(t, db.QueryRow("SELECT payment_no FROM merchant_orders WHERE out_trade_id = 'ORDER-9' AND status = 'PAID'").Scan(&paymentNo))
	assert.Equal(t, p.PaymentNo, paymentNo)
	cancel()
	require.NoError(t, <-done)
}
