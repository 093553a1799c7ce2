package hipopay_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The confirmation of Client.NotificationHandler against the fake HipoPay
// (issue 10, item 2): a notification HipoPay signed for another merchant
// and forwarded to this merchant's notify_url never reaches fn.

func orderOf(outTradeID, amount string, c hipopay.Currency, notifyURL string) *hipopay.PlaceOrderRequest {
	return &hipopay.PlaceOrderRequest{
		OutTradeID: outTradeID, Amount: amount, Currency: c, ProductInfo: "Matcha latte x2",
		AppID: "wx3zzzzzzz4", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", ClientIP: "203.0.113.9", NotifyURL: notifyURL,
	}
}

// captured is a notification as a notify_url received it.
type captured struct {
	body, timestamp, signature string
}

// forward POSTs a captured notification, byte for byte, to url.
func (c captured) forward(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(c.body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Timestamp", c.timestamp)
	req.Header.Set("Signature", c.signature)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// shop is a merchant's notify_url served by a NotificationHandler; it
// records the notifications fn got.
type shop struct {
	*httptest.Server
	mu  sync.Mutex
	got []*hipopay.PaymentNotification
}

func newShop(t *testing.T, c *hipopay.Client, opts ...hipopay.HandlerOption) *shop {
	t.Helper()
	s := &shop{}
	s.Server = httptest.NewServer(c.NotificationHandler(func(_ context.Context, n *hipopay.PaymentNotification) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.got = append(s.got, n)
		return nil
	}, opts...))
	t.Cleanup(s.Close)
	return s
}

func (s *shop) notifications() []*hipopay.PaymentNotification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*hipopay.PaymentNotification(nil), s.got...)
}

