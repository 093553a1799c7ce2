// Payment notifications: verifying what HipoPay POSTs to notify_url, and an
// http.Handler that processes each payment exactly once.

package hipopay

import "context"

// NotificationStore records which payments' notifications were processed
// and serializes their processing, so that the handler runs the merchant's
// function at most once to success per payment however many times and
// however concurrently HipoPay delivers. The handler's default store is in
// memory, per handler; a database-backed store (NewSQLStore) serves several
// instances.
type NotificationStore interface {
	// Process runs fn for paymentNo unless that payment was already
	// processed. It holds a lock for paymentNo while fn runs: concurrent
	// calls for the same payment wait for it. When fn returns nil the
	// payment is recorded as processed (together with fn's own effects,
	// when fn works through the store's transaction), and later or waiting
	// calls return ran == false without calling fn. When fn returns an
	// error or panics nothing is recorded, the lock is released, and the
	// error (or panic) is passed on. ctx given to fn may carry the store's
	// transaction (see TxFromContext).
	Process(ctx context.Context, paymentNo string, fn func(ctx context.Context) error) (ran bool, err error)
}
