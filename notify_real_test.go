package hipopay

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HipoPay's own two signed notifications (testdata/real_notifications.json):
// re-cut replays refused, every Content-Type, the wrong keys, every changed
// byte.

// recuts returns re-cuts of a real notification: the same signed string
// cut into other fields (issue 10, item 1). Each verifies under HipoPay's
// signature unless the cut is refused.
func recuts(n realNotification) map[string]url.Values {
	f := n.fields()
	p, settle, status := f.Get("payment_no"), f.Get("settle_currency"), f.Get("status")
	out := map[string]url.Values{}
	// payment_no swallows settle_currency: another deduplication key.
	v := withoutField(f, "settle_currency")
	v.Set("payment_no", p+"&settle_currency="+settle)
	out["payment_no swallows settle_currency"] = v
	// settle_currency swallows status: status empty, another key.
	v = withoutField(f, "status")
	v.Set("settle_currency", settle+"&status="+status)
	out["settle_currency swallows status"] = v
	// Both at once.
	v = withoutField(withoutField(f, "status"), "settle_currency")
	v.Set("payment_no", p+"&settle_currency="+settle+"&status="+status)
	out["payment_no swallows two"] = v
	// trade_time swallows trade_type: the same key, a different field set.
	v = withoutField(f, "trade_type")
	v.Set("trade_time", f.Get("trade_time")+"&trade_type="+f.Get("trade_type"))
	out["trade_time swallows trade_type"] = v
	// A name that holds '&' and '=': amount=1.00&currency=HKD cut as
	// {"amount=1.00&currency": "HKD"}.
	v = withoutField(withoutField(f, "amount"), "currency")
	v.Set("amount="+f.Get("amount")+"&currency", f.Get("currency"))
	out["name holds & and ="] = v
	return out
}

func TestNotificationRecutReplayRefused(t *testing.T) {
	for _, real := range loadRealNotifications(t) {
		pub := real.pub(t)
		signed := real.fields()
		var mu sync.Mutex
		var seen []url.Values
		h := NewNotificationHandler(pub, func(_ context.Context, n *PaymentNotification) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, n.Fields)
			return nil
		})
		assertSuccess(t, serveNotify(h, real.request()))
		for name, fields := range recuts(real) {
			// The attack works on the signature: the re-cut string is the
			// signed one.
			require.Equal(t, NotificationStringToSign(signed, real.Timestamp), NotificationStringToSign(fields, real.Timestamp), name)
			require.NoError(t, VerifyNotificationSignature(pub, fields, real.Timestamp, real.Signature), name)

			w := serveNotify(h, notifyRequest(http.MethodPost, fields, real.Timestamp, real.Signature))
			assert.Equal(t, http.StatusBadRequest, w.Code, "%s/%s", real.Name, name)
			assert.Equal(t, "Bad Request\n", w.Body.String())
		}
		mu.Lock()
		assert.Len(t, seen, 1, "%s: fn ran for re-cut replays", real.Name)
		for _, s := range seen {
			assert.Equal(t, signed, s, "fn saw another field set than HipoPay signed")
		}
		mu.Unlock()
	}
}

func TestNotificationRecutRefusedInEveryLayer(t *testing.T) {
	for _, real := range loadRealNotifications(t) {
		pub := real.pub(t)
		client, err := NewClient("1000001", mustPrivateKey(t, "merchant_private_pkcs8.pem"), WithHipoPayPublicKey(pub))
		require.NoError(t, err)
		for name, fields := range recuts(real) {
			req := func() *http.Request {
				return notifyRequest(http.MethodPost, fields, real.Timestamp, real.Signature)
			}
			_, err := ParseNotificationRequest(pub, req(), 0)
			assertRecutError(t, err, name)
			_, err = client.ParseNotification(req())
			assertRecutError(t, err, name)
			_, err = ParseNotificationForm(pub, fields, real.Timestamp, real.Signature)
			assertRecutError(t, err, name)
			// Middleware consumed the body: r.PostForm is checked too.
			r := req()
			require.NoError(t, r.ParseForm())
			_, err = ParseNotificationRequest(pub, r, 0)
			assertRecutError(t, err, name)
		}
		// Before any store is touched, and before verifying: a store that
		// records every call sees none, even with a bad signature.
		var store keyRecordingStore
		var calls callCounter
		h := NewNotificationHandler(pub, calls.fn, WithStore(&store))
		for name, fields := range recuts(real) {
			for _, sig := range []string{real.Signature, "AAAA"} {
				w := serveNotify(h, notifyRequest(http.MethodPost, fields, real.Timestamp, sig))
				assert.Equal(t, http.StatusBadRequest, w.Code, name)
			}
		}
		assert.Empty(t, store.keys)
		assert.Zero(t, calls.n.Load())
	}
}

