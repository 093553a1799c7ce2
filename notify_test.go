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
	for _, body := range []string{"a=%zz", "%", "a=%G0", "a=1;b=%", "x%2=1"} {
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

	// A signed notification without payment_no: 400, fn not called.
	// Unsigned, the same bodies are 401: verification comes first.
	for name, bad := range map[string]url.Values{
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

	// Unsigned notifications with odd typed fields: still 401.
	for _, bad := range []url.Values{
		withField(fields, "trade_time", "yesterday", false),
		withField(v3, "promotion_detail", "[{", false),
	} {
		var calls callCounter
		h := NewNotificationHandler(f.pub, calls.fn)
		assert.Equal(t, http.StatusUnauthorized, serveNotify(h, notifyRequest(http.MethodPost, bad, ts, "AAAA")).Code)
		assert.Zero(t, calls.n.Load())
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

func TestNotificationSignedWithUnparsableFields(t *testing.T) {
	// HipoPay signed it: refusing would have it delivered again and again,
	// and the paid order never processed. fn gets it, the field zero and
	// named in Unparsed; the handler warns, naming the field, not the value.
	f := newNotifyFixture(t)
	fields, ts, _ := f.vector(t, "paid_basic")
	v3, _, _ := f.vector(t, "paid_response_version_3")
	for name, tc := range map[string]struct {
		fields url.Values
		field  string
		value  string
	}{
		"trade_time other layout": {withField(fields, "trade_time", "2023/11/14 18:15:42", false), "trade_time", "2023/11/14 18:15:42"},
		"trade_time words":        {withField(fields, "trade_time", "yesterday", false), "trade_time", "yesterday"},
		"finish_time":             {withField(fields, "finish_time", "2023-13-45 99:00:00", false), "finish_time", "2023-13-45 99:00:00"},
		"promotion_detail":        {withField(v3, "promotion_detail", "[{", false), "promotion_detail", "[{"},
		"promotion nested":        {withField(v3, "promotion_detail", `[{"name":{"a":1}}]`, false), "promotion_detail", `[{"name":{"a":1}}]`},
	} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			var got *PaymentNotification
			h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
				got = n
				return nil
			}, WithHandlerLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			assertSuccess(t, serveNotify(h, f.signedRequest(t, tc.fields, ts)))
			require.NotNil(t, got, "fn must run")
			assert.Equal(t, []string{tc.field}, got.Unparsed)
			assert.Equal(t, tc.value, got.Fields.Get(tc.field), "the raw value stays in Fields")
			assert.Equal(t, tc.fields.Get("payment_no"), got.PaymentNo)
			switch tc.field {
			case "trade_time":
				assert.True(t, got.TradeTime.IsZero())
				assert.False(t, got.FinishTime.IsZero(), "the other fields are typed as usual")
			case "finish_time":
				assert.True(t, got.FinishTime.IsZero())
				assert.False(t, got.TradeTime.IsZero())
			case "promotion_detail":
				assert.Nil(t, got.PromotionDetail)
				assert.Equal(t, "CMB_DEBIT", got.BankType)
			}
			out := logs.String()
			assert.Contains(t, out, `"level":"WARN"`)
			assert.Contains(t, out, `"field":"`+tc.field+`"`)
			assert.NotContains(t, out, strings.Trim(fmt.Sprintf("%q", tc.value), `"`), "the value is not logged")

			n, err := ParseNotificationRequest(f.pub, f.signedRequest(t, tc.fields, ts), 0)
			require.NoError(t, err)
			assert.Equal(t, []string{tc.field}, n.Unparsed)
			n, err = ParseNotificationForm(f.pub, tc.fields, ts, f.sign(t, tc.fields, ts))
			require.NoError(t, err)
			assert.Equal(t, []string{tc.field}, n.Unparsed)
		})
	}

	// All three at once, in order.
	bad := withField(withField(withField(v3, "trade_time", "x", false), "finish_time", "y", false), "promotion_detail", "z", false)
	n, err := ParseNotificationRequest(f.pub, f.signedRequest(t, bad, ts), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"trade_time", "finish_time", "promotion_detail"}, n.Unparsed)

	// The vectors parse: Unparsed is nil.
	good, _, _ := f.vector(t, "paid_response_version_3")
	n, err = ParseNotificationRequest(f.pub, f.signedRequest(t, good, ts), 0)
	require.NoError(t, err)
	assert.Nil(t, n.Unparsed)
}

