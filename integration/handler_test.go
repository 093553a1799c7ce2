package integration

import (
	"context"
	"crypto/rsa"
	"net/http"
	"net/url"

	"github.com/hipopay-go/hipopay"
)

// merchantFunc is the merchant's processing of a verified notification's
// fields.
type merchantFunc func(ctx context.Context, fields url.Values) error

// newNotifyHandler is the SDK's notification handler under test, verifying
// with pub and deduplicating through store.
func newNotifyHandler(pub *rsa.PublicKey, store hipopay.NotificationStore, fn merchantFunc) http.Handler {
	return hipopay.NewNotificationHandler(pub, func(ctx context.Context, n *hipopay.PaymentNotification) error {
		return fn(ctx, n.Fields)
	}, hipopay.WithStore(store))
}
