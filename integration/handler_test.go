package integration

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/hipopay-go/hipopay"
)

// merchantFunc is the merchant's processing of a verified notification's
// fields.
type merchantFunc func(ctx context.Context, fields url.Values) error

// newNotifyHandler is the notification handler under test, deduplicating
// through store.
//
// INTERIM: the SDK's NewNotificationHandler (notify.go) has not landed on
// this branch yet; this stand-in verifies and processes as it is documented
// to, and is replaced by it once it lands.
func newNotifyHandler(pub *rsa.PublicKey, store hipopay.NotificationStore, fn merchantFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		fields, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if err := hipopay.VerifyNotificationSignature(pub, fields, r.Header.Get("Timestamp"), r.Header.Get("Signature")); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		_, err = store.Process(r.Context(), fields.Get("payment_no"), func(ctx context.Context) (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			return fn(ctx, fields)
		})
		if err != nil {
			http.Error(w, "processing failed", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "success")
	})
}
