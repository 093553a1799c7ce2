package hipopay

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const forexOK = `{"is_success": true, "response": {"currency": "USD", "forex_rate": "0.149"}}`

func samplePlaceOrder() *PlaceOrderRequest {
	return &PlaceOrderRequest{OutTradeID: "201901021232211023", Amount: "8.88", Currency: HKD,
		ProductInfo: "Hipopay - product for test", AppID: "wx3zzzzzzz4", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		ClientIP: "10.129.35.61", NotifyURL: "https://merchant.example/notify"}
}

func TestRetryTwo502sThenSuccess(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "<html><body>502 Bad Gateway</body></html>", http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(forexOK))
	}))
	rate, err := c.GetForexRate(context.Background(), USD)
	require.NoError(t, err)
	assert.Equal(t, "0.149", rate.Rate)
	assert.EqualValues(t, 3, calls.Load())
}

func TestRetryGivesUpAfterMaxRetries(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}), WithMaxRetries(1))
	_, err := c.GetForexRate(context.Background(), USD)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	assert.True(t, apiErr.Temporary())
	assert.EqualValues(t, 2, calls.Load())

	calls.Store(0)
	none, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}), WithMaxRetries(0))
	_, err = none.GetForexRate(context.Background(), USD)
	require.Error(t, err)
	assert.EqualValues(t, 1, calls.Load(), "WithMaxRetries(0) disables retries")
}

func TestRetryNeverOutlivesTheDeadline(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}), WithMaxRetries(100), WithRetryBackoff(100*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetPayment(ctx, PaymentQuery{PaymentNo: "1"})
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.Less(t, elapsed, 300*time.Millisecond, "returns within the caller's deadline")
	assert.GreaterOrEqual(t, calls.Load(), int32(2), "it did retry")
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	var calls atomic.Int32
	var times [2]time.Time
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		times[n-1] = time.Now()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(forexOK))
	}))
	_, err := c.GetForexRate(context.Background(), USD)
	require.NoError(t, err)
	require.EqualValues(t, 2, calls.Load())
	assert.GreaterOrEqual(t, times[1].Sub(times[0]), 900*time.Millisecond)

	// A Retry-After beyond the deadline ends the call at once.
	calls.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	slow, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	start := time.Now()
	_, err = slow.GetForexRate(ctx, USD)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	assert.Less(t, time.Since(start), 200*time.Millisecond)
	assert.EqualValues(t, 1, calls.Load())
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	c := &Client{backoffBase: 100 * time.Millisecond}
	for attempt := 1; attempt <= 10; attempt++ {
		want := min(100*time.Millisecond<<(attempt-1), maxBackoff)
		for i := 0; i < 50; i++ {
			d := c.backoff(attempt, 0)
			assert.GreaterOrEqual(t, d, want, "never shorter than the exponential delay")
			assert.LessOrEqual(t, d, min(want*3/2, maxBackoff))
		}
	}
	assert.Equal(t, 3*time.Second, c.backoff(1, 3*time.Second))
	now := time.Unix(1000, 0)
	assert.Equal(t, 2*time.Second, parseRetryAfter("2", now))
	assert.Equal(t, 5*time.Second, parseRetryAfter(now.Add(5*time.Second).UTC().Format(http.TimeFormat), now))
	assert.Zero(t, parseRetryAfter("soon", now))
	assert.Zero(t, parseRetryAfter("-3", now))
}

// dropServer answers nothing: it closes each connection once the request
// has been read, the way a crashing proxy does.
func dropServer(t *testing.T, count *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
}

