// Client.WaitForPayment: polling GET payment until the buyer is done (a
// barcode payment the buyer confirms on the phone, a notification that is
// late).

package hipopay

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultWaitInterval is [Client.WaitForPayment]'s interval when it is
// given none.
const DefaultWaitInterval = 2 * time.Second

// WaitForPayment polls [Client.GetPayment] every interval (0 or less:
// [DefaultWaitInterval]) until the payment is no longer INIT or
// USERPAYING, or ctx ends; it returns the last payment seen.
//
// HipoPay endpoint: GET payment, repeatedly.
//
// A query with neither identifier is a [*ValidationError]. A network or
// 5xx failure (after GetPayment's own retries) is polled past; any other
// error of GetPayment ([ErrPaymentNotFound]) ends the wait with it. When
// ctx ends, the error wraps ctx.Err() and the payment is the last seen
// (nil if none was).
func (c *Client) WaitForPayment(ctx context.Context, q PaymentQuery, interval time.Duration) (*Payment, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	if ctx == nil {
		return nil, errors.New("hipopay: nil context")
	}
	if interval <= 0 {
		interval = DefaultWaitInterval
	}
	var last *Payment
	var lastErr error
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return last, waitEnded(ctx, lastErr)
		case <-timer.C:
		}
		p, err := c.GetPayment(ctx, q)
		switch {
		case err == nil:
			last, lastErr = p, nil
			if p.Status != PaymentStatusInit && p.Status != PaymentStatusUserPaying {
				return p, nil
			}
		case ctx.Err() != nil:
			if lastErr == nil {
				lastErr = err
			}
			return last, waitEnded(ctx, lastErr)
		case !pollable(err):
			return last, err
		default:
			lastErr = err
		}
		timer.Reset(interval)
	}
}

// pollable reports whether a failed poll may succeed later: a network
// error or an HTTP 429 or 5xx answer, not a business error.
func pollable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == "" && apiErr.Temporary()
	}
	var ve *ValidationError
	return !errors.As(err, &ve)
}

// waitEnded is the error of a wait whose context ended, naming the last
// failure if the last poll failed.
func waitEnded(ctx context.Context, last error) error {
	if last != nil && !errors.Is(last, ctx.Err()) {
		return fmt.Errorf("hipopay: waiting for the payment: %w (last poll: %v)", ctx.Err(), last)
	}
	return fmt.Errorf("hipopay: waiting for the payment: %w", ctx.Err())
}
