package hipopaytest_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mockRequest sends method to the server's _mock/ endpoint path with the
// given Host (if not empty) and headers, and returns the status and body.
func mockRequest(t *testing.T, s *hipopaytest.Server, method, path, host string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// placeINIT places an order without a notify_url and returns its number.
func placeINIT(t *testing.T, s *hipopaytest.Server, outTradeID string) string {
	t.Helper()
	p, err := s.Client().PlaceOrder(ctxT(t), order(outTradeID, "2.00", hipopay.HKD, ""))
	require.NoError(t, err)
	return p.PaymentNo
}

func statusOf(t *testing.T, s *hipopaytest.Server, paymentNo string) hipopay.PaymentStatus {
	t.Helper()
	p, ok := s.Payment(paymentNo)
	require.True(t, ok)
	return p.Status
}

// TestMockRefusesCrossSiteRequests: a web page the developer visits must
// not be able to pay an order on the mock (a plain form POST), nor reach
// it through DNS rebinding (its own name in Host). Each attempt is 403
// with a plain reason and changes nothing.
func TestMockRefusesCrossSiteRequests(t *testing.T) {
	s := newServer(t)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	own := u.Host // 127.0.0.1:port
	_, port, err := net.SplitHostPort(own)
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		path    string
		host    string
		headers map[string]string
		reason  string
	}{
		{"cross-site Origin", "_mock/pay", "", map[string]string{"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"}, `Origin "https://evil.example"`},
		{"Origin null (sandboxed page)", "_mock/pay", "", map[string]string{"Origin": "null"}, `Origin "null"`},
		{"Origin of another port", "_mock/pay", "", map[string]string{"Origin": "http://127.0.0.1:1"}, "cross-origin"},
		{"Origin of localhost while Host is 127.0.0.1", "_mock/pay", "", map[string]string{"Origin": "http://localhost:" + port}, "cross-origin"},
		{"Sec-Fetch-Site cross-site", "_mock/pay", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, `Sec-Fetch-Site is "cross-site"`},
		{"Sec-Fetch-Site same-site", "_mock/fail", "", map[string]string{"Sec-Fetch-Site": "same-site"}, `Sec-Fetch-Site is "same-site"`},
		{"own Origin but Sec-Fetch-Site cross-site", "_mock/pay", "", map[string]string{"Origin": "http://" + own, "Sec-Fetch-Site": "cross-site"}, "cross-site"},
		{"foreign Host (DNS rebinding)", "_mock/pay", "rebind.evil.example:" + port, nil, `Host "rebind.evil.example:` + port + `"`},
		{"foreign Host with a same-origin Origin", "_mock/pay", "rebind.evil.example:" + port, map[string]string{"Origin": "http://rebind.evil.example:" + port}, "DNS-rebinding"},
		{"localhost on another port", "_mock/pay", "localhost:1", nil, "DNS-rebinding"},
		{"another IP", "_mock/fail", "192.0.2.1:" + port, nil, "DNS-rebinding"},
		{"Host without a port", "_mock/pay", "localhost", nil, "DNS-rebinding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			paymentNo := placeINIT(t, s, "X-"+strings.ReplaceAll(tc.name, " ", "-"))
			code, body := mockRequest(t, s, http.MethodPost, tc.path+"?payment_no="+paymentNo, tc.host, tc.headers)
			assert.Equal(t, http.StatusForbidden, code, body)
			assert.Contains(t, body, tc.reason)
			assert.Equal(t, hipopay.PaymentStatusInit, statusOf(t, s, paymentNo), "no state change")
		})
	}

	// A foreign Host cannot read the mock either (a rebinding page would).
	code, body := mockRequest(t, s, http.MethodGet, "_mock/deliveries?payment_no=x", "rebind.evil.example:"+port, nil)
	assert.Equal(t, http.StatusForbidden, code, body)
	// The API itself is signed, hence not guarded: a foreign Host reaches
	// it and is refused for the missing signature, as HipoPay would.
	code, body = mockRequest(t, s, http.MethodGet, "payment?payment_no=x", "rebind.evil.example:"+port, nil)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "ILLEGAL_SECURITY_PROFILE")
}

// TestMockAcceptsLocalTools: what the CLI, curl and a merchant's Go test
// send (no Origin, the URL's Host), and the mock's own pages (same-origin),
// keep working.
func TestMockAcceptsLocalTools(t *testing.T) {
	s := newServer(t)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	_, port, err := net.SplitHostPort(u.Host)
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		host    string
		headers map[string]string
	}{
		{"no Origin, the URL's Host (the CLI, curl)", "", nil},
		{"Host localhost", "localhost:" + port, nil},
		{"Host LOCALHOST", "LOCALHOST:" + port, nil},
		{"Host [::1]", "[::1]:" + port, nil},
		{"the mock's own page", "", map[string]string{"Origin": "http://" + u.Host, "Sec-Fetch-Site": "same-origin"}},
		{"its own page on localhost", "localhost:" + port, map[string]string{"Origin": "http://localhost:" + port, "Sec-Fetch-Site": "same-origin"}},
		{"typed into the address bar", "", map[string]string{"Sec-Fetch-Site": "none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			paymentNo := placeINIT(t, s, "OK-"+strings.ReplaceAll(tc.name, " ", "-"))
			code, body := mockRequest(t, s, http.MethodPost, "_mock/pay?payment_no="+paymentNo, tc.host, tc.headers)
			assert.Equal(t, http.StatusOK, code, body)
			assert.Contains(t, body, `"status":"PAID"`)
			assert.Equal(t, hipopay.PaymentStatusPaid, statusOf(t, s, paymentNo))
		})
	}
	// Reading is allowed from anywhere on this machine: a cross-site page
	// cannot read the answer (no CORS headers), and the key is public.
	code, body := mockRequest(t, s, http.MethodGet, "_mock/hipopay_public.pem", "", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "BEGIN PUBLIC KEY")
}

// TestMockOnEveryInterface: listening on 0.0.0.0, the mock is reached by
// any of the machine's IP addresses with its port, never by a name other
// than localhost.
func TestMockOnEveryInterface(t *testing.T) {
	s := newServer(t, hipopaytest.WithAddr("0.0.0.0:0"))
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	_, port, err := net.SplitHostPort(u.Host)
	require.NoError(t, err)
	p, _ := strconv.Atoi(port)
	require.NotZero(t, p)

	paymentNo := placeINIT(t, s, "ANY-1")
	code, body := mockRequest(t, s, http.MethodPost, "_mock/fail?payment_no="+paymentNo, "rebind.evil.example:"+port, nil)
	assert.Equal(t, http.StatusForbidden, code, body)
	assert.Equal(t, hipopay.PaymentStatusInit, statusOf(t, s, paymentNo))
	code, body = mockRequest(t, s, http.MethodPost, "_mock/pay?payment_no="+paymentNo, "192.0.2.7:"+port, nil)
	assert.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, hipopay.PaymentStatusPaid, statusOf(t, s, paymentNo))
}