func TestNotificationHandlerDeduplicatesPerStatus(t *testing.T) {
	// A non-PAID notification that fn acknowledged must not make the
	// payment's later PAID notification a duplicate.
	f := newNotifyFixture(t)
	paid, ts, _ := f.vector(t, "paid_basic")
	closed := withField(paid, "status", "CLOSED", false)
	var statuses []PaymentStatus
	var mu sync.Mutex
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
		mu.Lock()
		defer mu.Unlock()
		statuses = append(statuses, n.Status)
		return nil
	})
	for _, fields := range []url.Values{closed, closed, paid, paid, closed} {
		assertSuccess(t, serveNotify(h, f.signedRequest(t, fields, ts)))
	}
	assert.Equal(t, []PaymentStatus{"CLOSED", PaymentStatusPaid}, statuses)

	// The keys the store sees.
	var store keyRecordingStore
	h = NewNotificationHandler(f.pub, func(context.Context, *PaymentNotification) error { return nil }, WithStore(&store))
	for _, fields := range []url.Values{paid, closed, withoutField(paid, "status")} {
		assertSuccess(t, serveNotify(h, f.signedRequest(t, fields, ts)))
	}
	p := paid.Get("payment_no")
	assert.Equal(t, []string{p, p + "\x00CLOSED", p + "\x00"}, store.keys)
}

// keyRecordingStore is a NotificationStore that runs fn and keeps the keys.
type keyRecordingStore struct {
	mu   sync.Mutex
	keys []string
}

func (s *keyRecordingStore) Process(ctx context.Context, key string, fn func(context.Context) error) (bool, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	return true, fn(ctx)
}

func TestNotificationRawSemicolon(t *testing.T) {
	// A value HipoPay sends with a raw ';' (not percent-encoded) is text,
	// as HipoPay signed it; url.ParseQuery would refuse the body.
	f := newNotifyFixture(t)
	fields, ts, _ := f.vector(t, "paid_response_version_3")
	fields.Set("bank_type", "A;B")
	sig := f.sign(t, fields, ts)
	body := strings.ReplaceAll(fields.Encode(), "%3B", ";")
	require.Contains(t, body, "bank_type=A;B")
	newReq := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hipopay/notify", strings.NewReader(body))
		r.Header.Set("Timestamp", ts)
		r.Header.Set("Signature", sig)
		return r
	}
	var got *PaymentNotification
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error { got = n; return nil })
	assertSuccess(t, serveNotify(h, newReq()))
	require.NotNil(t, got)
	assert.Equal(t, "A;B", got.BankType)
	assert.Equal(t, fields, got.Fields)
	n, err := ParseNotificationRequest(f.pub, newReq(), 0)
	require.NoError(t, err)
	assert.Equal(t, "A;B", n.BankType)
}

// formBodies are bodies for comparing parseNotificationBody with
// url.ParseQuery.
var formBodies = []string{
	"", "&", "&&", "=", "a", "a=", "=b", "a=b", "a=b&", "&a=b", "a=b&&c=d", "a=b=c", "a==",
	"a=1&a=2&b=3&a=4", "a+b=c+d", "a%20b=c%20d", "%41=%42", "a=%e4%bd%a0%E5%A5%BD", "a=%zz", "a=%", "a=%4", "%=1",
	"a=1;b=2", "a=;", ";", "a;b=c", "a=%3B", "x=\n", "x=1\r\n", "a=\xff", "a=%ff", "+=+", "a=b+%2B+c",
	"status=PAID&amount=8.88&payment_no=2023111418154204114199308&trade_time=2023-11-14+18%3A15%3A42",
}

func TestParseNotificationBodyMatchesParseQuery(t *testing.T) {
	for _, body := range formBodies {
		checkFormParser(t, body)
	}
	// A raw ';' is text.
	got, err := parseNotificationBody("bank_type=A;B&a=1;;2&;=;")
	require.NoError(t, err)
	assert.Equal(t, url.Values{"bank_type": {"A;B"}, "a": {"1;;2"}, ";": {";"}}, got)
	// Repeated names keep their values in order, without clobbering.
	got, err = parseNotificationBody("a=1&b=2&a=3&c=4&a=5")
	require.NoError(t, err)
	assert.Equal(t, url.Values{"a": {"1", "3", "5"}, "b": {"2"}, "c": {"4"}}, got)
	// The same bound on the number of pairs as url.ParseQuery.
	_, err = parseNotificationBody(strings.Repeat("a=1&", maxNotificationFields))
	assert.ErrorIs(t, err, ErrMalformedNotification)
	_, err = parseNotificationBody(strings.Repeat("a=1&", maxNotificationFields-1) + "a=1")
	assert.NoError(t, err)
}

