package hipopay_test

import (
	"context"
	"io"
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
