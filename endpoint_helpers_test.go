package hipopay

// Helpers of the endpoint tests (payment_test.go, refund_test.go,
// declaration_test.go, bill_download_test.go): an httpmock-backed client that
// records every request as HipoPay would receive it, and assertions on that
// wire, on validation errors and on HipoPay's error answers.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mockBaseURL is where a client made by newMockClient sends its requests.
const mockBaseURL = ProductionBaseURL

// wireRequest is one request as HipoPay received it.
type wireRequest struct {
	Request *http.Request
	Params  url.Values // parsed from Raw
	Raw     string     // the raw query of a GET, the raw form body of a POST
	BodyLen int        // bytes of body received (a GET must have none)
}

// wireMock is an httpmock transport whose answers record every request in
// the order received. A request no answer was registered for fails the
// test (and still counts in GetTotalCallCount).
type wireMock struct {
	t    testing.TB
	mock *httpmock.MockTransport
	mu   sync.Mutex
	reqs []wireRequest
}

// newWireMock returns a client calling the production URL through httpmock
// with the fixed test clock (Timestamp "1550548767").
func newWireMock(t testing.TB, opts ...Option) (*Client, *wireMock) {
	t.Helper()
	c, mock := newMockClient(t, opts...)
	w := &wireMock{t: t, mock: mock}
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		w.record(r)
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		return nil, errors.New("test: no answer registered for " + r.Method + " " + r.URL.Path)
	})
	return c, w
}

func (w *wireMock) record(r *http.Request) wireRequest {
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(r.Body)
		if err != nil {
			w.t.Errorf("reading request body: %v", err)
		}
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	raw := string(body)
	if r.Method == http.MethodGet {
		raw = r.URL.RawQuery
	}
	params, err := url.ParseQuery(raw)
	if err != nil {
		w.t.Errorf("parameters %q do not parse: %v", raw, err)
	}
	wr := wireRequest{Request: r, Params: params, Raw: raw, BodyLen: len(body)}
	w.mu.Lock()
	w.reqs = append(w.reqs, wr)
	w.mu.Unlock()
	return wr
}

// on answers every method request to path (relative to the base URL)
// with status and body.
func (w *wireMock) on(method, path string, status int, body string) {
	w.onFunc(method, path, func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, body)
		resp.Header.Set("Content-Type", "application/json; charset=utf-8")
		return resp, nil
	})
}

// onFunc answers every method request to path with fn, after recording it.
func (w *wireMock) onFunc(method, path string, fn func(*http.Request) (*http.Response, error)) {
	w.mock.RegisterResponder(method, mockBaseURL+path, func(r *http.Request) (*http.Response, error) {
		w.record(r)
		return fn(r)
	})
}

// requests returns every request received so far, in order.
func (w *wireMock) requests() []wireRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]wireRequest(nil), w.reqs...)
}

// single returns the one request received, failing unless there was
// exactly one.
func (w *wireMock) single(t testing.TB) wireRequest {
	t.Helper()
	reqs := w.requests()
	require.Len(t, reqs, 1, "requests received")
	return reqs[0]
}

// calls is httpmock's count of requests that reached the transport.
func (w *wireMock) calls() int { return w.mock.GetTotalCallCount() }

// values turns a map of single values into url.Values.
func values(m map[string]string) url.Values {
	v := url.Values{}
	for k, s := range m {
		v.Set(k, s)
	}
	return v
}

// assertWire checks one request on the wire: method, URL, content type,
// the four signed headers (Signature verifying under
// testdata/merchant_public.pem over exactly the received parameters), the
// exact parameter set, and that the query or body is the canonical,
// signed string itself (sorted, RFC 3986-encoded).
func assertWire(t testing.TB, got wireRequest, method, path, version string, want map[string]string) {
	t.Helper()
	r := got.Request
	require.Equal(t, method, r.Method)
	assert.Equal(t, "https", r.URL.Scheme)
	assert.Equal(t, "api.hipopay.com", r.URL.Host)
	assert.Equal(t, "/"+path, r.URL.Path)
	switch method {
	case http.MethodGet:
		assert.Zero(t, got.BodyLen, "a GET has no body")
	case http.MethodPost:
		assert.Empty(t, r.URL.RawQuery, "a POST has no query")
		assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"),
			"Content-Type %q", r.Header.Get("Content-Type"))
	}
	assertSigned(t, r, version)
	assert.Equal(t, values(want), got.Params, "parameters sent")
	assert.Equal(t, buildCanonical(got.Params, valuesDocumented), got.Raw, "sent exactly as signed")
	assert.Equal(t, StringToSign(got.Params, r.Header.Get("Timestamp")), got.Raw+","+r.Header.Get("Timestamp"))
}

// assertInvalid checks a validation failure: a *ValidationError naming the
// wire field, matching ErrInvalidRequest, and no request sent.
func assertInvalid(t testing.TB, w *wireMock, err error, field string) {
	t.Helper()
	require.Error(t, err)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve, "error %v", err)
	assert.Equal(t, field, ve.Field, "error %v", err)
	assert.NotEmpty(t, ve.Reason)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	var ae *APIError
	assert.False(t, errors.As(err, &ae), "a validation error is not an *APIError")
	assert.Zero(t, w.calls(), "no request may be sent")
	assert.Empty(t, w.requests(), "no request may be sent")
}

