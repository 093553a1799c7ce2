package hipopay

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// notifyFixture holds the fake HipoPay key pair and the notification vectors.
type notifyFixture struct {
	pub    *rsa.PublicKey
	signer *Signer
	vf     vectorFile
}

func newNotifyFixture(t testing.TB) notifyFixture {
	t.Helper()
	signer, err := NewSigner(mustPrivateKey(t, "fake_hipopay_private.pem"))
	require.NoError(t, err)
	return notifyFixture{pub: mustPublicKey(t, "fake_hipopay_public.pem"), signer: signer, vf: loadVectors(t, "notification_vectors.json")}
}

// vector returns the fields, timestamp and signature of the named vector.
func (f notifyFixture) vector(t testing.TB, name string) (url.Values, string, string) {
	t.Helper()
	for _, c := range f.vf.Cases {
		if c.Name == name {
			return valuesOf(c.Params), c.Timestamp, c.Signature
		}
	}
	t.Fatalf("no vector %q", name)
	return nil, "", ""
}

// sign signs fields and ts as HipoPay does, with the fake HipoPay key.
func (f notifyFixture) sign(t testing.TB, fields url.Values, ts string) string {
	t.Helper()
	sig, err := f.signer.SignString(NotificationStringToSign(fields, ts))
	require.NoError(t, err)
	return sig
}

