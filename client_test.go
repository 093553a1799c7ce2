package hipopay

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewClientDefaults(t *testing.T) {
	c, err := NewClient(testMerchantNo, merchantKey(t))
	require.NoError(t, err)
	assert.Equal(t, ProductionBaseURL, c.BaseURL())
	prod, err := ParsePublicKey(productionCallbackKeyPEM)
	require.NoError(t, err)
	assert.True(t, c.HipoPayPublicKey().Equal(prod))
	assert.Equal(t, defaultTimeout, c.hc.Timeout)
	dt, ok := c.hc.Transport.(*defaultTransport)
	require.True(t, ok)
	tr := dt.tuned
	require.NotNil(t, tr)
	assert.Same(t, http.DefaultTransport, dt.seen)
	assert.GreaterOrEqual(t, tr.MaxIdleConnsPerHost, 16)
	assert.False(t, tr.DisableKeepAlives)
	if tr.TLSClientConfig != nil {
		// Cloned from http.DefaultTransport: only the HTTP/2 protocols are
		// set; TLS settings are Go's defaults, never weakened.
		cfg := tr.TLSClientConfig.Clone()
		cfg.NextProtos = nil
		assert.Equal(t, &tls.Config{}, cfg, "TLS settings are Go's defaults, never weakened")
	}

	sb, err := NewClient(testMerchantNo, merchantKey(t), WithSandbox())
	require.NoError(t, err)
	assert.Equal(t, SandboxBaseURL, sb.BaseURL())
	sandboxKey, err := ParsePublicKey(sandboxCallbackKeyPEM)
	require.NoError(t, err)
	assert.True(t, sb.HipoPayPublicKey().Equal(sandboxKey))
	assert.False(t, sandboxKey.Equal(prod))

	// Overrides win whatever their order.
	own := mustPublicKey(t, "fake_hipopay_public.pem")
	o, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL("https://hipopay.example/api"), WithHipoPayPublicKey(own), WithSandbox())
	require.NoError(t, err)
	assert.Equal(t, "https://hipopay.example/api/", o.BaseURL())
	assert.True(t, o.HipoPayPublicKey().Equal(own))

	hc := &http.Client{}
	i, err := NewClient(testMerchantNo, merchantKey(t), WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Same(t, hc, i.hc, "an injected client is used as given")
}

func TestNewClientRefuses(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	key := merchantKey(t)
	cases := map[string]struct {
		merchant string
		key      *rsa.PrivateKey
		opts     []Option
	}{
		"empty merchant":    {"", key, nil},
		"blank merchant":    {"  ", key, nil},
		"spaced merchant":   {"HP 1", key, nil},
		"nil key":           {testMerchantNo, nil, nil},
		"weak key":          {testMerchantNo, weak, nil},
		"bad URL":           {testMerchantNo, key, []Option{WithBaseURL("://nope")}},
		"relative URL":      {testMerchantNo, key, []Option{WithBaseURL("api.hipopay.com")}},
		"ftp URL":           {testMerchantNo, key, []Option{WithBaseURL("ftp://api.hipopay.com/")}},
		"nil http client":   {testMerchantNo, key, []Option{WithHTTPClient(nil)}},
		"nil callback key":  {testMerchantNo, key, []Option{WithHipoPayPublicKey(nil)}},
		"weak callback key": {testMerchantNo, key, []Option{WithHipoPayPublicKey(&weak.PublicKey)}},
		"negative retries":  {testMerchantNo, key, []Option{WithMaxRetries(-1)}},
		"nil clock":         {testMerchantNo, key, []Option{WithClock(nil)}},
		"nil logger":        {testMerchantNo, key, []Option{WithLogger(nil)}},
	}
	for name, tc := range cases {
		c, err := NewClient(tc.merchant, tc.key, tc.opts...)
		assert.Error(t, err, name)
		assert.Nil(t, c, name)
	}
}

func TestValidMerchantNo(t *testing.T) {
	for _, no := range []string{testMerchantNo, "HP-1", "M1"} {
		assert.NoError(t, ValidMerchantNo(no), "%q", no)
	}
	for _, no := range []string{"", "  ", "HP 1", " HP1", "HP1\t", "HP\n1", "HP\x001", "HP\x7f"} {
		assert.Error(t, ValidMerchantNo(no), "%q", no)
		_, err := NewClient(no, merchantKey(t))
		assert.Error(t, err, "NewClient refuses %q too", no)
	}
}

