package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the
// test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writePEM(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// startServer runs the notify server with args against the fake (its
// merchant and base URL from the environment, as the mock's export line
// sets them) and returns its notify_url and its log.
func startServer(t *testing.T, fake *hipopaytest.Server, args ...string) (string, *syncBuffer) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(fake.MerchantKey)
	require.NoError(t, err)
	env := map[string]string{
		"HIPOPAY_MERCHANT_NO": fake.MerchantNo,
		"HIPOPAY_PRIVATE_KEY": writePEM(t, "merchant_private.pem", "PRIVATE KEY", der),
		"HIPOPAY_BASE_URL":    fake.URL,
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), func(k string) string { return env[k] }, logs, func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
			assert.Contains(t, logs.String(), "shutting down")
		case <-time.After(20 * time.Second):
			t.Error("the server did not stop")
		}
	})
	select {
	case a := <-addr:
		return "http://" + a + "/hipopay/notify", logs
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not start")
	}
	return "", nil
}

// payOrder places an order with notifyURL on the fake and pays it.
func payOrder(t *testing.T, fake *hipopaytest.Server, outTradeID, notifyURL string) string {
	t.Helper()
	p, err := fake.Client().PlaceOrder(context.Background(), &hipopay.PlaceOrderRequest{
		OutTradeID: outTradeID, Amount: "8.88", Currency: hipopay.HKD, ProductInfo: "tea",
		AppID: "wx1", OpenID: "o1", ClientIP: "127.0.0.1", NotifyURL: notifyURL,
	})
	require.NoError(t, err)
	require.NoError(t, fake.Pay(p.PaymentNo))
	return p.PaymentNo
}

// TestWithTheMocksKey: with -hipopay-key (the mock's public key file) the
// server verifies the mock's notifications and acknowledges them; it logs
// each request and the payment by default.
func TestWithTheMocksKey(t *testing.T) {
	fake := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(10 * time.Millisecond))
	t.Cleanup(fake.Close)
	pubDER, err := x509.MarshalPKIXPublicKey(fake.PublicKey())
	require.NoError(t, err)
	keyFile := writePEM(t, "hipopay_public.pem", "PUBLIC KEY", pubDER)

	notifyURL, logs := startServer(t, fake, "-hipopay-key", keyFile)
	paymentNo := payOrder(t, fake, "NS-1", notifyURL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, fake.WaitDelivered(ctx, paymentNo), logs.String())
	d := fake.Deliveries(paymentNo)
	require.NotEmpty(t, d)
	assert.Equal(t, 200, d[len(d)-1].StatusCode)
	assert.Equal(t, "success", d[len(d)-1].Body)

	out := logs.String()
	assert.Contains(t, out, "hipopay_key="+keyFile)
	assert.Contains(t, out, "hipopay_api="+fake.URL)
	assert.Contains(t, out, "msg=request method=POST path=/hipopay/notify status=200")
	assert.Contains(t, out, "payment for an order this shop does not know")
	assert.Contains(t, out, "payment_no="+paymentNo)
	assert.NotContains(t, out, "Signature")
}

// TestWithoutTheMocksKey: with HipoPay's embedded key, the mock's
// notifications do not verify; each refusal is logged, none is
// acknowledged.
func TestWithoutTheMocksKey(t *testing.T) {
	fake := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(10*time.Millisecond, 10*time.Millisecond))
	t.Cleanup(fake.Close)
	notifyURL, logs := startServer(t, fake)
	paymentNo := payOrder(t, fake, "NS-2", notifyURL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := fake.WaitDeliveries(ctx, paymentNo, 3)
	require.NoError(t, err)
	for _, x := range d {
		assert.Equal(t, 401, x.StatusCode)
		assert.False(t, x.Acknowledged)
	}
	assert.Eventually(t, func() bool {
		return bytes.Count([]byte(logs.String()), []byte("msg=request method=POST path=/hipopay/notify status=401")) == 3
	}, 5*time.Second, 10*time.Millisecond, logs.String())
	assert.Contains(t, logs.String(), "hipopay_key=\"embedded production callback key\"")
}

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	noEnv := func(string) string { return "" }
	assert.ErrorContains(t, run(ctx, nil, noEnv, &out, nil), "HIPOPAY_MERCHANT_NO")
	assert.ErrorIs(t, run(ctx, []string{"-nope"}, noEnv, &out, nil), errUsage)
	assert.ErrorIs(t, run(ctx, []string{"extra"}, noEnv, &out, nil), errUsage)
	assert.ErrorIs(t, run(ctx, []string{"-log-level", "loud"}, noEnv, &out, nil), errUsage)

	fake := hipopaytest.NewServer()
	t.Cleanup(fake.Close)
	der, err := x509.MarshalPKCS8PrivateKey(fake.MerchantKey)
	require.NoError(t, err)
	env := map[string]string{"HIPOPAY_MERCHANT_NO": fake.MerchantNo, "HIPOPAY_PRIVATE_KEY": writePEM(t, "k.pem", "PRIVATE KEY", der)}
	getenv := func(k string) string { return env[k] }
	assert.ErrorContains(t, run(ctx, []string{"-hipopay-key", filepath.Join(t.TempDir(), "missing.pem")}, getenv, &out, nil), "missing.pem")
	env["HIPOPAY_SANDBOX"] = "maybe"
	assert.ErrorContains(t, run(ctx, nil, getenv, &out, nil), "HIPOPAY_SANDBOX")
}
