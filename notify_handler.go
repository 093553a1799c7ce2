// The http.Handler answering HipoPay's payment notifications: its options,
// the confirmation of each payment with HipoPay (Client.NotificationHandler),
// deduplication through a NotificationStore, and its answers and logs.
//
// HipoPay calls: POST to the merchant's notify_url, and again (up to 10
// more times over almost an hour) until it gets 200 with the body "success".

package hipopay

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// HandlerOption configures a notification handler. Options cannot fail:
// a nil or non-positive value leaves the default.
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	store       NotificationStore
	maxBytes    int64
	tolerance   time.Duration
	now         func() time.Time
	logger      *slog.Logger
	unconfirmed bool
}

// WithStore makes the handler deduplicate through store instead of its own
// [MemoryStore]: a database-backed store (the sqlstore package) shared by
// several instances of the merchant's server, or a MemoryStore with other
// bounds.
func WithStore(store NotificationStore) HandlerOption {
	return func(c *handlerConfig) {
		if store != nil {
			c.store = store
		}
	}
}

// WithMaxBodyBytes sets the largest body the handler reads (default
// [DefaultMaxNotificationBytes]); a larger one is answered with 413.
func WithMaxBodyBytes(n int64) HandlerOption {
	return func(c *handlerConfig) {
		if n > 0 {
			c.maxBytes = n
		}
	}
}

// WithTimestampTolerance makes the handler refuse (401) a notification
// whose Timestamp header is more than d away from the handler's clock.
// It is off by default: a merchant whose clock is off would refuse every
// delivery (see SECURITY.md, "Replayed notifications"). Keep d generous
// (minutes) and the server's clock synchronized.
func WithTimestampTolerance(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.tolerance = d
		}
	}
}

// WithHandlerClock sets the clock the handler checks the timestamp
// tolerance with and its default [MemoryStore] expires entries with
// (time.Now by default; the client's clock for [Client.NotificationHandler]).
func WithHandlerClock(now func() time.Time) HandlerOption {
	return func(c *handlerConfig) {
		if now != nil {
			c.now = now
		}
	}
}