func TestClockDrivesTimestamp(t *testing.T) {
	var got string
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Timestamp")
		_, _ = w.Write([]byte(`{"is_success": true, "response": {"currency": "USD", "forex_rate": "0.149"}}`))
	}), WithClock(func() time.Time { return time.Unix(1700000000, 999) }))
	_, err := c.GetForexRate(context.Background(), USD)
	require.NoError(t, err)
	assert.Equal(t, "1700000000", got)
}

// countingServer is an httptest server that counts the TCP connections
// clients open to it.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestConnectionsAreReused(t *testing.T) {
	const answer = `{"is_success": true, "response": {"currency": "USD", "forex_rate": "0.1490046489450470854690666349"}}`
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond) // a little server time, so that callers overlap
		_, _ = w.Write([]byte(answer))
	}))
	c, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL(srv.URL+"/"))
	require.NoError(t, err)
	ctx := context.Background()

	for i := 0; i < 100; i++ {
		_, err := c.GetForexRate(ctx, USD)
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, conns.Load(), "100 sequential calls use one connection")

	conns.Store(0)
	const callers, calls = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, callers*calls)
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				if _, err := c.GetForexRate(ctx, USD); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Logf("%d concurrent callers x %d calls opened %d connections", callers, calls, conns.Load())
	assert.LessOrEqual(t, conns.Load(), int64(2*callers), "16 concurrent callers open at most about twice as many connections")
}

// Error answers are drained too: the connection survives them.
func TestConnectionsSurviveErrorAnswers(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"is_success": false, "error": "PAYMENT_NOT_FOUND", "error_message": "Order not found"}`))
	}))
	c, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL(srv.URL+"/"))
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		_, err := c.GetPayment(context.Background(), PaymentQuery{PaymentNo: "1"})
		require.ErrorIs(t, err, ErrPaymentNotFound)
	}
	assert.EqualValues(t, 1, conns.Load())
}

func TestCallbackPublicKeyAndRetryBackoffOption(t *testing.T) {
	sandbox, err := CallbackPublicKey(true)
	require.NoError(t, err)
	prod, err := CallbackPublicKey(false)
	require.NoError(t, err)
	assert.False(t, sandbox.Equal(prod))
	c, err := NewClient(testMerchantNo, merchantKey(t), WithSandbox())
	require.NoError(t, err)
	assert.True(t, c.HipoPayPublicKey().Equal(sandbox))

	_, err = NewClient(testMerchantNo, merchantKey(t), WithRetryBackoff(0))
	assert.Error(t, err)
	c, err = NewClient(testMerchantNo, merchantKey(t), WithRetryBackoff(time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, time.Millisecond, c.backoffBase)
}

func TestEmptyKeysAreRefusedWithoutPanic(t *testing.T) {
	_, err := NewClient(testMerchantNo, &rsa.PrivateKey{})
	assert.Error(t, err)
	_, err = NewClient(testMerchantNo, merchantKey(t), WithHipoPayPublicKey(&rsa.PublicKey{}))
	assert.Error(t, err)
	_, err = (&Signer{}).Sign(nil, "1")
	assert.Error(t, err)
	assert.ErrorIs(t, VerifySignature(&rsa.PublicKey{}, "x", "AAAA"), ErrInvalidSignature)
	_, err = NewClient("WC 888", merchantKey(t))
	assert.Error(t, err)
	_, err = NewClient("WC888\r\nX: 1", merchantKey(t))
	assert.Error(t, err)
}

func TestSandboxBaseURLMeansTheSandboxKey(t *testing.T) {
	c, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL(SandboxBaseURL))
	require.NoError(t, err)
	sandbox, err := CallbackPublicKey(true)
	require.NoError(t, err)
	assert.True(t, c.HipoPayPublicKey().Equal(sandbox))
	assert.True(t, c.Sandbox())
}

// httpmock.Activate() (what most merchants' tests do) intercepts a client
// built with no options: the default transport sends through
// http.DefaultTransport while it is not the one NewClient saw.
func TestHTTPMockActivateInterceptsTheDefaultClient(t *testing.T) {
	httpmock.Activate()
	t.Cleanup(httpmock.DeactivateAndReset)
	httpmock.RegisterResponder(http.MethodGet, "https://hipopay.invalid/wechatpay/forex_rate",
		httpmock.NewStringResponder(http.StatusOK, forexOK))
	httpmock.RegisterResponder(http.MethodGet, ProductionBaseURL+"wechatpay/forex_rate",
		httpmock.NewStringResponder(http.StatusOK, forexOK))

	c, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL("https://hipopay.invalid/"))
	require.NoError(t, err)
	r, err := c.GetForexRate(context.Background(), USD)
	require.NoError(t, err)
	assert.Equal(t, "0.149", r.Rate)
	assert.Equal(t, 1, httpmock.GetTotalCallCount())

	plain, err := NewClient(testMerchantNo, merchantKey(t))
	require.NoError(t, err)
	_, err = plain.GetForexRate(context.Background(), USD)
	require.NoError(t, err)
	assert.Equal(t, 2, httpmock.GetTotalCallCount())
	assert.Equal(t, defaultTimeout, plain.hc.Timeout, "the default timeout stays")
}

// A client built with no options before httpmock.Activate() is
// intercepted too: the default transport looks at http.DefaultTransport
// when it sends. After httpmock.DeactivateAndReset it sends to the network
// again (here a real httptest server), through its own tuned transport.
func TestHTTPMockActivateAfterTheClientWasBuilt(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"is_success": true, "response": {"currency": "USD", "forex_rate": "0.5"}}`))
	}))
	c, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL(srv.URL+"/"))
	require.NoError(t, err)
	ctx := context.Background()
	r, err := c.GetForexRate(ctx, USD)
	require.NoError(t, err)
	assert.Equal(t, "0.5", r.Rate, "before Activate: the real server")

	httpmock.Activate()
	t.Cleanup(httpmock.DeactivateAndReset)
	httpmock.RegisterResponder(http.MethodGet, srv.URL+"/wechatpay/forex_rate",
		httpmock.NewStringResponder(http.StatusOK, forexOK))
	r, err = c.GetForexRate(ctx, USD)
	require.NoError(t, err)
	assert.Equal(t, "0.149", r.Rate, "after Activate: the mock")
	assert.Equal(t, 1, httpmock.GetTotalCallCount())

	httpmock.DeactivateAndReset()
	r, err = c.GetForexRate(ctx, USD)
	require.NoError(t, err)
	assert.Equal(t, "0.5", r.Rate, "after DeactivateAndReset: the real server again")
	assert.EqualValues(t, 1, conns.Load(), "through the tuned transport, whose connection was kept")
}