// notifyRequest builds a notification POST with a form body; an empty ts or
// sig leaves that header out.
func notifyRequest(method string, fields url.Values, ts, sig string) *http.Request {
	r := httptest.NewRequest(method, "/hipopay/notify", strings.NewReader(fields.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if ts != "" {
		r.Header.Set("Timestamp", ts)
	}
	if sig != "" {
		r.Header.Set("Signature", sig)
	}
	return r
}

// signedRequest is notifyRequest for fields freshly signed with ts.
func (f notifyFixture) signedRequest(t testing.TB, fields url.Values, ts string) *http.Request {
	t.Helper()
	return notifyRequest(http.MethodPost, fields, ts, f.sign(t, fields, ts))
}

func serveNotify(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// callCounter is a NotificationFunc that counts its calls.
type callCounter struct{ n atomic.Int32 }

func (c *callCounter) fn(context.Context, *PaymentNotification) error { c.n.Add(1); return nil }

func assertSuccess(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "success", w.Body.String())
}

func TestParseNotificationVectors(t *testing.T) {
	f := newNotifyFixture(t)
	client, err := NewClient("1000001", mustPrivateKey(t, "merchant_private_pkcs8.pem"), WithHipoPayPublicKey(f.pub))
	require.NoError(t, err)

	fields, ts, sig := f.vector(t, "paid_basic")
	n, err := client.ParseNotification(notifyRequest(http.MethodPost, fields, ts, sig))
	require.NoError(t, err)
	assert.Equal(t, PaymentStatusPaid, n.Status)
	assert.Equal(t, "MINIPROGRAM", n.TradeType)
	assert.Equal(t, "0.881890", n.ExchangeRate)
	assert.Equal(t, "2023111418154204114199308", n.PaymentNo)
	assert.Equal(t, "201901021232211023", n.OutTradeID)
	assert.Equal(t, HKD, n.Currency)
	assert.Equal(t, HKD, n.SettleCurrency)
	assert.Equal(t, CNY, n.PayCurrency)
	assert.Equal(t, "8.88", n.Amount)
	assert.Equal(t, "7.83", n.PayAmount)
	assert.Equal(t, ts, n.Timestamp)
	assert.Equal(t, fields, n.Fields)
	assert.Empty(t, n.PayRate)
	assert.Nil(t, n.PromotionDetail)

	// Times are in UTC+8, with the wall clock as sent.
	for _, tm := range []time.Time{n.TradeTime, n.FinishTime} {
		_, offset := tm.Zone()
		assert.Equal(t, 8*60*60, offset)
		_, offset = time.Unix(0, 0).In(tm.Location()).Zone()
		assert.Equal(t, 8*60*60, offset, "the location is a fixed UTC+8")
	}
	assert.Equal(t, "2023-11-14 18:15:42", n.TradeTime.Format("2006-01-02 15:04:05"))
	assert.Equal(t, "2023-11-14 18:15:59", n.FinishTime.Format("2006-01-02 15:04:05"))
	assert.True(t, n.TradeTime.Equal(time.Date(2023, 11, 14, 10, 15, 42, 0, time.UTC)))

	fields, ts, sig = f.vector(t, "paid_response_version_3")
	n, err = ParseNotificationRequest(f.pub, notifyRequest(http.MethodPost, fields, ts, sig), 0)
	require.NoError(t, err)
	assert.Equal(t, "2023111418200004114199309", n.PaymentNo)
	assert.Equal(t, "0.8719", n.PayRate)
	assert.Equal(t, "1.1469", n.PayRateReversed)
	assert.Equal(t, "CMB_DEBIT", n.BankType)
	assert.Equal(t, []Promotion{{ActivityID: "931386", Name: "coupon-6", Amount: "1", PromotionID: "109519", Scope: "GLOBAL", Type: "COUPON"}}, n.PromotionDetail)
	assert.Equal(t, fields, n.Fields)

	// The values layer gives the same result.
	n2, err := ParseNotificationForm(f.pub, fields, ts, sig)
	require.NoError(t, err)
	assert.Equal(t, n, n2)
}

func TestNotificationUnknownFieldsKept(t *testing.T) {
	f := newNotifyFixture(t)
	fields, _, _ := f.vector(t, "paid_basic")
	fields.Set("new_field", "a b&c=d+e")
	n, err := ParseNotificationRequest(f.pub, f.signedRequest(t, fields, "1700000999"), 0)
	require.NoError(t, err)
	assert.Equal(t, "a b&c=d+e", n.Fields.Get("new_field"))
}

func TestParseNotificationPromotionShapes(t *testing.T) {
	for name, tc := range map[string]struct {
		text string
		want []Promotion
	}{
		"empty":         {"", nil},
		"null":          {"null", nil},
		"empty array":   {"[]", []Promotion{}},
		"strings":       {`[{"activity_id":"1","amount":"0.50","type":"DISCOUNT"}]`, []Promotion{{ActivityID: "1", Amount: "0.50", Type: "DISCOUNT"}}},
		"numbers":       {`[{"activity_id":931386,"amount":1.5,"promotion_id":109519}]`, []Promotion{{ActivityID: "931386", Amount: "1.5", PromotionID: "109519"}}},
		"lone object":   {`{"name":"x","extra":{"a":1}}`, []Promotion{{Name: "x"}}},
		"python flavor": {`[{'name': 'x'}]`, nil},
	} {
		got, err := parsePromotions(tc.text)
		if name == "python flavor" {
			assert.Error(t, err, name)
			continue
		}
		require.NoError(t, err, name)
		assert.Equal(t, tc.want, got, name)
	}
}

func TestNotificationHandlerAcceptsVectors(t *testing.T) {
	f := newNotifyFixture(t)
	for _, c := range f.vf.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var got *PaymentNotification
			h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
				got = n
				return nil
			})
			fields, ts, sig := f.vector(t, c.Name)
			assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
			require.NotNil(t, got)
			assert.Equal(t, fields.Get("payment_no"), got.PaymentNo)
			assert.Equal(t, fields, got.Fields)
		})
	}
}