func assertRecutError(t *testing.T, err error, name string) {
	t.Helper()
	require.Error(t, err, name)
	assert.ErrorIs(t, err, ErrAmbiguousNotification, name)
	assert.ErrorIs(t, err, ErrMalformedNotification, name)
	assert.NotErrorIs(t, err, ErrInvalidSignature, name)
}

// notificationContentTypes are the Content-Types a notification may arrive
// with: none, the form's, and wrong ones (HipoPay's own Node.js SDK warns
// of them). The body is a form whatever they say.
var notificationContentTypes = []string{
	"", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8",
	"application/json", "text/plain", "text/xml", "multipart/form-data; boundary=x",
}

func withContentType(r *http.Request, ct string) *http.Request {
	if ct == "" {
		r.Header.Del("Content-Type")
	} else {
		r.Header.Set("Content-Type", ct)
	}
	return r
}

func TestRealNotificationsVerifyUnderEveryContentType(t *testing.T) {
	want := map[string]PaymentNotification{
		"sandbox": {Status: PaymentStatusPaid, TradeType: "NATIVE", ExchangeRate: "1.0000000000", PaymentNo: "2019081517201983250411444",
			OutTradeID: "20190815002", Currency: HKD, SettleCurrency: HKD, PayCurrency: CNY, Amount: "1.00", PayAmount: "0.89"},
		"production": {Status: PaymentStatusPaid, TradeType: "NATIVE", ExchangeRate: "1.0000000000", PaymentNo: "2019070514445292733433289",
			OutTradeID: "132964985901940736", Currency: HKD, SettleCurrency: HKD, PayCurrency: CNY, Amount: "1.50", PayAmount: "1.32"},
	}
	for _, real := range loadRealNotifications(t) {
		// The client picks the embedded key of its mode.
		var opts []Option
		if real.Key == "sandbox" {
			opts = append(opts, WithSandbox())
		}
		client, err := NewClient("1000001", merchantKey(t), opts...)
		require.NoError(t, err)
		check := func(n *PaymentNotification, how string) {
			t.Helper()
			w := want[real.Name]
			assert.Equal(t, real.fields(), n.Fields, how)
			assert.Equal(t, real.Timestamp, n.Timestamp, how)
			assert.Nil(t, n.Unparsed, how)
			for _, got := range []struct{ got, want any }{
				{n.Status, w.Status}, {n.TradeType, w.TradeType}, {n.ExchangeRate, w.ExchangeRate}, {n.PaymentNo, w.PaymentNo},
				{n.OutTradeID, w.OutTradeID}, {n.Currency, w.Currency}, {n.SettleCurrency, w.SettleCurrency},
				{n.PayCurrency, w.PayCurrency}, {n.Amount, w.Amount}, {n.PayAmount, w.PayAmount},
			} {
				assert.Equal(t, got.want, got.got, how)
			}
			assert.Equal(t, real.fields().Get("finish_time"), n.FinishTime.Format(time.DateTime), how)
		}
		for _, ct := range notificationContentTypes {
			how := real.Name + " " + ct
			n, err := ParseNotificationRequest(real.pub(t), withContentType(real.request(), ct), 0)
			require.NoError(t, err, how)
			check(n, how)
			n, err = client.ParseNotification(withContentType(real.request(), ct))
			require.NoError(t, err, how)
			check(n, how)

			var got []*PaymentNotification
			fn := func(_ context.Context, n *PaymentNotification) error { got = append(got, n); return nil }
			assertSuccess(t, serveNotify(NewNotificationHandler(real.pub(t), fn), withContentType(real.request(), ct)))
			assertSuccess(t, serveNotify(client.NotificationHandler(fn, WithoutConfirmation()), withContentType(real.request(), ct)))
			require.Len(t, got, 2, how)
			check(got[0], how)
			check(got[1], how)
		}
		n, err := ParseNotificationForm(real.pub(t), real.fields(), real.Timestamp, real.Signature)
		require.NoError(t, err)
		check(n, real.Name+" form")
	}
}

