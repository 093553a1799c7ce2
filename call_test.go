package hipopay

// Tests of Client.Call: any endpoint signed and sent with exactly the
// given parameters, the retry rules of the typed calls, decoding into the
// caller's value, and the validation of method, path and parameters.

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallGetWire(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodGet, "alipay/forex_rate", http.StatusOK, `{"is_success": true, "response": {"currency": "USD", "forex_rate": "0.149"}}`)
	var out struct {
		Currency string `json:"currency"`
		Rate     string `json:"forex_rate"`
	}
	require.NoError(t, c.Call(context.Background(), http.MethodGet, "alipay/forex_rate", url.Values{"currency": {"USD"}}, &out))
	assert.Equal(t, "USD", out.Currency)
	assert.Equal(t, "0.149", out.Rate)
	assertWire(t, w.single(t), http.MethodGet, "alipay/forex_rate", "1.0", map[string]string{"currency": "USD"})
}

func TestCallPostWire(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodPost, "wechatpay/hk/app/payment", http.StatusOK, methodAnswer)
	params := url.Values{"out_trade_id": {"ORD 1/2+3~"}, "amount": {"8.88"}, "currency": {"HKD"}, "product_info": {"抹茶"},
		"client_ip": {"203.0.113.9"}, "appid": {"wx3"}, "surcharge": {"TRUE"}}
	var raw json.RawMessage
	require.NoError(t, c.Call(context.Background(), http.MethodPost, "wechatpay/hk/app/payment", params, &raw))
	assert.JSONEq(t, string(responseOf(t, methodAnswer)), string(raw))
	assertWire(t, w.single(t), http.MethodPost, "wechatpay/hk/app/payment", "1.0", map[string]string{
		"out_trade_id": "ORD 1/2+3~", "amount": "8.88", "currency": "HKD", "product_info": "抹茶",
		"client_ip": "203.0.113.9", "appid": "wx3", "surcharge": "TRUE"})
	assert.Equal(t, url.Values{"out_trade_id": {"ORD 1/2+3~"}, "amount": {"8.88"}, "currency": {"HKD"}, "product_info": {"抹茶"},
		"client_ip": {"203.0.113.9"}, "appid": {"wx3"}, "surcharge": {"TRUE"}}, params, "the caller's values are not changed")
}

func TestCallDecodesIntoAnswerTypesAndNil(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodGet, "payment", http.StatusOK, getPaymentJSONBody)
	var p Payment
	require.NoError(t, c.Call(context.Background(), http.MethodGet, "payment", url.Values{"payment_no": {"1"}}, &p))
	assert.Equal(t, PaymentStatusPaid, p.Status)
	assertChinaTime(t, p.TradeTime, "2018-07-18 23:33:23")
	require.NoError(t, c.Call(context.Background(), http.MethodGet, "payment", nil, nil), "nil params and out")
	reqs := w.requests()
	require.Len(t, reqs, 2)
	assert.Empty(t, reqs[1].Raw)

	w.on(http.MethodGet, "payment", http.StatusOK, errorBody("PAYMENT_NOT_FOUND", "Order not found"))
	err := c.Call(context.Background(), http.MethodGet, "payment", url.Values{"payment_no": {"2"}}, &p)
	assert.ErrorIs(t, err, ErrPaymentNotFound)
}

