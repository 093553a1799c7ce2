package hipopay

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// The notification benchmarks compare the whole handler path with the raw
// floor that any verifying receiver pays, in the same run:
//
//	go test -run '^$' -bench 'Notification' -benchmem -count 5 .
//
// Every path builds the same fresh request each iteration
// (httptest.NewRequest over the vector's body), so the difference is what
// the SDK adds: typed parsing (promotion_detail's JSON included), the
// store. Both answer "success" through the same recorder. RSA verification
// (about 33 µs) dominates; the handler should cost at most 10% more than
// the floor. On a loaded machine compare BenchmarkNotificationOverhead,
// which times both back to back in each iteration.

// benchVectors are the vectors benchmarked: a plain notification and one
// with the response_version 3.0 fields (promotion_detail's JSON).
var benchVectors = []string{"paid_basic", "paid_response_version_3"}

func benchRequest(body, ts, sig string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/hipopay/notify", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Timestamp", ts)
	r.Header.Set("Signature", sig)
	return r
}

// passThroughStore runs fn on every call: no deduplication.
type passThroughStore struct{}

func (passThroughStore) Process(ctx context.Context, _ string, fn func(context.Context) error) (bool, error) {
	return true, fn(ctx)
}

func benchHandlerOnce(h http.Handler, r *http.Request) error {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Body.String() != "success" {
		return errors.New("handler did not answer 200 success")
	}
	return nil
}

// rawFloor is the least a verifying receiver does: read the body,
// url.ParseQuery, NotificationStringToSign, base64-decode the signature,
// SHA-256, rsa.VerifyPKCS1v15, and answer 200 "success" (every receiver
// must answer HipoPay, so the answer is part of the floor).
func rawFloor(pub *rsa.PublicKey) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := rawVerify(pub, r); err != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "success")
	})
}

func rawVerify(pub *rsa.PublicKey, r *http.Request) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	values, err := url.ParseQuery(string(raw))
	if err != nil {
		return err
	}
	toSign := NotificationStringToSign(values, r.Header.Get("Timestamp"))
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get("Signature"))
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(toSign))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
}

// BenchmarkNotificationHandler measures request in, "success" out.
//
// "duplicate" uses the default in-memory store: the first iteration runs fn,
// every later one is an acknowledged duplicate. Verification always runs
// before deduplication, so a duplicate pays the same verification; only fn
// is skipped. "fn" plugs in a store that runs fn (returning nil at once)
// every time: the first-delivery path.
func BenchmarkNotificationHandler(b *testing.B) {
	f := newNotifyFixture(b)
	fn := func(context.Context, *PaymentNotification) error { return nil }
	for _, name := range benchVectors {
		fields, ts, sig := f.vector(b, name)
		body := fields.Encode()
		for _, mode := range []string{"duplicate", "fn"} {
			var opts []HandlerOption
			if mode == "fn" {
				opts = append(opts, WithStore(passThroughStore{}))
			}
			h := NewNotificationHandler(f.pub, fn, opts...)
			b.Run(name+"/"+mode, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := benchHandlerOnce(h, benchRequest(body, ts, sig)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkNotificationRawFloor measures rawFloor alone.
func BenchmarkNotificationRawFloor(b *testing.B) {
	f := newNotifyFixture(b)
	floor := rawFloor(f.pub)
	for _, name := range benchVectors {
		fields, ts, sig := f.vector(b, name)
		body := fields.Encode()
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := benchHandlerOnce(floor, benchRequest(body, ts, sig)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNotificationOverhead runs the handler ("fn" mode: fn runs every
// time) and the raw floor back to back in every iteration, alternating
// which goes first, so that both see the same machine load; it reports the
// median of each and the handler's overhead over the floor in percent.
func BenchmarkNotificationOverhead(b *testing.B) {
	f := newNotifyFixture(b)
	fn := func(context.Context, *PaymentNotification) error { return nil }
	h := NewNotificationHandler(f.pub, fn, WithStore(passThroughStore{}))
	raw := rawFloor(f.pub)
	for _, name := range benchVectors {
		fields, ts, sig := f.vector(b, name)
		body := fields.Encode()
		b.Run(name, func(b *testing.B) {
			handler := make([]time.Duration, 0, b.N)
			floor := make([]time.Duration, 0, b.N)
			runHandler := func() {
				r := benchRequest(body, ts, sig)
				start := time.Now()
				if err := benchHandlerOnce(h, r); err != nil {
					b.Fatal(err)
				}
				handler = append(handler, time.Since(start))
			}
			runFloor := func() {
				r := benchRequest(body, ts, sig)
				start := time.Now()
				if err := benchHandlerOnce(raw, r); err != nil {
					b.Fatal(err)
				}
				floor = append(floor, time.Since(start))
			}
			for i := 0; i < b.N; i++ {
				if i%2 == 0 {
					runHandler()
					runFloor()
				} else {
					runFloor()
					runHandler()
				}
			}
			slices.Sort(handler)
			slices.Sort(floor)
			mh, mf := float64(handler[len(handler)/2]), float64(floor[len(floor)/2])
			b.ReportMetric(mh, "handler-ns")
			b.ReportMetric(mf, "floor-ns")
			b.ReportMetric(100*(mh-mf)/mf, "overhead-%")
		})
	}
}