// WithHandlerLogger logs to l each refused delivery (Warn; Error when
// HipoPay does not confirm the payment), each failure or panic of the
// merchant's function (Error) and each acknowledged delivery (Info).
// Without it the handler logs all but acknowledgements to [slog.Default]
// ([Client.NotificationHandler] uses the client's [WithLogger] logger, if
// any). Nothing logged holds the Signature header.
func WithHandlerLogger(l *slog.Logger) HandlerOption {
	return func(c *handlerConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithoutConfirmation makes [Client.NotificationHandler] trust a verified
// notification without asking HipoPay to confirm the payment, which lets a
// notification HipoPay signed for another merchant through (see
// SECURITY.md, "Forwarded notifications"). [NewNotificationHandler] never
// confirms.
func WithoutConfirmation() HandlerOption {
	return func(c *handlerConfig) { c.unconfirmed = true }
}

// NotificationHandler returns an http.Handler answering HipoPay's payment
// notifications, verified with the client's HipoPay callback key and
// confirmed with HipoPay before fn runs, with the client's logger and
// clock unless opts set others.
//
// HipoPay calls: POST to the merchant's notify_url; the handler calls GET
// payment by the notification's payment_no.
//
// The payment HipoPay reports for this client's merchant number must be
// PAID with the notification's out_trade_id, amount and currency: when it
// is unknown or differs, fn is not called, the handler logs at Error and
// answers 403; when the lookup fails, it answers 500 (HipoPay delivers
// again). A payment already processed is acknowledged without a lookup.
// [WithoutConfirmation] turns this off. Otherwise as [NewNotificationHandler].
func (c *Client) NotificationHandler(fn NotificationFunc, opts ...HandlerOption) http.Handler {
	if c == nil {
		return NewNotificationHandler(nil, fn, opts...)
	}
	base := make([]HandlerOption, 0, len(opts)+2)
	base = append(base, WithHandlerClock(c.now), WithHandlerLogger(c.logger))
	h := newNotificationHandler(c.hipopayKey, fn, append(base, opts...))
	if !h.cfg.unconfirmed {
		h.confirm = c.confirmPayment
	}
	return h
}

// NewNotificationHandler returns an http.Handler that verifies HipoPay's
// payment notifications with pub and runs fn at most once to success per
// payment. It has no client, so it cannot ask HipoPay to confirm a payment:
// a notification HipoPay signed for another merchant and forwarded here
// passes. Prefer [Client.NotificationHandler].
//
// HipoPay calls: POST to the merchant's notify_url.
//
// It answers 200 "success" once fn returned nil, or for a duplicate of a
// processed payment (fn is not called again; concurrent deliveries wait);
// otherwise 405 (not POST), 413 (body over [WithMaxBodyBytes]), 400 (not a
// form, fields that could be cut another way, no payment_no), 401 (missing
// or wrong Signature or Timestamp) or 500 (fn failed or panicked: HipoPay
// delivers again). Deliveries are deduplicated in memory per handler unless
// [WithStore] is given. See SECURITY.md for the reasons.
func NewNotificationHandler(pub *rsa.PublicKey, fn NotificationFunc, opts ...HandlerOption) http.Handler {
	return newNotificationHandler(pub, fn, opts)
}

func newNotificationHandler(pub *rsa.PublicKey, fn NotificationFunc, opts []HandlerOption) *notificationHandler {
	cfg := handlerConfig{maxBytes: DefaultMaxNotificationBytes, now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.store == nil {
		cfg.store = NewMemoryStore(MemoryStoreOptions{Clock: cfg.now})
	}
	return &notificationHandler{pub: pub, fn: fn, cfg: cfg}
}

type notificationHandler struct {
	pub     *rsa.PublicKey
	fn      NotificationFunc
	confirm func(context.Context, *PaymentNotification) error // nil: not confirmed
	cfg     handlerConfig
}

// ServeHTTP answers one delivery of a notification.
func (h *notificationHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(ctx, w, r, http.StatusMethodNotAllowed, nil)
		return
	}
	fields, raw, err := readNotificationForm(w, r, h.cfg.maxBytes)
	if err != nil {
		h.refuse(ctx, w, r, statusOf(err), err)
		return
	}
	timestamp := r.Header.Get("Timestamp")
	var fresh func(string) error
	if h.cfg.tolerance > 0 {
		fresh = h.checkFresh // before verifying: a stale delivery costs no RSA work
	}
	if fields, err = verifyNotification(h.pub, fields, raw, timestamp, r.Header.Get("Signature"), fresh); err != nil {
		h.refuse(ctx, w, r, statusOf(err), err)
		return
	}
	n, err := notificationOf(fields, timestamp)
	if err != nil {
		h.refuse(ctx, w, r, statusOf(err), err)
		return
	}
	for _, name := range n.Unparsed {
		// The field's name only: the value is the sender's text.
		h.log(ctx, slog.LevelWarn, "hipopay: a field of a verified notification does not parse; it is left zero, its raw value is in Fields",
			slog.String("field", name), slog.String("payment_no", n.PaymentNo), slog.String("out_trade_id", n.OutTradeID))
	}
	if h.fn == nil {
		h.log(ctx, slog.LevelError, "hipopay: notification handler has a nil NotificationFunc", slog.String("payment_no", n.PaymentNo))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	ran, err := h.process(ctx, n)
	switch {
	case errors.Is(err, errNotConfirmed):
		h.log(ctx, slog.LevelError, "hipopay: notification refused: HipoPay does not confirm this payment for this merchant (forwarded from another merchant?); fn was not called",
			slog.String("payment_no", n.PaymentNo), slog.String("out_trade_id", n.OutTradeID), slog.Any("error", err))
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
		return
	case err != nil:
		h.log(ctx, slog.LevelError, "hipopay: processing the notification failed; HipoPay will deliver it again",
			slog.String("payment_no", n.PaymentNo), slog.String("out_trade_id", n.OutTradeID), slog.Any("error", err))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	if h.cfg.logger != nil {
		h.cfg.logger.LogAttrs(ctx, slog.LevelInfo, "hipopay: notification acknowledged",
			slog.String("payment_no", n.PaymentNo), slog.String("out_trade_id", n.OutTradeID), slog.Bool("duplicate", !ran))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "success")
}

// process runs the confirmation and fn through the store, under its lock
// for n's key: a duplicate of a processed payment runs neither. A panic in
// fn becomes an error before it reaches the store, so that any store
// releases its lock and records nothing; a panic in the store itself is
// recovered too.
func (h *notificationHandler) process(ctx context.Context, n *PaymentNotification) (ran bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			ran, err = false, fmt.Errorf("hipopay: notification store panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return h.cfg.store.Process(ctx, notificationKey(n), func(ctx context.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("hipopay: NotificationFunc panicked: %v\n%s", p, debug.Stack())
			}
		}()
		if h.confirm != nil {
			if err := h.confirm(ctx, n); err != nil {
				return err
			}
		}
		return h.fn(ctx, n)
	})
}

// notificationKey is the deduplication key of n: its payment_no when PAID,
// else payment_no, a zero byte and the status (see SECURITY.md).
func notificationKey(n *PaymentNotification) string {
	if n.Status == PaymentStatusPaid {
		return n.PaymentNo
	}
	return n.PaymentNo + "\x00" + string(n.Status)
}

// errNotConfirmed is matched when HipoPay does not confirm a notification's
// payment for the client's merchant: the handler answers 403.
var errNotConfirmed = errors.New("hipopay: HipoPay does not confirm the notification")

// confirmPayment asks HipoPay for n's payment under the client's merchant
// number: it must be PAID with n's out_trade_id, amount and currency.
// Unknown or different: errNotConfirmed. The lookup failed: another error.
func (c *Client) confirmPayment(ctx context.Context, n *PaymentNotification) error {
	p, err := c.GetPayment(ctx, PaymentQuery{PaymentNo: n.PaymentNo})
	if errors.Is(err, ErrPaymentNotFound) {
		return fmt.Errorf("%w: HipoPay knows no payment %s for merchant %s", errNotConfirmed, n.PaymentNo, c.merchantNo)
	}
	if err != nil {
		return fmt.Errorf("hipopay: confirming payment %s with HipoPay: %w", n.PaymentNo, err)
	}
	if why := paymentMismatch(n, p); why != "" {
		return fmt.Errorf("%w: payment %s: %s", errNotConfirmed, n.PaymentNo, why)
	}
	return nil
}

// paymentMismatch says how the payment HipoPay reports differs from the
// notification; "" when it confirms it.
func paymentMismatch(n *PaymentNotification, p *Payment) string {
	switch {
	case n.Status != PaymentStatusPaid:
		return fmt.Sprintf("the notification's status is %.20q, not PAID", n.Status)
	case p.Status != PaymentStatusPaid:
		return fmt.Sprintf("HipoPay reports it %.20q, not PAID", p.Status)
	case p.PaymentNo != n.PaymentNo:
		return fmt.Sprintf("HipoPay answered for payment %.40q", p.PaymentNo)
	case p.OutTradeID != n.OutTradeID:
		return fmt.Sprintf("out_trade_id %.64q, HipoPay reports %.64q", n.OutTradeID, p.OutTradeID)
	case p.Currency != n.Currency:
		return fmt.Sprintf("currency %.8q, HipoPay reports %.8q", n.Currency, p.Currency)
	case !sameAmount(n.Amount, p.Amount, p.Currency):
		return fmt.Sprintf("amount %.24q, HipoPay reports %.24q", n.Amount, p.Amount)
	}
	return ""
}

// checkFresh refuses a Timestamp (Unix seconds) further than the tolerance
// from the handler's clock.
func (h *notificationHandler) checkFresh(timestamp string) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: Timestamp %.32q is not Unix seconds", ErrInvalidSignature, timestamp)
	}
	skew := h.cfg.now().Sub(time.Unix(sec, 0))
	if skew < -h.cfg.tolerance || skew > h.cfg.tolerance {
		return fmt.Errorf("%w: Timestamp %s is %v away from now, over the tolerance of %v", ErrInvalidSignature, timestamp, skew.Round(time.Second), h.cfg.tolerance)
	}
	return nil
}

// statusOf maps a refused notification's error to the handler's answer.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNotificationTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrInvalidSignature):
		return http.StatusUnauthorized
	default:
		return http.StatusBadRequest
	}
}

// refuse logs a refused delivery at Warn and answers status with its plain
// status text: no internals.
func (h *notificationHandler) refuse(ctx context.Context, w http.ResponseWriter, r *http.Request, status int, err error) {
	attrs := []slog.Attr{slog.Int("status", status), slog.String("method", r.Method), slog.String("remote_addr", r.RemoteAddr)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	h.log(ctx, slog.LevelWarn, "hipopay: notification refused", attrs...)
	http.Error(w, http.StatusText(status), status)
}

// log logs to the handler's logger, or to slog.Default() as it is now.
func (h *notificationHandler) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	l := h.cfg.logger
	if l == nil {
		l = slog.Default()
	}
	l.LogAttrs(ctx, level, msg, attrs...)
}