func TestNotificationHandlerRefusesForgeries(t *testing.T) {
	f := newNotifyFixture(t)
	wrongKey := mustPublicKey(t, "merchant_public.pem")
	for _, c := range f.vf.Cases {
		fields, ts, sig := f.vector(t, c.Name)
		type forgery struct {
			fields  url.Values
			ts, sig string
			pub     *rsa.PublicKey
		}
		cases := map[string]forgery{
			"timestamp missing":     {fields, "", sig, f.pub},
			"signature missing":     {fields, ts, "", f.pub},
			"both missing":          {fields, "", "", f.pub},
			"signature not base64":  {fields, ts, "not base64!", f.pub},
			"signature truncated":   {fields, ts, sig[:len(sig)-8], f.pub},
			"signature of other":    {fields, ts, f.sign(t, url.Values{"payment_no": {"1"}}, ts), f.pub},
			"timestamp changed":     {fields, ts + "1", sig, f.pub},
			"wrong key":             {fields, ts, sig, wrongKey},
			"no key":                {fields, ts, sig, nil},
			"signature overlong":    {fields, ts, strings.Repeat("A", 8192), f.pub},
			"field dropped":         {withoutField(fields, "out_trade_id"), ts, sig, f.pub},
			"empty body":            {url.Values{}, ts, sig, f.pub},
			"duplicate field value": {withField(fields, "amount", "0.01", true), ts, sig, f.pub},
		}
		for name := range fields {
			cases["tampered "+name] = forgery{withField(fields, name, fields.Get(name)+"0", false), ts, sig, f.pub}
		}
		cases["extra field"] = forgery{withField(fields, "extra", "1", false), ts, sig, f.pub}
		for name, tc := range cases {
			t.Run(c.Name+"/"+name, func(t *testing.T) {
				var calls callCounter
				h := NewNotificationHandler(tc.pub, calls.fn)
				w := serveNotify(h, notifyRequest(http.MethodPost, tc.fields, tc.ts, tc.sig))
				assert.Equal(t, http.StatusUnauthorized, w.Code)
				assert.Equal(t, "Unauthorized\n", w.Body.String())
				assert.Zero(t, calls.n.Load(), "fn must not run")

				_, err := ParseNotificationRequest(tc.pub, notifyRequest(http.MethodPost, tc.fields, tc.ts, tc.sig), 0)
				assert.ErrorIs(t, err, ErrInvalidSignature)
				if tc.sig != "" {
					assert.NotContains(t, err.Error(), tc.sig)
				}
			})
		}
	}
}

func withField(v url.Values, name, value string, add bool) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	if add {
		out.Add(name, value)
	} else {
		out.Set(name, value)
	}
	return out
}

func withoutField(v url.Values, name string) url.Values {
	out := withField(v, name, "", false)
	out.Del(name)
	return out
}

func TestNotificationHandlerContentTypes(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_response_version_3")
	for _, ct := range []string{"", "text/xml", "application/x-www-form-urlencoded; charset=utf-8", "text/plain", "application/json", "multipart/form-data"} {
		t.Run(ct, func(t *testing.T) {
			var calls callCounter
			h := NewNotificationHandler(f.pub, calls.fn)
			r := notifyRequest(http.MethodPost, fields, ts, sig)
			if ct == "" {
				r.Header.Del("Content-Type")
			} else {
				r.Header.Set("Content-Type", ct)
			}
			assertSuccess(t, serveNotify(h, r))
			assert.EqualValues(t, 1, calls.n.Load())
		})
	}
}

func TestNotificationBodyEncodings(t *testing.T) {
	// Spaces as %20 (RFC 3986, PHP rawurlencode) or '+' (forms) both decode
	// to the value HipoPay signed.
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	body := strings.ReplaceAll(fields.Encode(), "+", "%20")
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Timestamp", ts)
	r.Header.Set("Signature", sig)
	n, err := ParseNotificationRequest(f.pub, r, 0)
	require.NoError(t, err)
	assert.Equal(t, "2023-11-14 18:15:42", n.Fields.Get("trade_time"))

	// Unknown length (chunked) bodies are read too.
	r = notifyRequest(http.MethodPost, fields, ts, sig)
	r.ContentLength = -1
	_, err = ParseNotificationRequest(f.pub, r, 0)
	require.NoError(t, err)
}

