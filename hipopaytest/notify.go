// Payment notifications of the fake HipoPay: building and signing them
// (NewNotificationRequest, PaidNotificationFields), delivering them with
// HipoPay's retry schedule, and recording deliveries for assertions.

package hipopaytest

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// ErrNotAcknowledged is returned by WaitDelivered when every delivery of a
// notification, re-sends included, failed: HipoPay gave up.
var ErrNotAcknowledged = errors.New("hipopaytest: notification was never acknowledged with \"success\"")

// Delivery is one attempt to deliver a payment notification.
type Delivery struct {
	Attempt    int       // 1 for the first delivery, 2 for the first re-send...
	Time       time.Time // when it was sent, by the server's clock
	Timestamp  string    // its Timestamp header (each delivery is signed afresh)
	StatusCode int       // the merchant's HTTP status; 0 when no answer came
	Body       string    // the answer's body (its first 4 KiB)
	Err        error     // the network error when no answer came
	// Acknowledged reports whether the answer was HTTP 200 with the body
	// "success" (surrounding white space ignored): HipoPay stops sending.
	Acknowledged bool
	// NextRetry is when the schedule sends the next one (Time plus the
	// schedule's interval, by the server's clock); zero when none follows.
	// Redeliver may send it earlier.
	NextRetry time.Time
	// Redelivery reports whether Redeliver asked for it, instead of the
	// schedule's timer or Pay.
	Redelivery bool
}

