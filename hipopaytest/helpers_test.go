package hipopaytest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for the server.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cst is HipoPay's time zone.
var cst = hipopay.ChinaTimeZone()

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newServer starts a fake that is closed when the test ends.
func newServer(t *testing.T, opts ...hipopaytest.Option) *hipopaytest.Server {
	t.Helper()
	s := hipopaytest.NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

func order(outTradeID, amount string, currency hipopay.Currency, notifyURL string) *hipopay.PlaceOrderRequest {
	return &hipopay.PlaceOrderRequest{
		OutTradeID: outTradeID, Amount: amount, Currency: currency, ProductInfo: "Matcha latte x2",
		AppID: "wx3zzzzzzz4", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", ClientIP: "203.0.113.9", NotifyURL: notifyURL,
	}
}

// received is a notification as the merchant's server received it.
type received struct {
	form      url.Values
	query     url.Values // notify_url's own query string
	timestamp string
	signature string
}

// notifyRecorder is a merchant's notify_url: it records what it receives
// and answers with the statuses of answers in turn (then 200 "success").
type notifyRecorder struct {
	mu       sync.Mutex
	got      []received
	statuses []int
}

func (n *notifyRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	n.mu.Lock()
	n.got = append(n.got, received{form: form, query: r.URL.Query(), timestamp: r.Header.Get("Timestamp"), signature: r.Header.Get("Signature")})
	status := http.StatusOK
	if len(n.statuses) > 0 {
		status, n.statuses = n.statuses[0], n.statuses[1:]
	}
	n.mu.Unlock()
	if status != http.StatusOK {
		http.Error(w, "try again", status)
		return
	}
	_, _ = io.WriteString(w, "success")
}

func (n *notifyRecorder) received() []received {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]received(nil), n.got...)
}

func newNotifyRecorder(t *testing.T, statuses ...int) (*notifyRecorder, string) {
	t.Helper()
	rec := &notifyRecorder{statuses: statuses}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv.URL + "/hipopay/notify?src=mini"
}

// rawCall sends a request signed with the server's merchant key, for what
// the SDK refuses to send. mutate may change the request after signing.
func rawCall(t *testing.T, s *hipopaytest.Server, method, path, version string, params url.Values, mutate func(*http.Request)) (int, map[string]any) {
	t.Helper()
	signer, err := hipopay.NewSigner(s.MerchantKey)
	require.NoError(t, err)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := signer.Sign(params, ts)
	require.NoError(t, err)
	var body io.Reader
	target := s.URL + path
	if method == http.MethodGet {
		target += "?" + params.Encode()
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	req.Header.Set("MerchantNO", s.MerchantNo)
	req.Header.Set("Version", version)
	req.Header.Set("Timestamp", ts)
	req.Header.Set("Signature", sig)
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
		require.NoError(t, json.Unmarshal(b, &out), string(b))
	} else {
		out = map[string]any{"text": string(b)}
	}
	return resp.StatusCode, out
}