func TestPlaceOrderIsNotResentAfterADroppedConnection(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, dropServer(t, &calls), WithMaxRetries(5))
	p, err := c.PlaceOrder(context.Background(), samplePlaceOrder())
	require.Error(t, err)
	assert.Nil(t, p)
	assert.EqualValues(t, 1, calls.Load(), "an order that may have reached HipoPay is sent once")

	calls.Store(0)
	d, _ := newServerClient(t, dropServer(t, &calls), WithMaxRetries(5))
	_, err = d.Declare(context.Background(), &DeclarationRequest{OutOrderNo: "1", PaymentNo: "2", Customs: CustomsShenzhen,
		MchCustomsNo: "3", SubOrderNo: "4", SubOrderAmount: "2.00", TransportAmount: "1.00", ProductAmount: "1.00"})
	require.Error(t, err)
	assert.EqualValues(t, 1, calls.Load(), "a declaration that may have reached HipoPay is sent once")

	// A read is retried after the same failure.
	calls.Store(0)
	g, _ := newServerClient(t, dropServer(t, &calls), WithMaxRetries(2))
	_, err = g.GetPayment(context.Background(), PaymentQuery{PaymentNo: "1"})
	require.Error(t, err)
	assert.EqualValues(t, 3, calls.Load())
}

func TestPlaceOrderIsNotResentAfter5xx(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	_, err := c.PlaceOrder(context.Background(), samplePlaceOrder())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadGateway, apiErr.StatusCode)
	assert.EqualValues(t, 1, calls.Load())
}

// The zero value of a call is the safe kind: a POST with Version 1.0 that
// is never re-sent once it may have reached HipoPay. A GET and an
// idempotent POST are retried.
func TestZeroCallIsTheSafeKind(t *testing.T) {
	var got []string
	var calls atomic.Int32
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		got = append(got, r.Method+" "+r.Header.Get("Version"))
		w.WriteHeader(http.StatusBadGateway)
	}), WithMaxRetries(3))
	for _, tc := range []struct {
		name  string
		cl    call
		sends int32
		first string
	}{
		{"zero value", call{path: "new/endpoint", params: url.Values{"a": {"1"}}}, 1, "POST 1.0"},
		{"explicit POST", call{method: http.MethodPost, path: "new/endpoint"}, 1, "POST 1.0"},
		{"GET", call{method: http.MethodGet, path: "new/endpoint"}, 4, "GET 1.0"},
		{"idempotent POST", call{method: http.MethodPost, path: "new/endpoint", idempotent: true}, 4, "POST 1.0"},
		{"version", call{method: http.MethodGet, path: "download_bill", version: "3.0"}, 4, "GET 3.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			got = nil
			var out json.RawMessage
			_, err := c.do(context.Background(), tc.cl, &out)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.sends, calls.Load())
			assert.Equal(t, tc.first, got[0])
		})
	}
}

func TestPlaceOrderIsRetriedWhenNoConnectionWasMade(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL("http://"+addr+"/"), WithLogger(logger),
		WithMaxRetries(2), WithRetryBackoff(time.Millisecond))
	require.NoError(t, err)
	_, err = c.PlaceOrder(context.Background(), samplePlaceOrder())
	require.Error(t, err)
	assert.Equal(t, 3, strings.Count(logs.String(), `"level":"DEBUG"`), "three attempts: the order never left")
	assert.Equal(t, 2, strings.Count(logs.String(), `"level":"WARN"`))
}

// refundServer is a HipoPay that really refunds once per out_refund_id,
// answers the first refund only after the client gave up, and answers
// result code 0001 to a duplicate.
type refundServer struct {
	mu      sync.Mutex
	refunds map[string]string // out_refund_id -> amount
	posts   int
	delay   time.Duration
}