func TestNotificationHandlerConcurrentDuplicates(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var calls, running atomic.Int32
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
		if running.Add(1) != 1 {
			t.Error("fn runs concurrently for one payment")
		}
		defer running.Add(-1)
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	const deliveries = 32
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]*httptest.ResponseRecorder, deliveries)
	for i := range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := notifyRequest(http.MethodPost, fields, ts, sig)
			<-start
			results[i] = serveNotify(h, r)
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, calls.Load())
	for _, w := range results {
		assertSuccess(t, w)
	}
	// A later delivery is acknowledged without calling fn.
	assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
	assert.EqualValues(t, 1, calls.Load())
}

func TestNotificationHandlerDistinctPaymentsInParallel(t *testing.T) {
	// The lock is per payment: two payments run fn at the same time.
	f := newNotifyFixture(t)
	a, tsA, sigA := f.vector(t, "paid_basic")
	b, tsB, sigB := f.vector(t, "paid_response_version_3")
	both := make(chan struct{})
	var arrived atomic.Int32
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
		if arrived.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("the other payment never ran")
		}
	})
	var wg sync.WaitGroup
	for _, r := range []*http.Request{notifyRequest(http.MethodPost, a, tsA, sigA), notifyRequest(http.MethodPost, b, tsB, sigB)} {
		wg.Add(1)
		go func() { defer wg.Done(); assertSuccess(t, serveNotify(h, r)) }()
	}
	wg.Wait()
}

func TestNotificationHandlerRetriesAfterFailure(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var calls atomic.Int32
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
		if calls.Add(1) == 1 {
			return errors.New("database is down: secret-dsn")
		}
		return nil
	})
	w := serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig))
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.NotContains(t, w.Body.String(), "secret-dsn")
	assert.NotContains(t, w.Body.String(), "success")
	assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
	assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
	assert.EqualValues(t, 2, calls.Load())
}

func TestNotificationHandlerRecoversPanic(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var logs bytes.Buffer
	var calls atomic.Int32
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	}, WithHandlerLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	w := serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig))
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.NotContains(t, w.Body.String(), "boom")
	assert.Contains(t, logs.String(), "boom")

	// The lock was released and nothing was recorded: the next delivery
	// runs fn, promptly.
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)) }()
	select {
	case w = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the panic left the payment locked")
	}
	assertSuccess(t, w)
	assert.EqualValues(t, 2, calls.Load())
	assert.NotContains(t, logs.String(), sig)
}

func TestNotificationHandlerBodyLimit(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var calls callCounter

	h := NewNotificationHandler(f.pub, calls.fn, WithMaxBodyBytes(100))
	w := serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig))
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)

	// The default limit, 1 MiB, with and without a Content-Length.
	h = NewNotificationHandler(f.pub, calls.fn)
	big := withField(fields, "padding", strings.Repeat("x", 1<<20), false)
	for _, known := range []bool{true, false} {
		r := notifyRequest(http.MethodPost, big, ts, sig)
		if !known {
			r.ContentLength = -1
		}
		assert.Equal(t, http.StatusRequestEntityTooLarge, serveNotify(h, r).Code)
		_, err := ParseNotificationRequest(f.pub, notifyRequest(http.MethodPost, big, ts, sig), 0)
		assert.ErrorIs(t, err, ErrNotificationTooLarge)
		assert.False(t, errors.Is(err, ErrInvalidSignature))
	}
	// Exactly at the limit is read.
	body := fields.Encode()
	r := notifyRequest(http.MethodPost, fields, ts, sig)
	_, err := ParseNotificationRequest(f.pub, r, int64(len(body)))
	assert.NoError(t, err)

	// A body already limited by http.MaxBytesReader is too large as well.
	r = notifyRequest(http.MethodPost, fields, ts, sig)
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 10)
	r.ContentLength = -1
	_, err = ParseNotificationRequest(f.pub, r, 0)
	assert.ErrorIs(t, err, ErrNotificationTooLarge)
	assert.Zero(t, calls.n.Load())
}

