package hipopaytest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNotifyOverHTTPS: a notify_url served over TLS by a certificate the
// system does not trust is reached with WithNotifyClient.
func TestNotifyOverHTTPS(t *testing.T) {
	ctx := ctxT(t)
	var mu sync.Mutex
	var got []*hipopay.PaymentNotification
	var tlsSrv *httptest.Server
	mk := func(opts ...hipopaytest.Option) (*hipopaytest.Server, *hipopay.Client) {
		s := newServer(t, append([]hipopaytest.Option{hipopaytest.WithRetryIntervals()}, opts...)...)
		return s, s.Client()
	}

	// Without it: the certificate is not trusted, nothing is delivered.
	s, c := mk()
	tlsSrv = httptest.NewTLSServer(c.NotificationHandler(func(_ context.Context, n *hipopay.PaymentNotification) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, n)
		return nil
	}, hipopay.WithoutConfirmation())) // the second server's payments are unknown to the first
	t.Cleanup(tlsSrv.Close)
	p, err := c.PlaceOrder(ctx, order("ORD-TLS-0", "1.00", hipopay.HKD, tlsSrv.URL+"/notify"))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	assert.ErrorIs(t, s.WaitDelivered(ctx, p.PaymentNo), hipopaytest.ErrNotAcknowledged)
	ds := s.Deliveries(p.PaymentNo)
	require.Len(t, ds, 1)
	assert.ErrorContains(t, ds[0].Err, "certificate")

	// With the TLS server's client: delivered and acknowledged. (The
	// handler verifies with the first server's key: sign with it too.)
	s2, c2 := mk(hipopaytest.WithNotifyClient(tlsSrv.Client()), hipopaytest.WithHipoPayKey(s.PrivateKey()))
	p, err = c2.PlaceOrder(ctx, order("ORD-TLS-1", "2.00", hipopay.HKD, tlsSrv.URL+"/notify"))
	require.NoError(t, err)
	require.NoError(t, s2.Pay(p.PaymentNo))
	require.NoError(t, s2.WaitDelivered(ctx, p.PaymentNo))
	mu.Lock()
	require.Len(t, got, 1)
	assert.Equal(t, "ORD-TLS-1", got[0].OutTradeID)
	mu.Unlock()
	s2.Close()
	// The client given is the caller's: still usable after Close.
	resp, err := tlsSrv.Client().Get(tlsSrv.URL)
	require.NoError(t, err)
	resp.Body.Close()

	assert.Panics(t, func() { hipopaytest.NewServer(hipopaytest.WithNotifyClient(nil)) })
}

// TestNotifyClientNeverFollowsRedirects: the client given is used without
// following redirects and with WithNotifyTimeout, as the default one.
func TestNotifyClientNeverFollowsRedirects(t *testing.T) {
	ctx := ctxT(t)
	rec, target := newNotifyRecorder(t)
	redirect := newHandlerURL(t, http.RedirectHandler(target, http.StatusFound))
	slow := newHandlerURL(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leaving
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	s := newServer(t, hipopaytest.WithRetryIntervals(), hipopaytest.WithNotifyClient(&http.Client{}),
		hipopaytest.WithNotifyTimeout(50*time.Millisecond))
	c := s.Client()
	p, err := c.PlaceOrder(ctx, order("ORD-REDIR", "1.00", hipopay.HKD, redirect))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	assert.ErrorIs(t, s.WaitDelivered(ctx, p.PaymentNo), hipopaytest.ErrNotAcknowledged)
	assert.Equal(t, http.StatusFound, s.Deliveries(p.PaymentNo)[0].StatusCode)
	assert.Empty(t, rec.received())

	p, err = c.PlaceOrder(ctx, order("ORD-SLOW", "1.00", hipopay.HKD, slow))
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, s.Pay(p.PaymentNo))
	assert.ErrorIs(t, s.WaitDelivered(ctx, p.PaymentNo), hipopaytest.ErrNotAcknowledged)
	assert.Less(t, time.Since(start), 4*time.Second)
	assert.Error(t, s.Deliveries(p.PaymentNo)[0].Err)
}