// otherMerchant registers a second merchant at the fake and returns its
// client and a notify_url that captures what HipoPay sends it.
func otherMerchant(t *testing.T, s *hipopaytest.Server) (*hipopay.Client, string, <-chan captured) {
	t.Helper()
	key, err := hipopay.LoadPrivateKey("testdata/merchant_private_pkcs8.pem")
	require.NoError(t, err)
	s.AddMerchant("OTHER0000000001", &key.PublicKey)
	c, err := hipopay.NewClient("OTHER0000000001", key, hipopay.WithBaseURL(s.URL), hipopay.WithHipoPayPublicKey(s.PublicKey()))
	require.NoError(t, err)
	ch := make(chan captured, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- captured{string(b), r.Header.Get("Timestamp"), r.Header.Get("Signature")}
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(srv.Close)
	return c, srv.URL + "/notify", ch
}

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestNotificationHandlerRefusesForwardedNotification(t *testing.T) {
	ctx := ctxOf(t)
	s := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(5*time.Millisecond, 5*time.Millisecond))
	defer s.Close()
	ours := s.Client(hipopay.WithRetryBackoff(time.Millisecond))
	mine := newShop(t, ours)

	// Our order ORD-FWD-1, 10.00 HKD, waits for the buyer.
	p, err := ours.PlaceOrder(ctx, orderOf("ORD-FWD-1", "10.00", hipopay.HKD, mine.URL+"/notify"))
	require.NoError(t, err)

	// Another merchant places an order under the same out_trade_id and
	// amount, pays it, and forwards what HipoPay signed for it to us.
	theirs, theirURL, capturedCh := otherMerchant(t, s)
	q, err := theirs.PlaceOrder(ctx, orderOf("ORD-FWD-1", "10.00", hipopay.HKD, theirURL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(q.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, q.PaymentNo))
	forwarded := <-capturedCh
	fields, err := url.ParseQuery(forwarded.body)
	require.NoError(t, err)
	require.Equal(t, "ORD-FWD-1", fields.Get("out_trade_id"))
	require.NoError(t, hipopay.VerifyNotificationSignature(s.PublicKey(), fields, forwarded.timestamp, forwarded.signature), "it is genuinely signed by HipoPay")

	status, body := forwarded.forward(t, mine.URL+"/notify")
	assert.Equal(t, http.StatusForbidden, status)
	assert.NotContains(t, body, "success")
	assert.Empty(t, mine.notifications(), "fn ran for another merchant's payment")
	// Refused, not recorded: it is refused again.
	status, _ = forwarded.forward(t, mine.URL+"/notify")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Empty(t, mine.notifications())

	// Our own payment passes.
	require.NoError(t, s.Pay(p.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))
	got := mine.notifications()
	require.Len(t, got, 1)
	assert.Equal(t, p.PaymentNo, got[0].PaymentNo)
	assert.Equal(t, "ORD-FWD-1", got[0].OutTradeID)
}

// send POSTs fields signed with key as HipoPay would, and returns the
// status.
func send(t *testing.T, key *rsa.PrivateKey, target string, fields url.Values) int {
	t.Helper()
	req, err := hipopaytest.NewNotificationRequest(key, target, fields, "")
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestNotificationHandlerConfirmsWithHipoPay(t *testing.T) {
	ctx := ctxOf(t)
	s := hipopaytest.NewServer()
	defer s.Close()
	var logs syncBuffer
	ours := s.Client(hipopay.WithRetryBackoff(time.Millisecond))
	mine := newShop(t, ours, hipopay.WithHandlerLogger(slog.New(slog.NewJSONHandler(&logs, nil))))

	// A payment placed without notify_url: the test delivers by hand.
	p, err := ours.PlaceOrder(ctx, orderOf("ORD-CONF-1", "10.00", hipopay.HKD, ""))
	require.NoError(t, err)
	paid := func() url.Values {
		got, ok := s.Payment(p.PaymentNo)
		require.True(t, ok)
		return hipopaytest.PaidNotificationFields(got)
	}
	with := func(name, value string) url.Values {
		v := paid()
		v.Set(name, value)
		return v
	}

	// Signed, but not paid yet at HipoPay: refused.
	assert.Equal(t, http.StatusForbidden, send(t, s.PrivateKey(), mine.URL, paid()))
	require.NoError(t, s.Pay(p.PaymentNo))

	// Signed, paid, but not what HipoPay reports: refused, not recorded.
	for name, fields := range map[string]url.Values{
		"amount":       with("amount", "100.00"),
		"currency":     with("currency", "CNY"),
		"out_trade_id": with("out_trade_id", "ORD-CONF-2"),
		"status":       with("status", "CLOSED"),
		"payment_no":   with("payment_no", p.PaymentNo+"9"),
	} {
		assert.Equal(t, http.StatusForbidden, send(t, s.PrivateKey(), mine.URL, fields), name)
	}
	assert.Empty(t, mine.notifications())
	out := logs.String()
	assert.Contains(t, out, `"level":"ERROR"`)
	assert.Contains(t, out, "HipoPay does not confirm")
	assert.Contains(t, out, p.PaymentNo)

	// The amount compares as an amount: "10.0" is "10.00". It passes, and
	// the payment is processed once: the genuine notification after it is
	// a duplicate, acknowledged without asking HipoPay again.
	assert.Equal(t, http.StatusOK, send(t, s.PrivateKey(), mine.URL, with("amount", "10.0")))
	lookups := s.Calls("GET payment")
	assert.Equal(t, http.StatusOK, send(t, s.PrivateKey(), mine.URL, paid()))
	assert.Equal(t, http.StatusOK, send(t, s.PrivateKey(), mine.URL, paid()))
	assert.Equal(t, lookups, s.Calls("GET payment"), "a duplicate was looked up")
	require.Len(t, mine.notifications(), 1)
	assert.Equal(t, p.PaymentNo, mine.notifications()[0].PaymentNo)
	assert.NotContains(t, logs.String(), "Signature")
}

func TestNotificationHandlerLookupFailureIsRetried(t *testing.T) {
	ctx := ctxOf(t)
	for _, fault := range []string{"5xx", "dropped"} {
		t.Run(fault, func(t *testing.T) {
			s := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(5*time.Millisecond, 5*time.Millisecond, 5*time.Millisecond))
			defer s.Close()
			ours := s.Client(hipopay.WithRetryBackoff(time.Millisecond), hipopay.WithMaxRetries(1))
			mine := newShop(t, ours)
			p, err := ours.PlaceOrder(ctx, orderOf("ORD-LOOKUP", "10.00", hipopay.HKD, mine.URL+"/notify"))
			require.NoError(t, err)
			// The first delivery's lookup fails, the client's retry
			// included (and, for a dropped connection, net/http's own
			// retry of a GET on a reused connection).
			if fault == "5xx" {
				s.FailNext("GET payment", http.StatusBadGateway, 2)
			} else {
				s.DropNext("GET payment", 3)
			}
			require.NoError(t, s.Pay(p.PaymentNo))
			require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))
			ds := s.Deliveries(p.PaymentNo)
			require.GreaterOrEqual(t, len(ds), 2)
			assert.Equal(t, http.StatusInternalServerError, ds[0].StatusCode, "HipoPay must deliver again")
			assert.True(t, ds[len(ds)-1].Acknowledged)
			require.Len(t, mine.notifications(), 1)
		})
	}
}

func TestNotificationHandlerWithoutConfirmation(t *testing.T) {
	// Opted out, the forwarded notification passes: the confirmation is
	// what stops it.
	ctx := ctxOf(t)
	s := hipopaytest.NewServer()
	defer s.Close()
	ours := s.Client()
	mine := newShop(t, ours, hipopay.WithoutConfirmation())
	theirs, theirURL, capturedCh := otherMerchant(t, s)
	q, err := theirs.PlaceOrder(ctx, orderOf("ORD-FWD-2", "10.00", hipopay.HKD, theirURL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(q.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, q.PaymentNo))
	lookups := s.Calls("GET payment")
	status, body := (<-capturedCh).forward(t, mine.URL)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "success", body)
	assert.Len(t, mine.notifications(), 1)
	assert.Equal(t, lookups, s.Calls("GET payment"), "no lookup without confirmation")
}

// syncBuffer is a bytes.Buffer safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