func TestNotificationHandlerMethods(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var calls callCounter
	h := NewNotificationHandler(f.pub, calls.fn)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		w := serveNotify(h, notifyRequest(m, fields, ts, sig))
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		assert.Equal(t, http.MethodPost, w.Header().Get("Allow"), m)
	}
	assert.Zero(t, calls.n.Load())
}

func TestNotificationHandlerMalformed(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, _ := f.vector(t, "paid_basic")
	v3, _, _ := f.vector(t, "paid_response_version_3")

	// Bodies that are not forms: 400, before any signature check.
	for _, body := range []string{"a=%zz", "%", "a=1;b=2", "a=%G0"} {
		var calls callCounter
		h := NewNotificationHandler(f.pub, calls.fn)
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Timestamp", ts)
		r.Header.Set("Signature", "AAAA")
		assert.Equal(t, http.StatusBadRequest, serveNotify(h, r).Code, body)
		_, err := ParseNotificationRequest(f.pub, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)), 0)
		assert.ErrorIs(t, err, ErrMalformedNotification, body)
		assert.Zero(t, calls.n.Load())
	}

	// Signed notifications whose typed fields do not parse: 400, fn not
	// called. Unsigned, the same bodies are 401: verification comes first.
	for name, bad := range map[string]url.Values{
		"trade_time":         withField(fields, "trade_time", "yesterday", false),
		"finish_time":        withField(fields, "finish_time", "2023-13-45 99:00:00", false),
		"promotion_detail":   withField(v3, "promotion_detail", "[{", false),
		"promotion nested":   withField(v3, "promotion_detail", `[{"name":{"a":1}}]`, false),
		"payment_no missing": withoutField(fields, "payment_no"),
		"payment_no empty":   withField(fields, "payment_no", "", false),
	} {
		var calls callCounter
		h := NewNotificationHandler(f.pub, calls.fn)
		w := serveNotify(h, f.signedRequest(t, bad, ts))
		assert.Equal(t, http.StatusBadRequest, w.Code, name)
		assert.Equal(t, "Bad Request\n", w.Body.String(), name)
		_, err := ParseNotificationRequest(f.pub, f.signedRequest(t, bad, ts), 0)
		assert.ErrorIs(t, err, ErrMalformedNotification, name)
		assert.False(t, errors.Is(err, ErrInvalidSignature), name)

		w = serveNotify(h, notifyRequest(http.MethodPost, bad, ts, "AAAA"))
		assert.Equal(t, http.StatusUnauthorized, w.Code, name)
		assert.Zero(t, calls.n.Load(), name)
	}

	// Nothing panics on odd requests.
	_, err := ParseNotificationRequest(f.pub, nil, 0)
	assert.ErrorIs(t, err, ErrMalformedNotification)
	_, err = ParseNotificationRequest(f.pub, &http.Request{Method: http.MethodPost}, 0)
	assert.ErrorIs(t, err, ErrMalformedNotification)
	var nilClient *Client
	_, err = nilClient.ParseNotification(notifyRequest(http.MethodPost, fields, ts, "AAAA"))
	assert.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, serveNotify(nilClient.NotificationHandler(nil), notifyRequest(http.MethodPost, fields, ts, "AAAA")).Code)
}

func TestNotificationHandlerNilFunc(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	h := NewNotificationHandler(f.pub, nil)
	assert.Equal(t, http.StatusInternalServerError, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)).Code)
}