// NewNotificationRequest builds a payment notification as HipoPay sends
// it, for a merchant's own handler tests: a POST to target with fields
// form-encoded in the body, and the headers Timestamp (timestamp, or the
// current Unix time when empty) and Signature (RSA SHA-256 with key over
// hipopay.NotificationStringToSign(fields, timestamp), the raw values).
// Sign with the key whose public half the handler verifies with, e.g.
// Server.PrivateKey() with a client from Server.Client. It fails on a nil
// or weak key and an invalid target URL.
func NewNotificationRequest(key *rsa.PrivateKey, target string, fields url.Values, timestamp string) (*http.Request, error) {
	signer, err := hipopay.NewSigner(key)
	if err != nil {
		return nil, fmt.Errorf("hipopaytest: NewNotificationRequest: %w", err)
	}
	if timestamp == "" {
		timestamp = strconv.FormatInt(time.Now().Unix(), 10)
	}
	sig, err := signer.SignString(hipopay.NotificationStringToSign(fields, timestamp))
	if err != nil {
		return nil, fmt.Errorf("hipopaytest: NewNotificationRequest: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(fields.Encode()))
	if err != nil {
		return nil, fmt.Errorf("hipopaytest: NewNotificationRequest: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Timestamp", timestamp)
	req.Header.Set("Signature", sig)
	return req, nil
}

// DefaultSettleCurrency is the settlement currency of the fake's
// merchants unless WithSettleCurrency sets another: HipoPay's merchants in
// its two signed notifications settle in HKD.
const DefaultSettleCurrency = hipopay.HKD

// WithSettleCurrency sets the currency the server's merchants settle in
// (default DefaultSettleCurrency): a paid order's exchange_rate, in GET
// payment and in its notification, is the rate from the order's currency
// to c (SettlementRate), and its notification's settle_currency is c. c
// must be one of the 11 currencies the fake knows (ExchangeRate).
func WithSettleCurrency(c hipopay.Currency) Option {
	return func(cfg *config) {
		if _, ok := ExchangeRate(c); !ok {
			cfg.errs = append(cfg.errs, fmt.Errorf("WithSettleCurrency: %q is not a currency the fake knows", c))
			return
		}
		cfg.settleCurrency = c
	}
}

// settleCurrency is the merchants' settlement currency.
func (s *Server) settleCurrency() hipopay.Currency {
	if s.cfg.settleCurrency == "" {
		return DefaultSettleCurrency
	}
	return s.cfg.settleCurrency
}

// SettlementRate returns the fake's exchange_rate of an order priced in
// from and settled in to: units of to per unit of from, with ten decimals
// as HipoPay writes it ("1.0000000000" when they are the same, as in
// HipoPay's own notifications). It is made from the fake's CNY rates
// (ExchangeRate); false when either currency is unknown to the fake.
func SettlementRate(from, to hipopay.Currency) (string, bool) {
	a, okFrom := ExchangeRate(from)
	b, okTo := ExchangeRate(to)
	if !okFrom || !okTo {
		return "", false
	}
	if from == to {
		return "1.0000000000", true
	}
	return divRound(a, b, 10), true
}

// payAmount is what the buyer pays in CNY for amount in currency c: the
// amount at the fake's CNY rate (ExchangeRate), rounded to cents; "" for
// an unknown currency.
func payAmount(amount string, c hipopay.Currency) string {
	rate, ok := ExchangeRate(c)
	if !ok {
		return ""
	}
	return mulRound(amount, rate, 2)
}

// PaidNotificationFields returns the fields of the notification HipoPay
// sends when p is paid, with the same fields and formats as the two
// notifications HipoPay signed: status PAID, trade_type, exchange_rate
// (from the order's currency to settle_currency, ten decimals),
// payment_no, currency, settle_currency (DefaultSettleCurrency), amount,
// trade_time, finish_time, pay_currency (CNY), pay_amount (the CNY the
// buyer paid: amount at ExchangeRate, rounded to cents) and out_trade_id.
// Empty parts of p are filled in: the mini-program's trade type
// (MINIPROGRA, as the reference spells it), the SettlementRate of p's
// currency, the current time for trade and finish times. A server with
// WithSettleCurrency settles in its own currency.
func PaidNotificationFields(p *hipopay.Payment) url.Values {
	return paidNotificationFields(p, DefaultSettleCurrency)
}

// paidNotificationFields is PaidNotificationFields for a merchant settling
// in settle.
func paidNotificationFields(p *hipopay.Payment, settle hipopay.Currency) url.Values {
	if p == nil {
		p = &hipopay.Payment{}
	}
	tt := p.TradeType
	if tt == "" {
		fm, _ := lookupMethod(string(hipopay.WeChatMiniProgram))
		tt = fm.tradeType
	}
	rate := p.ExchangeRate
	if rate == "" {
		rate, _ = SettlementRate(p.Currency, settle)
	}
	now := time.Now()
	trade, finish := p.TradeTime, p.FinishTime
	if trade.IsZero() {
		trade = now
	}
	if finish.IsZero() {
		finish = now
	}
	v := url.Values{}
	v.Set("status", string(hipopay.PaymentStatusPaid))
	v.Set("trade_type", tt)
	v.Set("exchange_rate", rate)
	v.Set("payment_no", p.PaymentNo)
	v.Set("currency", string(p.Currency))
	v.Set("settle_currency", string(settle))
	v.Set("amount", p.Amount)
	v.Set("trade_time", formatTime(trade))
	v.Set("finish_time", formatTime(finish))
	v.Set("pay_currency", string(hipopay.CNY))
	v.Set("pay_amount", payAmount(p.Amount, p.Currency))
	v.Set("out_trade_id", p.OutTradeID)
	return v
}

// addVersion3Fields adds what response_version 3.0 adds: pay_rate (payment
// currency per pricing currency), pay_rate_reversed, bank_type and
// promotion_detail (none).
func addVersion3Fields(v url.Values) {
	payRate := divRound(v.Get("pay_amount"), v.Get("amount"), 4)
	v.Set("pay_rate", payRate)
	v.Set("pay_rate_reversed", divRound("1", payRate, 4))
	v.Set("bank_type", "CMB_DEBIT")
	v.Set("promotion_detail", "[]")
}

// deliver sends a notification, then re-sends it on the retry schedule
// until it is acknowledged, the schedule ends or the server closes. A
// Redeliver cuts the wait short; one that comes while the last send is out
// makes a finished schedule start over. Attempts are numbered by their
// place among the order's deliveries.
func (s *Server) deliver(o *order, fields url.Values, target string) {
	s.deliverSchedule(o, fields, target, false)
}

// deliverSchedule is deliver; early marks its first send as a Redelivery.
func (s *Server) deliverSchedule(o *order, fields url.Values, target string, early bool) {
	defer s.wg.Done()
	intervals := s.cfg.retryIntervals
	s.mu.Lock()
	wake := o.wakeLocked()
	s.mu.Unlock()
	for sent := 1; ; sent++ {
		d := s.sendNotification(fields, target, sent)
		s.mu.Lock()
		d.Attempt = len(o.deliveries) + 1
		d.Redelivery = early
		retry := !d.Acknowledged && sent <= len(intervals) && s.ctx.Err() == nil
		if retry {
			d.NextRetry = d.Time.Add(intervals[sent-1])
		}
		o.deliveries = append(o.deliveries, d)
		if d.Acknowledged {
			o.acked = true
		} else if sent > len(intervals) {
			o.gaveUp = true
		}
		again := false // a Redeliver came while this one was out
		if !retry {
			select {
			case <-wake:
				again = s.ctx.Err() == nil
			default:
			}
		}
		if again {
			o.gaveUp = false
		}
		if !retry && !again {
			o.delivering = false
		}
		o.nextRetry = d.NextRetry
		s.broadcastLocked()
		s.mu.Unlock()
		if hook := s.cfg.deliveryHook; hook != nil {
			hook(o.paymentNo, d)
		}
		if again {
			sent, early = 0, true // the schedule starts over
			continue
		}
		if !retry {
			return
		}
		t := time.NewTimer(intervals[sent-1])
		early = false
		select {
		case <-t.C:
		case <-wake:
			t.Stop()
			early = true
		case <-s.ctx.Done():
			t.Stop()
			s.mu.Lock()
			o.delivering = false
			o.nextRetry = time.Time{}
			s.broadcastLocked()
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		o.nextRetry = time.Time{}
		s.mu.Unlock()
	}
}

// sendNotification makes one delivery, signed afresh.
func (s *Server) sendNotification(fields url.Values, target string, attempt int) Delivery {
	now := s.now()
	d := Delivery{Attempt: attempt, Time: now, Timestamp: strconv.FormatInt(now.Unix(), 10)}
	req, err := NewNotificationRequest(s.hipopayKey, target, fields, d.Timestamp)
	if err != nil {
		d.Err = err
		return d
	}
	req.Header.Set("User-Agent", "hipopaytest (fake HipoPay notification)")
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.notifyTimeout)
	defer cancel()
	resp, err := s.notifyClient.Do(req.WithContext(ctx))
	if err != nil {
		d.Err = err
		return d
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	d.StatusCode = resp.StatusCode
	d.Body = string(body)
	d.Acknowledged = resp.StatusCode == http.StatusOK && strings.TrimSpace(d.Body) == "success"
	return d
}

// Deliveries returns the deliveries of a payment's notification so far, in
// order; nil for an unknown or unpaid payment.
func (s *Server) Deliveries(paymentNo string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.payments[paymentNo]; o != nil {
		return append([]Delivery(nil), o.deliveries...)
	}
	return nil
}

// WaitDelivered waits until a delivery of the payment's notification was
// acknowledged. It returns ErrNotAcknowledged once HipoPay's schedule is
// exhausted, ctx's error when ctx ends first, and an error at once for an
// unknown payment, one that has no notify_url, or a closed server. It may
// be called before Pay.
func (s *Server) WaitDelivered(ctx context.Context, paymentNo string) error {
	_, err := s.waitFor(ctx, paymentNo, func(o *order) bool { return o.acked })
	return err
}

// WaitDeliveries waits until the payment's notification was delivered at
// least n times (acknowledged or not) and returns the deliveries. It fails
// like WaitDelivered, and when deliveries ended (acknowledged, exhausted)
// with fewer than n (and no Redeliver started them again).
func (s *Server) WaitDeliveries(ctx context.Context, paymentNo string, n int) ([]Delivery, error) {
	return s.waitFor(ctx, paymentNo, func(o *order) bool { return len(o.deliveries) >= n })
}

func (s *Server) waitFor(ctx context.Context, paymentNo string, done func(*order) bool) ([]Delivery, error) {
	for {
		s.mu.Lock()
		o := s.payments[paymentNo]
		var err error
		switch {
		case o == nil:
			err = fmt.Errorf("hipopaytest: payment %s: %w", paymentNo, hipopay.ErrPaymentNotFound)
		case o.notifyURL == "":
			err = fmt.Errorf("hipopaytest: payment %s has no notify_url: nothing is delivered", paymentNo)
		case done(o):
			deliveries := append([]Delivery(nil), o.deliveries...)
			s.mu.Unlock()
			return deliveries, nil
		case o.gaveUp && !o.delivering:
			err = ErrNotAcknowledged
		case o.acked && !o.delivering: // a Redeliver may send more
			err = fmt.Errorf("hipopaytest: payment %s: notification acknowledged after %d deliveries", paymentNo, len(o.deliveries))
		case s.closed:
			err = errors.New("hipopaytest: server closed")
		}
		var deliveries []Delivery
		if o != nil {
			deliveries = append(deliveries, o.deliveries...)
		}
		ch := s.changed
		s.mu.Unlock()
		if err != nil {
			return deliveries, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return deliveries, ctx.Err()
		}
	}
}