// checkFormParser compares parseNotificationBody with url.ParseQuery: on a
// body without ';' they agree exactly (both refuse, or both give the same
// fields); on a body with ';' the result is url.ParseQuery's with every
// ';' written %3B.
func checkFormParser(t *testing.T, body string) {
	t.Helper()
	want, wantErr := url.ParseQuery(strings.ReplaceAll(body, ";", "%3B"))
	got, err := parseNotificationBody(body)
	if wantErr != nil {
		require.Error(t, err, "%q: url.ParseQuery refuses it: %v", body, wantErr)
		require.ErrorIs(t, err, ErrMalformedNotification, "%q", body)
		return
	}
	require.NoError(t, err, "%q", body)
	require.Equal(t, want, got, "%q", body)
	if !strings.Contains(body, ";") {
		direct, derr := url.ParseQuery(body)
		require.NoError(t, derr)
		require.Equal(t, direct, got, "%q", body)
	}
}

func FuzzParseNotificationBody(f *testing.F) {
	for _, body := range formBodies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkFormParser(t, body)
	})
}

func TestNotificationAfterParseForm(t *testing.T) {
	// Middleware that called r.ParseForm left an empty body: the handler
	// verifies r.PostForm instead of refusing with a misleading 401.
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_response_version_3")
	consumed := func(fields url.Values, sig string) *http.Request {
		r := notifyRequest(http.MethodPost, fields, ts, sig)
		require.NoError(t, r.ParseForm())
		return r
	}
	var calls callCounter
	h := NewNotificationHandler(f.pub, calls.fn)
	assertSuccess(t, serveNotify(h, consumed(fields, sig)))
	assert.EqualValues(t, 1, calls.n.Load())
	n, err := ParseNotificationRequest(f.pub, consumed(fields, sig), 0)
	require.NoError(t, err)
	assert.Equal(t, fields, n.Fields)
	assert.Equal(t, "2023111418200004114199309", n.PaymentNo)

	// A body set to nil after ParseForm too.
	r := consumed(fields, sig)
	r.Body = nil
	_, err = ParseNotificationRequest(f.pub, r, 0)
	require.NoError(t, err)

	// r.PostForm is verified like a body: tampered, it is refused.
	r = consumed(fields, sig)
	r.PostForm.Set("amount", "0.01")
	assert.Equal(t, http.StatusUnauthorized, serveNotify(NewNotificationHandler(f.pub, calls.fn), r).Code)
	assert.EqualValues(t, 1, calls.n.Load())

	// An empty body without PostForm is still refused.
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(""))
	r.Header.Set("Timestamp", ts)
	r.Header.Set("Signature", sig)
	assert.Equal(t, http.StatusUnauthorized, serveNotify(NewNotificationHandler(f.pub, calls.fn), r).Code)
}

func TestNotificationTrailingLineBreak(t *testing.T) {
	// A proxy appended a line break to the body: the last value would end
	// with it. Verified once more without it, the notification is taken,
	// with the values HipoPay signed.
	f := newNotifyFixture(t)
	for _, name := range benchVectors {
		fields, ts, sig := f.vector(t, name)
		for _, tail := range []string{"\n", "\r\n", "\r\n\r\n", "&\n"} {
			newReq := func(sig string) *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/hipopay/notify", strings.NewReader(fields.Encode()+tail))
				r.Header.Set("Timestamp", ts)
				r.Header.Set("Signature", sig)
				return r
			}
			var got *PaymentNotification
			h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error { got = n; return nil })
			assertSuccess(t, serveNotify(h, newReq(sig)))
			require.NotNil(t, got, "%s %q", name, tail)
			assert.Equal(t, fields, got.Fields, "%s %q", name, tail)
			n, err := ParseNotificationRequest(f.pub, newReq(sig), 0)
			require.NoError(t, err, "%s %q", name, tail)
			assert.Equal(t, fields, n.Fields)

			// Forged, it is still refused.
			forged := f.sign(t, url.Values{"payment_no": {"1"}}, ts)
			assert.Equal(t, http.StatusUnauthorized, serveNotify(h, newReq(forged)).Code)
			_, err = ParseNotificationRequest(f.pub, newReq(forged), 0)
			assert.ErrorIs(t, err, ErrInvalidSignature)
		}
	}

	// What HipoPay signed with a line break in the value is taken as is.
	fields, ts, _ := f.vector(t, "paid_basic")
	fields.Set("trade_type", "MINIPROGRAM\n")
	body := fields.Encode() // ...&trade_type=MINIPROGRAM%0A
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.TrimSuffix(body, "%0A")+"\n"))
	r.Header.Set("Timestamp", ts)
	r.Header.Set("Signature", f.sign(t, fields, ts))
	n, err := ParseNotificationRequest(f.pub, r, 0)
	require.NoError(t, err)
	assert.Equal(t, "MINIPROGRAM\n", n.TradeType)
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
