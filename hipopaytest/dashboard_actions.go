// What the dashboard's buttons do besides Pay and FailPayment: expiring an
// order (POST _mock/expire) and sending a notification again now (POST
// _mock/redeliver).

package hipopaytest

import (
	"errors"
	"fmt"
	"net/http"

	hipopay "github.com/hipopay-go/hipopay"
)

// errNotPaid marks a Redeliver of a payment that was never notified.
var errNotPaid = errors.New("payment is not PAID: HipoPay notifies only paid payments")

// ExpirePayment plays an INIT order timing out: it becomes EXPIRED (as
// WithOrderExpiry makes it), so Pay and FailPayment fail from then on. It
// fails for an unknown payment (errors.Is(err, hipopay.ErrPaymentNotFound))
// and one that is not INIT.
func (s *Server) ExpirePayment(paymentNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.payments[paymentNo]
	if o == nil {
		return fmt.Errorf("hipopaytest: ExpirePayment %s: %w", paymentNo, hipopay.ErrPaymentNotFound)
	}
	s.refreshLocked(o)
	if o.status != hipopay.PaymentStatusInit {
		return fmt.Errorf("hipopaytest: ExpirePayment %s: payment is %s, not INIT", paymentNo, o.status)
	}
	o.status = hipopay.PaymentStatusExpired
	s.broadcastLocked()
	return nil
}

// Redeliver sends the notification of a paid payment to its notify_url
// again now, signed afresh, as the next attempt (Delivery.Redelivery).
// While a re-send waits on the retry schedule, that re-send goes at once
// and the schedule goes on after it; otherwise the schedule starts over
// from this delivery until one is acknowledged, as after Pay. It fails for
// an unknown payment (errors.Is(err, hipopay.ErrPaymentNotFound)), one
// that is not PAID or has no notify_url, and after Close.
func (s *Server) Redeliver(paymentNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("hipopaytest: Redeliver: server closed")
	}
	o := s.payments[paymentNo]
	switch {
	case o == nil:
		return fmt.Errorf("hipopaytest: Redeliver %s: %w", paymentNo, hipopay.ErrPaymentNotFound)
	case o.status != hipopay.PaymentStatusPaid || o.fields == nil:
		return fmt.Errorf("hipopaytest: Redeliver %s: %w", paymentNo, errNotPaid)
	case o.notifyURL == "":
		return fmt.Errorf("hipopaytest: Redeliver %s: the order has no notify_url", paymentNo)
	}
	wake := o.wakeLocked()
	if o.delivering {
		select {
		case wake <- struct{}{}:
		default: // already asked
		}
		return nil
	}
	select {
	case <-wake: // a stale request: this one starts the schedule anyway
	default:
	}
	o.delivering = true
	o.gaveUp = false
	s.wg.Add(1)
	go s.deliverSchedule(o, copyValues(o.fields), o.notifyURL, true)
	s.broadcastLocked()
	return nil
}

// wakeLocked returns the channel Redeliver wakes the order's delivery
// goroutine with (one pending request at most).
func (o *order) wakeLocked() chan struct{} {
	if o.wake == nil {
		o.wake = make(chan struct{}, 1)
	}
	return o.wake
}

// serveMockAction serves POST _mock/expire and POST _mock/redeliver: the
// payment as GET payment answers it, or the reason it was refused.
func (s *Server) serveMockAction(w http.ResponseWriter, action func(string) error, paymentNo string) {
	if paymentNo == "" {
		writeAnswer(w, invalidParam("payment_no is required"))
		return
	}
	if err := action(paymentNo); err != nil {
		code := CodeInvalidParameter
		switch {
		case errors.Is(err, hipopay.ErrPaymentNotFound):
			code = CodePaymentNotFound
		case errors.Is(err, errNotPaid):
			code = CodePaymentNotPaid
		}
		writeAnswer(w, failure(code, err.Error()))
		return
	}
	s.mu.Lock()
	a := success(s.payments[paymentNo].json(false))
	s.mu.Unlock()
	writeAnswer(w, a)
}