func (s *refundServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.Form.Get("out_refund_id")
	refund := func(code, status string) string {
		b, _ := json.Marshal(map[string]any{"is_success": true, "return_message": "OK", "response": map[string]string{
			"refund_no": "R-" + id, "out_refund_id": id, "payment_no": "2637473637382", "refund_amount": s.refunds[id],
			"status": status, "result_code": code, "finish_time": "2021-12-23 19:22:14"}})
		return string(b)
	}
	switch r.Method {
	case http.MethodPost:
		s.posts++
		if _, dup := s.refunds[id]; dup {
			_, _ = w.Write([]byte(refund("0001", "FAIL")))
			return
		}
		s.refunds[id] = r.Form.Get("refund_amount")
		first := s.posts == 1
		s.mu.Unlock()
		if first {
			time.Sleep(s.delay) // the answer is lost to the client's timeout
		}
		s.mu.Lock()
		_, _ = w.Write([]byte(refund("0000", "SUCCESS")))
	case http.MethodGet:
		if _, ok := s.refunds[id]; !ok {
			_, _ = w.Write([]byte(`{"is_success": false, "error": "REFUND_NOT_FOUND", "error_message": "Refund order not found"}`))
			return
		}
		_, _ = w.Write([]byte(refund("0000", "SUCCESS")))
	}
}

func TestRefundLostToATimeoutComesBackOnce(t *testing.T) {
	srv := &refundServer{refunds: map[string]string{}, delay: 400 * time.Millisecond}
	hc := &http.Client{Timeout: 150 * time.Millisecond}
	c, _ := newServerClient(t, srv, WithHTTPClient(hc))
	r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "2637473637382", OutRefundID: "R1", RefundAmount: "8.88"})
	require.NoError(t, err)
	assert.Equal(t, "R1", r.OutRefundID)
	assert.Equal(t, RefundStatusSuccess, r.Status)
	assert.Equal(t, "8.88", r.RefundAmount)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Len(t, srv.refunds, 1, "exactly one refund")
	assert.Equal(t, 2, srv.posts, "the refund was retried once")
}

func TestRefundAlreadyExistsOnAFirstAttempt(t *testing.T) {
	srv := &refundServer{refunds: map[string]string{"R2": "8.80"}}
	c, _ := newServerClient(t, srv)
	// A merchant that crashed after sending R2 sends it again.
	r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "2637473637382", OutRefundID: "R2", RefundAmount: "8.8"})
	require.NoError(t, err)
	assert.Equal(t, "8.80", r.RefundAmount)

	_, err = c.Refund(context.Background(), &RefundRequest{PaymentNo: "2637473637382", OutRefundID: "R2", RefundAmount: "1.00"})
	var conflict *RefundConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, "8.80", conflict.Existing.RefundAmount)
	_, err = c.Refund(context.Background(), &RefundRequest{PaymentNo: "999", OutRefundID: "R2", RefundAmount: "8.80"})
	require.ErrorAs(t, err, &conflict)
	assert.Len(t, srv.refunds, 1)
}

func TestHostileAnswers(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	cases := map[string]struct {
		status int
		body   string
		ctype  string
	}{
		"html 502":          {502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", "text/html"},
		"html 200":          {200, "<!DOCTYPE html><html>login</html>", "text/html"},
		"truncated json":    {200, `{"is_success": true, "response": {"currency": "US`, "application/json"},
		"empty":             {200, "", "application/json"},
		"json array":        {200, `[{"is_success": true}]`, "application/json"},
		"json string":       {200, `"ok"`, "application/json"},
		"null":              {200, `null`, "application/json"},
		"no is_success":     {200, `{"response": {"currency": "USD"}}`, "application/json"},
		"no response":       {200, `{"is_success": true}`, "application/json"},
		"response is array": {200, `{"is_success": true, "response": [1, 2]}`, "application/json"},
		"is_success weird":  {200, `{"is_success": "maybe", "response": {}}`, "application/json"},
		"huge garbage":      {200, long, "text/plain"},
		"error in 500":      {500, `{"is_success": false, "error": "SYSTEM_ERROR", "error_message": "boom"}`, "application/json"},
		"success in 404":    {404, `{"is_success": true, "response": {"currency": "USD"}}`, "application/json"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}), WithMaxRetries(0))
			rate, err := c.GetForexRate(context.Background(), USD)
			require.Error(t, err)
			assert.Nil(t, rate)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.LessOrEqual(t, len(apiErr.Body), errorSnippetBytes+3)
			assert.LessOrEqual(t, len(err.Error()), 600)
		})
	}
}