func TestNotificationHandlerTimestampTolerance(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic") // ts is 1700000123, in 2023
	sent := time.Unix(1700000123, 0)
	clockAt := func(t time.Time) func() time.Time { return func() time.Time { return t } }

	// Off by default: a delivery signed long ago is accepted.
	var calls callCounter
	assertSuccess(t, serveNotify(NewNotificationHandler(f.pub, calls.fn), notifyRequest(http.MethodPost, fields, ts, sig)))
	assertSuccess(t, serveNotify(NewNotificationHandler(f.pub, calls.fn, WithTimestampTolerance(0)), notifyRequest(http.MethodPost, fields, ts, sig)))

	for name, tc := range map[string]struct {
		now  time.Time
		want int
	}{
		"fresh":         {sent.Add(time.Minute), http.StatusOK},
		"a little fast": {sent.Add(-time.Minute), http.StatusOK},
		"stale":         {sent.Add(10 * time.Minute), http.StatusUnauthorized},
		"from future":   {sent.Add(-10 * time.Minute), http.StatusUnauthorized},
	} {
		var calls callCounter
		h := NewNotificationHandler(f.pub, calls.fn, WithTimestampTolerance(5*time.Minute), WithHandlerClock(clockAt(tc.now)))
		w := serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig))
		assert.Equal(t, tc.want, w.Code, name)
		assert.Equal(t, tc.want == http.StatusOK, calls.n.Load() == 1, name)
	}

	// A timestamp that is not Unix seconds, when checked: 401.
	h := NewNotificationHandler(f.pub, calls.fn, WithTimestampTolerance(5*time.Minute), WithHandlerClock(clockAt(sent)))
	odd := "2023-11-14 18:15:59"
	assert.Equal(t, http.StatusUnauthorized, serveNotify(h, notifyRequest(http.MethodPost, fields, odd, f.sign(t, fields, odd))).Code)

	// The client's handler uses the client's clock.
	for _, tc := range []struct {
		now  time.Time
		want int
	}{{sent.Add(time.Minute), http.StatusOK}, {sent.Add(time.Hour), http.StatusUnauthorized}} {
		client, err := NewClient("1000001", mustPrivateKey(t, "merchant_private_pkcs8.pem"), WithHipoPayPublicKey(f.pub), WithClock(clockAt(tc.now)))
		require.NoError(t, err)
		h := client.NotificationHandler(calls.fn, WithTimestampTolerance(5*time.Minute))
		assert.Equal(t, tc.want, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)).Code)
	}
}

func TestNotificationHandlerLogsNoSignature(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := NewClient("1000001", mustPrivateKey(t, "merchant_private_pkcs8.pem"), WithHipoPayPublicKey(f.pub), WithLogger(logger))
	require.NoError(t, err)
	fail := true
	h := client.NotificationHandler(func(ctx context.Context, n *PaymentNotification) error {
		if fail {
			fail = false
			return errors.New("not yet")
		}
		return nil
	})
	for _, r := range []*http.Request{
		notifyRequest(http.MethodPost, withField(fields, "amount", "0.01", false), ts, sig), // 401
		notifyRequest(http.MethodPost, fields, ts+"9", sig),                                 // 401
		notifyRequest(http.MethodGet, fields, ts, sig),                                      // 405
		notifyRequest(http.MethodPost, fields, ts, sig),                                     // 500
		notifyRequest(http.MethodPost, fields, ts, sig),                                     // 200
		notifyRequest(http.MethodPost, fields, ts, sig),                                     // 200, duplicate
	} {
		serveNotify(h, r)
	}
	out := logs.String()
	assert.Contains(t, out, "notification refused")
	assert.Contains(t, out, "not yet")
	assert.Contains(t, out, "notification acknowledged")
	assert.Contains(t, out, fields.Get("payment_no"))
	assert.NotContains(t, out, sig)
	assert.NotContains(t, out, sig[:16])

	// Silent without a logger: nothing to assert but that it does not fail.
	var calls callCounter
	assertSuccess(t, serveNotify(NewNotificationHandler(f.pub, calls.fn), notifyRequest(http.MethodPost, fields, ts, sig)))
}

// recordingStore is a NotificationStore that always runs fn and counts.
type recordingStore struct{ calls atomic.Int32 }

func (s *recordingStore) Process(ctx context.Context, paymentNo string, fn func(context.Context) error) (bool, error) {
	s.calls.Add(1)
	return true, fn(ctx)
}

