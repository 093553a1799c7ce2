package hipopay

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Reading and verifying a notification: forgeries, bodies, Content-Types, limits, re-cuts, HipoPay's own notifications.

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

	// Unknown length (chunked) bodies are read too, and so are bodies
	// whose Content-Length is wrong: the buffer grows with what arrives.
	for _, length := range []int64{-1, 1, int64(len(body)) - 1, int64(len(body)) + 1, 4096} {
		r = notifyRequest(http.MethodPost, fields, ts, sig)
		r.ContentLength = length
		n, err = ParseNotificationRequest(f.pub, r, 0)
		require.NoError(t, err, "Content-Length %d", length)
		assert.Equal(t, fields.Get("payment_no"), n.PaymentNo)
	}
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
	"a=%26", "a=1%26b%3D2", "a%26b=1", "a%3Db=1", "a=b%3Dc", "%3d=", "a=%2526",
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
// ';' written %3B. Fields that could be cut another way are refused.
func checkFormParser(t *testing.T, body string) {
	t.Helper()
	want, wantErr := url.ParseQuery(strings.ReplaceAll(body, ";", "%3B"))
	got, err := parseNotificationBody(body)
	if wantErr != nil {
		require.Error(t, err, "%q: url.ParseQuery refuses it: %v", body, wantErr)
		require.ErrorIs(t, err, ErrMalformedNotification, "%q", body)
		return
	}
	if checkOneCut(want) != nil {
		// A name holding '&' or '=', a value holding '&': refused.
		require.ErrorIs(t, err, ErrAmbiguousNotification, "%q", body)
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

// stallingBody sends head, then blocks until release is closed and ends
// the body with an error (the peer gave up). It records the largest
// buffer a Read was offered: what the reader allocated before bytes came.
type stallingBody struct {
	head    []byte
	release chan struct{}
	maxBuf  int
	reads   int
}

func (b *stallingBody) Read(p []byte) (int, error) {
	b.reads++
	b.maxBuf = max(b.maxBuf, len(p))
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	<-b.release
	return 0, io.ErrUnexpectedEOF
}

func (b *stallingBody) Close() error { return nil }

func TestNotificationBodyBufferGrowsWithWhatArrives(t *testing.T) {
	// A request claiming 1 MiB that sends 10 bytes and stalls must not
	// have 1 MiB allocated for it (issue 10, item 3).
	f := newNotifyFixture(t)
	for _, layer := range []string{"ParseNotificationRequest", "handler"} {
		body := &stallingBody{head: []byte("status=PAI"), release: make(chan struct{})}
		close(body.release) // stalls end at once here: what counts is the buffer offered
		r := rawNotifyRequest(http.MethodPost, "", "1700000123", "AAAA")
		r.Body = body
		r.ContentLength = 1 << 20
		if layer == "handler" {
			var calls callCounter
			w := serveNotify(NewNotificationHandler(f.pub, calls.fn), r)
			assert.Equal(t, http.StatusBadRequest, w.Code)
		} else {
			_, err := ParseNotificationRequest(f.pub, r, 0)
			assert.ErrorIs(t, err, ErrMalformedNotification)
		}
		assert.LessOrEqual(t, body.maxBuf, 4096, "%s: a buffer of %d bytes was offered for a body that sent 10", layer, body.maxBuf)
	}
}

func TestNotificationStalledBodiesOverTCPHoldLittleMemory(t *testing.T) {
	// 16 connections claim 1 MiB each, send 10 bytes and stall: the heap
	// must not hold a buffer of the claimed size for each.
	f := newNotifyFixture(t)
	const conns = 16
	entered := make(chan struct{}, conns)
	h := NewNotificationHandler(f.pub, (&callCounter{}).fn)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for range conns {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		open = append(open, c)
		_, err = fmt.Fprintf(c, "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTimestamp: 1700000123\r\nSignature: AAAA\r\nContent-Length: %d\r\n\r\nstatus=PAI", 1<<20)
		require.NoError(t, err)
	}
	for range conns {
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the requests did not reach the handler")
		}
	}
	time.Sleep(100 * time.Millisecond) // each handler is now blocked reading
	grown := int64(heap()) - int64(before)
	t.Logf("heap grew by %d KiB for %d stalled bodies", grown>>10, conns)
	assert.Less(t, grown, int64(4<<20), "stalled bodies pin memory by their claimed Content-Length")
}
