// Options of the fake HipoPay (Option, the With... functions) and
// HipoPay's documented notification retry schedule.

package hipopaytest

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// DefaultRetryIntervals is HipoPay's documented schedule of notification
// re-sends: after the first delivery fails, it is sent again up to 10 more
// times, waiting these intervals in turn.
func DefaultRetryIntervals() []time.Duration {
	return []time.Duration{
		1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		60 * time.Second, 60 * time.Second, 60 * time.Second,
		600 * time.Second, 600 * time.Second, 1800 * time.Second,
	}
}

// Option configures a Server. NewServer panics on an invalid option, as
// httptest does on a failure to listen: they are mistakes in a test.
type Option func(*config)

type config struct {
	retryIntervals    []time.Duration
	clock             func() time.Time
	orderExpiry       time.Duration
	addr              string
	listener          net.Listener
	merchantNo        string
	merchantKey       *rsa.PrivateKey
	hipopayKey        *rsa.PrivateKey
	declarationStates []hipopay.DeclarationState
	notifyTimeout     time.Duration
	notifyClient      *http.Client
	responseVersion3  bool
	rawTilde          bool
	settleCurrency    hipopay.Currency // WithSettleCurrency (notify.go)
	deliveryHook      func(paymentNo string, d Delivery)
	errs              []error
}

// WithRetryIntervals sets the notification retry schedule: after a
// delivery that is not acknowledged, the next one is sent after d[0], then
// d[1], ...; with len(d) re-sends at most. The default is HipoPay's
// documented 1s, 2s, 4s, 8s, 60s, 60s, 60s, 600s, 600s, 1800s; tests
// shorten it (WithRetryIntervals(time.Millisecond, time.Millisecond)).
// No interval means a single delivery. The waits are real time, not the
// WithClock clock.
func WithRetryIntervals(d ...time.Duration) Option {
	return func(c *config) {
		for _, x := range d {
			if x < 0 {
				c.errs = append(c.errs, fmt.Errorf("WithRetryIntervals: negative interval %v", x))
			}
		}
		c.retryIntervals = append([]time.Duration{}, d...)
	}
}

// WithClock sets the server's clock: trade and finish times, order and
// refund numbers, the Timestamp of notifications, expiry, the dates of the
// reconciliation file and its three-month window. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.errs = append(c.errs, errors.New("WithClock: nil clock"))
			return
		}
		c.clock = now
	}
}

// WithOrderExpiry makes an order that is still unpaid d after it was
// placed EXPIRED (by the server's clock); Pay then fails. Default: orders
// never expire.
func WithOrderExpiry(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithOrderExpiry: %v is not positive", d))
			return
		}
		c.orderExpiry = d
	}
}

// WithAddr makes the server listen on addr ("127.0.0.1:8080"; port 0
// picks a free one) instead of a random local port. NewServer panics when
// it cannot listen; use WithListener to handle that error yourself.
func WithAddr(addr string) Option {
	return func(c *config) { c.addr = addr }
}

// WithListener makes the server serve on l, which it closes on Close.
func WithListener(l net.Listener) Option {
	return func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("WithListener: nil listener"))
			return
		}
		c.listener = l
	}
}

// WithMerchant registers the server's first merchant (Server.MerchantNo,
// Server.MerchantKey) with this number and key instead of a random number
// and a fresh 2048-bit key.
func WithMerchant(no string, key *rsa.PrivateKey) Option {
	return func(c *config) {
		if err := hipopay.ValidMerchantNo(no); err != nil {
			c.errs = append(c.errs, fmt.Errorf("WithMerchant: %w", err))
			return
		}
		if key == nil {
			c.errs = append(c.errs, errors.New("WithMerchant: nil key"))
			return
		}
		if key.N.BitLen() < hipopay.MinKeyBits {
			c.errs = append(c.errs, fmt.Errorf("WithMerchant: %d-bit key is under %d bits", key.N.BitLen(), hipopay.MinKeyBits))
			return
		}
		c.merchantNo, c.merchantKey = no, key
	}
}

// WithHipoPayKey sets the key the server signs notifications with (its
// public half is Server.PublicKey) instead of a fresh 2048-bit key; e.g.
// the testdata stand-in for HipoPay's key, to compare with fixed vectors.
func WithHipoPayKey(key *rsa.PrivateKey) Option {
	return func(c *config) {
		if key == nil || key.N.BitLen() < hipopay.MinKeyBits {
			c.errs = append(c.errs, errors.New("WithHipoPayKey: nil key or key under 2048 bits"))
			return
		}
		c.hipopayKey = key
	}
}

// WithDeclarationStates sets the states a customs declaration goes
// through: Declare and Redeclare answer states[0], and each GetDeclaration
// moves it one state on before answering, until the last. Default
// SUBMITTED, SUCCESS: declared SUBMITTED, SUCCESS on the first query. Use
// Server.SetDeclarationState to force a state (FAIL, EXCEPT) at any time.
func WithDeclarationStates(states ...hipopay.DeclarationState) Option {
	return func(c *config) {
		if len(states) == 0 {
			c.errs = append(c.errs, errors.New("WithDeclarationStates: no state"))
			return
		}
		c.declarationStates = append([]hipopay.DeclarationState{}, states...)
	}
}

// WithNotifyTimeout bounds each notification delivery (default 10 s): a
// merchant handler slower than that counts as a failed delivery.
func WithNotifyTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithNotifyTimeout: %v is not positive", d))
			return
		}
		c.notifyTimeout = d
	}
}

// WithNotifyClient delivers notifications with c instead of the server's
// own client, which trusts only the system's root certificates: give it a
// client that trusts your notify_url's certificate, such as an
// httptest.NewTLSServer's (see the example). Its Transport and Jar are
// used; the server still never follows a redirect and still bounds each
// delivery by [WithNotifyTimeout]. Close leaves c's connections alone. A
// nil c makes [NewServer] panic.
func WithNotifyClient(c *http.Client) Option {
	return func(cfg *config) {
		if c == nil {
			cfg.errs = append(cfg.errs, errors.New("WithNotifyClient: nil client"))
			return
		}
		cfg.notifyClient = c
	}
}

// WithResponseVersion3 adds the response_version 3.0 fields (pay_rate,
// pay_rate_reversed, bank_type, promotion_detail) to every notification,
// as if each order had been placed with response_version=3.0 (which the
// server also honours per order).
func WithResponseVersion3() Option {
	return func(c *config) { c.responseVersion3 = true }
}

// WithRawTilde verifies request signatures with '~' kept raw, as an RFC
// 3986 server would, instead of HipoPay's documented %7E: a request signed
// the documented way with '~' in a value is then ILLEGAL_SECURITY_PROFILE.
func WithRawTilde() Option {
	return func(c *config) { c.rawTilde = true }
}

// WithDeliveryHook calls f after each notification delivery (in the
// delivery's goroutine, never under the server's lock): to log deliveries
// as they happen. f must not block for long; it may call the server,
// except Close: Close waits for the delivery goroutines, the one running f
// included, so calling it from f deadlocks (call it from another
// goroutine).
func WithDeliveryHook(f func(paymentNo string, d Delivery)) Option {
	return func(c *config) { c.deliveryHook = f }
}