// documentedSentinels are the sentinels of every documented error code.
var documentedSentinels = []*APIError{
	ErrPaymentNotFound, ErrRefundNotFound, ErrCurrencyNotSupported,
	ErrForexMerchantNotSupportThisCurrency, ErrRefundAmountInvalid, ErrIllegalSecurityProfile,
}

// assertAPIError checks that err is an *APIError with the given status,
// code and message, that errors.Is matches sentinel (nil: none) and no
// other documented sentinel, and that it is not a validation error.
func assertAPIError(t testing.TB, err error, status int, code, message string, sentinel *APIError) {
	t.Helper()
	require.Error(t, err)
	var ae *APIError
	require.ErrorAs(t, err, &ae, "error %v", err)
	assert.Equal(t, status, ae.StatusCode)
	assert.Equal(t, code, ae.Code)
	assert.Equal(t, message, ae.Message)
	for _, s := range documentedSentinels {
		if s == sentinel {
			assert.ErrorIs(t, err, s)
		} else {
			assert.NotErrorIs(t, err, s, "matches %s", s.Code)
		}
	}
	assert.NotErrorIs(t, err, ErrInvalidRequest)
	if code != "" {
		assert.Contains(t, err.Error(), code)
	}
}

// errorBody is HipoPay's error answer as valid JSON.
func errorBody(code, message string) string {
	return `{"is_success": false, "error": "` + code + `", "error_message": "` + message + `"}`
}

// pythonErrorBody is HipoPay's error answer as the reference prints it:
// Python's False, a space before a colon, a trailing comma.
func pythonErrorBody(code, message string) string {
	return "{\n\"is_success\": False,\n\"error\": \"" + code + "\",\n\"error_message\" : \"" + message + "\",\n}"
}

// errorAnswer is one way HipoPay may answer an error.
type errorAnswer struct {
	name   string
	status int
	body   string
}

// errorAnswers are the shapes of an error answer every endpoint must
// decode: valid JSON and the reference's Python-flavoured text, under HTTP
// 200 and 400 (neither is retried).
func errorAnswers(code, message string) []errorAnswer {
	return []errorAnswer{
		{"json/200", http.StatusOK, errorBody(code, message)},
		{"python/200", http.StatusOK, pythonErrorBody(code, message)},
		{"json/400", http.StatusBadRequest, errorBody(code, message)},
		{"python/400", http.StatusBadRequest, pythonErrorBody(code, message)},
		{"string-false/200", http.StatusOK, `{"is_success": "False", "error": "` + code + `", "error_message": "` + message + `"}`},
	}
}

// assertChinaTime checks that got is in UTC+8 and that its wall clock
// there is text ("2006-01-02 15:04:05").
func assertChinaTime(t testing.TB, got time.Time, text string) {
	t.Helper()
	require.False(t, got.IsZero(), "time %s is zero", text)
	_, offset := got.Zone()
	assert.Equal(t, 8*60*60, offset, "offset of %s", got)
	assert.Equal(t, text, got.Format("2006-01-02 15:04:05"))
	want, err := time.Parse("2006-01-02 15:04:05 -0700", text+" +0800")
	require.NoError(t, err)
	assert.True(t, want.Equal(got), "instant: want %s, got %s", want.UTC(), got.UTC())
}

// badAmounts are amounts refused in a two-decimal currency.
var badAmounts = []string{
	"1e3", "-1", "0.00", "0", "8.888", "1.", ".5", " 1", "1 ", "1,00", "１", "+1",
	"0x10", "NaN", "Inf", "1.2.3", "1_000", "--1", "-0.01", "0.000", "99999999999999999999",
}

// signingCase is one case of testdata/request_signing_vectors.json, made by
// an independent implementation (Python and the openssl CLI).
type signingCase struct {
	Name         string      `json:"name"`
	Method       string      `json:"method"`
	Path         string      `json:"path"`
	Version      string      `json:"version"`
	Timestamp    string      `json:"timestamp"`
	Params       [][2]string `json:"params"`
	StringToSign string      `json:"string_to_sign"`
	Signature    string      `json:"signature"`
}

// signingVector returns the named case of the request signing vectors.
func signingVector(t testing.TB, name string) signingCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "request_signing_vectors.json"))
	require.NoError(t, err)
	var f struct {
		Cases []signingCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	for _, c := range f.Cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no signing vector %q", name)
	return signingCase{}
}

// vectorClock is a clock stopped at a vector's timestamp.
func vectorClock(t testing.TB, timestamp string) func() time.Time {
	t.Helper()
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	require.NoError(t, err)
	return func() time.Time { return time.Unix(secs, 0) }
}

// assertMatchesVector checks that a request the SDK sent is, byte for
// byte, the vector's: same method, path, version, parameters, timestamp,
// to-be-signed string and signature.
func assertMatchesVector(t testing.TB, got wireRequest, tc signingCase) {
	t.Helper()
	r := got.Request
	version := tc.Version
	if version == "" {
		version = "1.0"
	}
	assert.Equal(t, tc.Method, r.Method)
	assert.Equal(t, "/"+tc.Path, r.URL.Path)
	assert.Equal(t, testMerchantNo, r.Header.Get("MerchantNO"))
	assert.Equal(t, version, r.Header.Get("Version"))
	assert.Equal(t, tc.Timestamp, r.Header.Get("Timestamp"))
	assert.Equal(t, valuesOf(tc.Params), got.Params)
	assert.Equal(t, tc.StringToSign, got.Raw+","+r.Header.Get("Timestamp"))
	assert.Equal(t, tc.Signature, r.Header.Get("Signature"))
}
