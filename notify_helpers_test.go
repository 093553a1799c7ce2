package hipopay

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Helpers of the notification tests: the fake HipoPay key and vectors,
// HipoPay's own signed notifications, requests and handlers.

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
	return rawNotifyRequest(method, fields.Encode(), ts, sig)
}

// rawNotifyRequest is notifyRequest with the body as given.
func rawNotifyRequest(method, body, ts, sig string) *http.Request {
	r := httptest.NewRequest(method, "/hipopay/notify", strings.NewReader(body))
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

// realNotification is one of the notifications HipoPay's own servers
// signed (testdata/real_notifications.json), with its headers.
type realNotification struct {
	Name      string      `json:"name"`
	Key       string      `json:"key"` // "sandbox" or "production"
	Timestamp string      `json:"timestamp"`
	Signature string      `json:"signature"`
	Pairs     [][2]string `json:"fields"` // in the order HipoPay sent them
}

func loadRealNotifications(t testing.TB) []realNotification {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "real_notifications.json"))
	require.NoError(t, err)
	var file struct {
		Cases []realNotification `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &file))
	require.Len(t, file.Cases, 2)
	return file.Cases
}

// fields returns the notification's fields.
func (n realNotification) fields() url.Values { return valuesOf(n.Pairs) }

// body returns the form body, its pairs in the order HipoPay sent them.
func (n realNotification) body() string {
	var b strings.Builder
	for i, p := range n.Pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1]))
	}
	return b.String()
}

// pub returns the embedded HipoPay callback key that signed it.
func (n realNotification) pub(t testing.TB) *rsa.PublicKey {
	t.Helper()
	pub, err := CallbackPublicKey(n.Key == "sandbox")
	require.NoError(t, err)
	return pub
}

// request is the notification as HipoPay POSTed it.
func (n realNotification) request() *http.Request {
	return rawNotifyRequest(http.MethodPost, n.body(), n.Timestamp, n.Signature)
}