func TestLogsAttemptsAndRetriesWithoutSecrets(t *testing.T) {
	var calls atomic.Int32
	var signatures []string
	var mu sync.Mutex
	const certID, name = "510921199308772318", "Lisa Wong"
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		signatures = append(signatures, r.Header.Get("Signature"))
		mu.Unlock()
		if r.Method == http.MethodGet && calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"is_success": false, "error": "SYSTEM_ERROR", "error_message": "cert_id ` + certID + ` rejected"}`))
			return
		}
		_, _ = w.Write([]byte(`{"is_success": true, "response": {"state": "SUCCESS", "customs": "SHENZHEN"}}`))
	}))
	var logs bytes.Buffer
	c.logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	_, err := c.GetDeclaration(context.Background(), DeclarationQuery{PaymentNo: "1", Customs: CustomsShenzhen})
	require.NoError(t, err)
	req := &DeclarationRequest{OutOrderNo: "1", PaymentNo: "2", Customs: CustomsShenzhen, MchCustomsNo: "3",
		SubOrderNo: "4", SubOrderAmount: "2.00", TransportAmount: "1.00", ProductAmount: "1.00", CertID: certID, Name: name}
	_, declareErr := c.Declare(context.Background(), req)
	require.Error(t, declareErr)
	_, validationErr := c.Declare(context.Background(), &DeclarationRequest{CertID: certID})
	require.Error(t, validationErr)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var debug, warn int
	for _, line := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		switch rec["level"] {
		case "DEBUG":
			debug++
			for _, k := range []string{"method", "path", "status", "duration", "attempt"} {
				assert.Contains(t, rec, k, line)
			}
		case "WARN":
			warn++
			assert.Contains(t, rec, "cause")
		}
	}
	assert.Equal(t, 3, debug, "one line per attempt")
	assert.Equal(t, 1, warn, "one line per retry")

	pkcs8 := base64.StdEncoding.EncodeToString(merchantKey(t).D.Bytes())
	everything := logs.String() + declareErr.Error() + validationErr.Error()
	for _, secret := range append(signatures, name, pkcs8[:40]) {
		require.NotEmpty(t, secret)
		assert.NotContains(t, everything, secret)
	}
	assert.NotContains(t, everything, certID, "not even when HipoPay echoes it")
}

func TestCanceledContextStopsAtOnce(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}), WithRetryBackoff(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err := c.GetPayment(ctx, PaymentQuery{PaymentNo: "1"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled))
	assert.EqualValues(t, 1, calls.Load())
}

// A transport error that does not prove the request never left (httpmock's
// errors, a reset) must not re-send an order or a declaration.
func TestUnprovenTransportErrorsDoNotResendOrders(t *testing.T) {
	c, mock := newMockClient(t)
	mock.RegisterResponder(http.MethodPost, ProductionBaseURL+"wechatpay/mini_program/payment",
		func(*http.Request) (*http.Response, error) { return nil, errors.New("connection reset by peer") })
	_, err := c.PlaceOrder(context.Background(), samplePlaceOrder())
	require.Error(t, err)
	assert.Equal(t, 1, mock.GetTotalCallCount())

	// A read is retried on the same error.
	mock.RegisterResponder(http.MethodGet, ProductionBaseURL+"payment",
		func(*http.Request) (*http.Response, error) { return nil, errors.New("connection reset by peer") })
	_, err = c.GetPayment(context.Background(), PaymentQuery{PaymentNo: "1"})
	require.Error(t, err)
	assert.Equal(t, 1+3, mock.GetTotalCallCount())
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	target := other.BaseURL()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Redirect(w, r, target+"steal", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL(srv.URL+"/"), WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c.PlaceOrder(context.Background(), samplePlaceOrder())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTemporaryRedirect, apiErr.StatusCode)
	assert.EqualValues(t, 1, calls.Load())
	assert.Zero(t, elsewhere.Load(), "the signed order went nowhere else")
}

// An injected client never follows a redirect either: neither the signed
// order nor a declaration's buyer identity reaches the other host, and the
// caller's client is left as it was.
func TestRedirectsAreNotFollowedWithAnInjectedClient(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	var followed atomic.Int32
	follow := func(*http.Request, []*http.Request) error { followed.Add(1); return nil }
	hc := &http.Client{Timeout: 5 * time.Second, CheckRedirect: follow}
	c, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL(srv.URL+"/"), WithHTTPClient(hc), WithMaxRetries(0))
	require.NoError(t, err)

	_, err = c.PlaceOrder(context.Background(), samplePlaceOrder())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTemporaryRedirect, apiErr.StatusCode)
	_, err = c.Declare(context.Background(), &DeclarationRequest{OutOrderNo: "1", PaymentNo: "2", Customs: CustomsShenzhen,
		MchCustomsNo: "3", SubOrderNo: "4", SubOrderAmount: "2.00", TransportAmount: "1.00", ProductAmount: "1.00",
		CertID: "510921199308772318", Name: "李小龙"})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTemporaryRedirect, apiErr.StatusCode)

	assert.EqualValues(t, 2, calls.Load())
	assert.Zero(t, elsewhere.Load(), "nothing reached the other host")
	assert.Zero(t, followed.Load(), "the caller's CheckRedirect was never asked")
	require.NotNil(t, hc.CheckRedirect)
	assert.Equal(t, reflect.ValueOf(follow).Pointer(), reflect.ValueOf(hc.CheckRedirect).Pointer(), "the caller's client is untouched")
}

func TestEchoedIdentityIsRedactedEverywhere(t *testing.T) {
	const certID, name = "510921199308772318", "李 小龙"
	for label, body := range map[string]string{
		"near the snippet's end": "<html>" + strings.Repeat("x", errorSnippetBytes-8) + certID + "</html>",
		"form-encoded":           "<html>bad name " + url.QueryEscape(name) + "</html>",
		"rfc3986":                "<html>bad name " + strings.ReplaceAll(url.QueryEscape(name), "+", "%20") + "</html>",
		"json-escaped":           `{"is_success": false, "error": "X", "error_message": "bad \u674e \u5c0f\u9f99 ` + certID + `"}`,
	} {
		t.Run(label, func(t *testing.T) {
			c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(body))
			}))
			_, err := c.Declare(context.Background(), &DeclarationRequest{OutOrderNo: "1", PaymentNo: "2", Customs: CustomsShenzhen,
				MchCustomsNo: "3", SubOrderNo: "4", SubOrderAmount: "2.00", TransportAmount: "1.00", ProductAmount: "1.00",
				CertID: certID, Name: name})
			require.Error(t, err)
			for _, leak := range []string{certID, certID[:12], name, url.QueryEscape(name)} {
				assert.NotContains(t, err.Error(), leak)
			}
		})
	}
}

func TestUnreadableAnswerIsAnAPIError(t *testing.T) {
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"is_success": true, "resp`))
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}), WithMaxRetries(0))
	_, err := c.GetForexRate(context.Background(), USD)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusOK, apiErr.StatusCode)
	assert.Contains(t, apiErr.Body, `{"is_success": true`)

	big, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"is_success": true, "response": {"currency": "` + strings.Repeat("U", maxResponseBytes) + `"}}`))
	}))
	_, err = big.GetForexRate(context.Background(), USD)
	require.ErrorAs(t, err, &apiErr)
	assert.LessOrEqual(t, len(apiErr.Body), errorSnippetBytes+3)
}

// A Retry-After date is real time, whatever the client's clock says.
func TestRetryAfterDateIgnoresTheInjectedClock(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", time.Now().Add(time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(forexOK))
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.GetForexRate(ctx, USD)
	require.NoError(t, err)
	assert.EqualValues(t, 2, calls.Load())
}