func TestNotificationHandlerWithStore(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var store recordingStore
	var calls callCounter
	h := NewNotificationHandler(f.pub, calls.fn, WithStore(&store), WithStore(nil), WithMaxBodyBytes(-1), nil)
	for range 3 {
		assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
	}
	assert.EqualValues(t, 3, store.calls.Load())
	assert.EqualValues(t, 3, calls.n.Load())

	// A panicking store is answered 500, not a crash.
	h = NewNotificationHandler(f.pub, calls.fn, WithStore(panickingStore{}))
	assert.Equal(t, http.StatusInternalServerError, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)).Code)

	// Two handlers do not share their default store.
	var c1, c2 callCounter
	h1, h2 := NewNotificationHandler(f.pub, c1.fn), NewNotificationHandler(f.pub, c2.fn)
	assertSuccess(t, serveNotify(h1, notifyRequest(http.MethodPost, fields, ts, sig)))
	assertSuccess(t, serveNotify(h2, notifyRequest(http.MethodPost, fields, ts, sig)))
	assert.EqualValues(t, 1, c1.n.Load())
	assert.EqualValues(t, 1, c2.n.Load())
}

type panickingStore struct{}

func (panickingStore) Process(context.Context, string, func(context.Context) error) (bool, error) {
	panic("store bug")
}

// storeClock is a settable clock for the store's expiry.
type storeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *storeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *storeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMemoryStoreBounds(t *testing.T) {
	ctx := context.Background()
	clock := &storeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := NewMemoryStore(MemoryStoreOptions{TTL: time.Hour, MaxEntries: 3, Clock: clock.now})
	ok := func(context.Context) error { return nil }
	run := func(p string) bool {
		ran, err := s.Process(ctx, p, ok)
		require.NoError(t, err)
		return ran
	}

	// The cap: the oldest are forgotten first.
	for i := range 5 {
		assert.True(t, run(fmt.Sprint("p", i)))
		clock.add(time.Minute)
	}
	assert.Equal(t, 3, s.Len())
	assert.False(t, run("p4"))
	assert.False(t, run("p2"))
	assert.True(t, run("p0"), "p0 was evicted")
	assert.Equal(t, 3, s.Len())
	assert.False(t, run("p0"))

	// The TTL: processed entries expire.
	clock.add(59 * time.Minute) // p3, p4 recorded over an hour ago
	assert.Equal(t, 1, s.Len())
	assert.True(t, run("p3"))
	assert.False(t, run("p0"))
	clock.add(2 * time.Hour)
	assert.Equal(t, 0, s.Len())
	assert.True(t, run("p0"))

	// Failures and panics record nothing and leave no lock.
	_, err := s.Process(ctx, "f", func(context.Context) error { return errors.New("no") })
	assert.Error(t, err)
	assert.Panics(t, func() { _, _ = s.Process(ctx, "f", func(context.Context) error { panic("no") }) })
	assert.True(t, run("f"))
	s.mu.Lock()
	assert.Empty(t, s.inflight)
	assert.Len(t, s.done, s.order.Len())
	s.mu.Unlock()

	// Many payments never hold more than the cap.
	big := NewMemoryStore(MemoryStoreOptions{MaxEntries: 100})
	for i := range 1000 {
		_, _ = big.Process(ctx, fmt.Sprint(i), ok)
	}
	assert.Equal(t, 100, big.Len())
	assert.Len(t, big.done, 100)

	// Defaults.
	d := NewMemoryStore(MemoryStoreOptions{TTL: -1, MaxEntries: -1})
	assert.Equal(t, DefaultMemoryStoreTTL, d.ttl)
	assert.Equal(t, DefaultMemoryStoreMaxEntries, d.max)
}