// rtFunc is a RoundTripper of a type that cannot be compared.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Whatever replaces http.DefaultTransport (a value that cannot be
// compared, nil), the default transport does not panic: it sends through
// the replacement, or fails with an error.
func TestDefaultTransportSurvivesOddReplacements(t *testing.T) {
	orig := http.DefaultTransport
	t.Cleanup(func() { http.DefaultTransport = orig })
	c, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL("https://hipopay.invalid/"), WithMaxRetries(0))
	require.NoError(t, err)

	http.DefaultTransport = rtFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(forexOK)), Request: r}, nil
	})
	r, err := c.GetForexRate(context.Background(), USD)
	require.NoError(t, err)
	assert.Equal(t, "0.149", r.Rate)

	http.DefaultTransport = nil
	_, err = c.GetForexRate(context.Background(), USD)
	assert.ErrorContains(t, err, "http.DefaultTransport is nil")

	// Built while the replacement is in place, then the original is back:
	// sent through the original as it is.
	http.DefaultTransport = rtFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("replaced") })
	c2, err := NewClient(testMerchantNo, merchantKey(t), WithBaseURL("https://hipopay.invalid/"), WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c2.GetForexRate(context.Background(), USD)
	assert.ErrorContains(t, err, "replaced")
	http.DefaultTransport = rtFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("the original") })
	_, err = c2.GetForexRate(context.Background(), USD)
	assert.ErrorContains(t, err, "the original")
}

// httpmock.ActivateNonDefault(hc) with WithHTTPClient(hc) intercepts too,
// even when the mock is swapped in after the client was built.
func TestHTTPMockActivateNonDefaultWithAnInjectedClient(t *testing.T) {
	hc := &http.Client{}
	c, err := NewClient(testMerchantNo, merchantKey(t), WithHTTPClient(hc), WithBaseURL("https://hipopay.invalid/"))
	require.NoError(t, err)
	httpmock.ActivateNonDefault(hc)
	t.Cleanup(httpmock.DeactivateAndReset)
	mock := hc.Transport.(*httpmock.MockTransport)
	mock.RegisterResponder(http.MethodGet, "https://hipopay.invalid/wechatpay/forex_rate",
		httpmock.NewStringResponder(http.StatusOK, forexOK))
	r, err := c.GetForexRate(context.Background(), USD)
	require.NoError(t, err)
	assert.Equal(t, "0.149", r.Rate)
	assert.Equal(t, 1, mock.GetTotalCallCount())
}

func TestNewClientErrorPrefixNotDoubled(t *testing.T) {
	_, err := NewClient("M1", nil)
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), "hipopay:"), err.Error())
}