func TestCallValidation(t *testing.T) {
	c, w := newWireMock(t)
	var out json.RawMessage
	var notPointer struct{}
	for _, tc := range []struct {
		name         string
		method, path string
		params       url.Values
		out          any
		field        string
	}{
		{"PUT", http.MethodPut, "payment", nil, &out, "method"},
		{"lower-case get", "get", "payment", nil, &out, "method"},
		{"empty path", http.MethodGet, "", nil, &out, "path"},
		{"absolute path", http.MethodGet, "/payment", nil, &out, "path"},
		{"URL", http.MethodGet, "https://evil.example/payment", nil, &out, "path"},
		{"host-relative", http.MethodGet, "//evil.example/payment", nil, &out, "path"},
		{"dot-dot", http.MethodGet, "alipay/../../admin", nil, &out, "path"},
		{"dot", http.MethodGet, "./payment", nil, &out, "path"},
		{"trailing slash", http.MethodGet, "payment/", nil, &out, "path"},
		{"query", http.MethodGet, "payment?payment_no=1", nil, &out, "path"},
		{"fragment", http.MethodGet, "payment#x", nil, &out, "path"},
		{"escaped", http.MethodGet, "pay%2Fment", nil, &out, "path"},
		{"backslash", http.MethodGet, `alipay\..\x`, nil, &out, "path"},
		{"space", http.MethodGet, "pay ment", nil, &out, "path"},
		{"non-UTF-8 value", http.MethodPost, "payment_refund", url.Values{"payment_no": {"\xff"}}, &out, "payment_no"},
		{"two values", http.MethodPost, "payment_refund", url.Values{"payment_no": {"1", "2"}}, &out, "payment_no"},
		{"no value", http.MethodPost, "payment_refund", url.Values{"payment_no": {}}, &out, "payment_no"},
		{"name with &", http.MethodPost, "payment_refund", url.Values{"a&b": {"1"}}, &out, "params"},
		{"name with =", http.MethodPost, "payment_refund", url.Values{"a=b": {"1"}}, &out, "params"},
		{"empty name", http.MethodPost, "payment_refund", url.Values{"": {"1"}}, &out, "params"},
		{"out not a pointer", http.MethodGet, "payment", nil, notPointer, "out"},
		{"nil pointer out", http.MethodGet, "payment", nil, (*Payment)(nil), "out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Call(context.Background(), tc.method, tc.path, tc.params, tc.out)
			assertInvalid(t, w, err, tc.field)
		})
	}
}

// A POST is sent once after a connection reset (it may have reached
// HipoPay); a GET is retried; a POST that provably never left (refused
// connection) is re-sent.
func TestCallRetryRules(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, dropServer(t, &calls), WithMaxRetries(3))
	err := c.Call(context.Background(), http.MethodPost, "alipay/declaration", url.Values{"payment_no": {"1"}}, nil)
	require.Error(t, err)
	assert.EqualValues(t, 1, calls.Load(), "a POST that may have reached HipoPay is sent once")

	calls.Store(0)
	err = c.Call(context.Background(), http.MethodGet, "alipay/declaration", url.Values{"payment_no": {"1"}}, nil)
	require.Error(t, err)
	assert.EqualValues(t, 4, calls.Load(), "a GET is retried")

	mc, mock := newMockClient(t, WithMaxRetries(2))
	mock.RegisterResponder(http.MethodPost, ProductionBaseURL+"payment_refund",
		func(*http.Request) (*http.Response, error) { return nil, errors.New("connection reset by peer") })
	err = mc.Call(context.Background(), http.MethodPost, "payment_refund", url.Values{"payment_no": {"1"}}, nil)
	require.Error(t, err)
	assert.Equal(t, 1, mock.GetTotalCallCount(), "Call never opts a POST into retries, not even payment_refund")

	// The connection was refused: the POST never left, so it is tried again.
	mock.RegisterResponder(http.MethodPost, ProductionBaseURL+"alipay/redeclaration",
		func(*http.Request) (*http.Response, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		})
	err = mc.Call(context.Background(), http.MethodPost, "alipay/redeclaration", url.Values{"payment_no": {"1"}}, nil)
	require.Error(t, err)
	assert.Equal(t, 1+3, mock.GetTotalCallCount(), "a POST that never left is re-sent")
}

// HipoPay echoing a cert_id or name sent through Call: redacted.
func TestCallRedactsIdentity(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodPost, "alipay/declaration", http.StatusOK, errorBody("INVALID_PARAMETER", "cert_id "+testCertID+" name "+testName))
	err := c.Call(context.Background(), http.MethodPost, "alipay/declaration",
		url.Values{"cert_id": {testCertID}, "name": {testName}}, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testCertID)
	assert.NotContains(t, err.Error(), testName)
	assert.Contains(t, err.Error(), "[REDACTED]")
}