func TestMemoryStoreWaiterGivesUp(t *testing.T) {
	s := NewMemoryStore(MemoryStoreOptions{})
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_, _ = s.Process(context.Background(), "p", func(context.Context) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ran, err := s.Process(ctx, "p", func(context.Context) error { t.Error("ran twice"); return nil })
	assert.False(t, ran)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	close(release)
	require.Eventually(t, func() bool { return s.Len() == 1 }, 5*time.Second, time.Millisecond)
}

func TestMemoryStoreWaitersRunAfterFailure(t *testing.T) {
	// Waiting duplicates of a failed run: one of them runs fn again.
	s := NewMemoryStore(MemoryStoreOptions{})
	var calls atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.Process(context.Background(), "p", func(context.Context) error {
				time.Sleep(5 * time.Millisecond)
				if calls.Add(1) == 1 {
					return errors.New("first fails")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 2, calls.Load())
}

func FuzzParseNotificationRequest(f *testing.F) {
	fx := newNotifyFixture(f)
	for _, c := range fx.vf.Cases {
		f.Add(valuesOf(c.Params).Encode(), c.Timestamp, c.Signature)
	}
	f.Add("a=%zz&b", "", "")
	f.Add("promotion_detail=%5B%7B&payment_no=1", "1", "AAAA")
	f.Fuzz(func(t *testing.T, body, ts, sig string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Timestamp", ts)
		r.Header.Set("Signature", sig)
		n, err := ParseNotificationRequest(fx.pub, r, 4096)
		if err == nil {
			require.NotEmpty(t, n.PaymentNo)
		} else if len(sig) >= 16 {
			require.NotContains(t, err.Error(), sig)
		}
		_, _ = parsePromotions(body)
	})
}

// promotionInputs are promotion_detail texts for the fast path and the
// encoding/json path.
var promotionInputs = []string{
	`[]`, ` [ ] `, `[{}]`, `{}`, `{"name":"x"}`,
	`[{"activity_id": "931386", "name": "coupon-6", "amount": 1, "promotion_id": "109519", "scope": "GLOBAL", "type": "COUPON"}]`,
	`[{"activity_id":931386,"amount":1.5e2,"promotion_id":-0},{"name":"b","amount":"0.50"}]`,
	"[\n\t{\"name\" : \"优惠券\" ,\"amount\":0.01}\r\n]",
	`[{"name":"a","name":"b"}]`,
	`[{"Name":"mis-cased"}]`, `[{"other":"unknown"}]`, `[{"name":null}]`, `[{"name":true}]`,
	`[{"name":"esc\"aped"}]`, `[{"name":"\u00fc"}]`, "[{\"name\":\"bad \xff utf8\"}]",
	`[{"amount":01}]`, `[{"amount":1.}]`, `[{"amount":.5}]`, `[{"amount":1e}]`, `[{"amount":+1}]`, `[{"amount":-}]`,
	`[{"name":"x"},]`, `[{"name":"x",}]`, `[{"name":"x"}`, `[{"name":"x"}] x`, `[{"name" "x"}]`, `[{"name":"x"}{}]`,
	`[{'name': 'x'}]`, `[{"name":{"a":1}}]`, `[[]]`, `[1]`, `{"name":"x"}]`, `[`, `{`, `"x"`,
}

func TestScanPromotionsAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range promotionInputs {
		checkPromotionPaths(t, in)
	}
	// The fast path takes what HipoPay sends.
	_, ok := scanPromotions(promotionInputs[5])
	assert.True(t, ok)
}

func checkPromotionPaths(t *testing.T, in string) {
	t.Helper()
	fast, ok := scanPromotions(in)
	slow, err := decodePromotions(in)
	if ok {
		require.NoError(t, err, "the fast path accepted what encoding/json refuses: %q", in)
		require.Equal(t, slow, fast, "%q", in)
	}
	got, err := parsePromotions(in)
	if err == nil {
		if ok {
			require.Equal(t, fast, got, "%q", in)
		} else {
			require.Equal(t, slow, got, "%q", in)
		}
	}
}

func FuzzScanPromotions(f *testing.F) {
	for _, in := range promotionInputs {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkPromotionPaths(t, strings.TrimSpace(in))
	})
}