func TestRealNotificationsRefusedWithWrongKey(t *testing.T) {
	sandbox, err := CallbackPublicKey(true)
	require.NoError(t, err)
	production, err := CallbackPublicKey(false)
	require.NoError(t, err)
	keys := map[string]*rsa.PublicKey{"sandbox": sandbox, "production": production, "fake": newNotifyFixture(t).pub}
	for _, real := range loadRealNotifications(t) {
		for name, pub := range keys {
			if name == real.Key {
				continue
			}
			_, err := ParseNotificationRequest(pub, real.request(), 0)
			assert.ErrorIs(t, err, ErrInvalidSignature, "%s with the %s key", real.Name, name)
			var calls callCounter
			w := serveNotify(NewNotificationHandler(pub, calls.fn), real.request())
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Zero(t, calls.n.Load())
		}
		// A client in the other mode has the other embedded key.
		var opts []Option
		if real.Key != "sandbox" {
			opts = append(opts, WithSandbox())
		}
		client, err := NewClient("1000001", merchantKey(t), opts...)
		require.NoError(t, err)
		_, err = client.ParseNotification(real.request())
		assert.ErrorIs(t, err, ErrInvalidSignature, real.Name)
	}
}

// changedByte returns s with its byte i changed (two ways, so that a
// change that happens to keep a meaning is not the only one tried).
func changedBytes(s string, i int) []string {
	var out []string
	for _, flip := range []byte{0x01, 0x20} {
		b := []byte(s)
		b[i] ^= flip
		out = append(out, string(b))
	}
	return out
}

func TestRealNotificationsRefuseAnyChangedByte(t *testing.T) {
	for _, real := range loadRealNotifications(t) {
		pub := real.pub(t)
		tried := 0
		refused := func(pairs [][2]string, ts, sig, what string) {
			t.Helper()
			tried++
			fields := valuesOf(pairs)
			_, err := ParseNotificationForm(pub, fields, ts, sig)
			require.Error(t, err, "%s: %s verified", real.Name, what)
			r := rawNotifyRequest(http.MethodPost, fields.Encode(), ts, sig)
			_, err = ParseNotificationRequest(pub, r, 0)
			require.Error(t, err, "%s: %s verified", real.Name, what)
		}
		for i, p := range real.Pairs {
			for k := range 2 { // the name, then the value
				for j := range len(p[k]) {
					for _, changed := range changedBytes(p[k], j) {
						pairs := append([][2]string(nil), real.Pairs...)
						pairs[i][k] = changed
						refused(pairs, real.Timestamp, real.Signature, fmt.Sprintf("field %d part %d byte %d", i, k, j))
					}
				}
			}
		}
		for j := range len(real.Timestamp) {
			for _, ts := range changedBytes(real.Timestamp, j) {
				refused(real.Pairs, ts, real.Signature, fmt.Sprintf("timestamp byte %d", j))
			}
		}
		for j := range len(real.Signature) {
			for _, sig := range changedBytes(real.Signature, j) {
				refused(real.Pairs, real.Timestamp, sig, fmt.Sprintf("signature byte %d", j))
			}
		}
		// Every other character in the last base64 group, where padding
		// bits let a lax decoder read another text as the same signature.
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
		for j := len(real.Signature) - 4; j < len(real.Signature); j++ {
			for _, c := range []byte(alphabet) {
				if c != real.Signature[j] {
					refused(real.Pairs, real.Timestamp, real.Signature[:j]+string(c)+real.Signature[j+1:], fmt.Sprintf("signature byte %d as %q", j, c))
				}
			}
		}
		t.Logf("%s: %d single-byte changes refused", real.Name, tried)
	}
}
