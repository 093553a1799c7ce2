// Payment notifications: verifying what HipoPay POSTs to notify_url, and an
// http.Handler that processes each payment exactly once.
//
// HipoPay calls: POST to the merchant's notify_url (form fields, headers
// Timestamp and Signature).
//
// Three layers, each usable alone: VerifyNotificationSignature and
// ParseNotificationForm work on values already read; ParseNotificationRequest
// (and Client.ParseNotification) read and verify an *http.Request;
// NewNotificationHandler (and Client.NotificationHandler) answer HipoPay,
// deduplicating deliveries through a NotificationStore.

package hipopay

import (
	"container/list"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultMaxNotificationBytes is the largest notification body read by
// default (1 MiB); a real notification is well under 2 KiB.
const DefaultMaxNotificationBytes int64 = 1 << 20

// ErrNotificationTooLarge is matched (errors.Is) when a notification's body
// is larger than the limit. The handler answers it with 413.
var ErrNotificationTooLarge = errors.New("hipopay: notification body too large")

// ErrMalformedNotification is matched (errors.Is) when a notification's body
// cannot be read or parsed as a form, or when a verified notification lacks
// payment_no. The handler answers it with 400. (A verified notification
// with a field of the wrong shape, a time or promotion_detail, is not an
// error: see PaymentNotification.Unparsed.)
var ErrMalformedNotification = errors.New("hipopay: malformed notification")

// PaymentNotification is a verified payment notification.
type PaymentNotification struct {
	Status                                PaymentStatus // PAID: HipoPay notifies only paid orders (see NewNotificationHandler for others)
	TradeType, ExchangeRate               string
	PaymentNo, OutTradeID                 string
	Currency, SettleCurrency, PayCurrency Currency
	Amount, PayAmount                     string      // decimal text, as received
	TradeTime, FinishTime                 time.Time   // in UTC+8 (ChinaTimeZone)
	PayRate, PayRateReversed, BankType    string      // response_version 3.0
	PromotionDetail                       []Promotion // response_version 3.0
	Timestamp                             string      // the Timestamp header
	Fields                                url.Values  // every field as received, unknown ones included

	// Unparsed names the fields of this verified notification whose value
	// did not parse ("trade_time", "finish_time", "promotion_detail"), in
	// that order; nil when all did. Their typed field is left zero, the raw
	// value is in Fields. HipoPay signed them, so the notification is not
	// refused for it: a refusal would have HipoPay deliver a paid order's
	// notification again and again, never processed.
	Unparsed []string
}

// Promotion is one entry of promotion_detail (response_version 3.0): a
// coupon or discount applied to the payment. Numbers HipoPay sends as JSON
// numbers (amount) are kept as their text.
type Promotion struct {
	ActivityID  string `json:"activity_id"`  // e.g. "931386"
	Name        string `json:"name"`         // e.g. "coupon-6"
	Amount      string `json:"amount"`       // promotion amount, e.g. "1"
	PromotionID string `json:"promotion_id"` // coupon ID, e.g. "109519"
	Scope       string `json:"scope"`        // GLOBAL or SINGLE
	Type        string `json:"type"`         // COUPON or DISCOUNT
}

// promotionJSON decodes a Promotion whose values may be strings or numbers.
type promotionJSON struct {
	ActivityID  flexString `json:"activity_id"`
	Name        flexString `json:"name"`
	Amount      flexString `json:"amount"`
	PromotionID flexString `json:"promotion_id"`
	Scope       flexString `json:"scope"`
	Type        flexString `json:"type"`
}

// NotificationFunc processes a verified payment notification: typically it
// marks the order paid. It must return nil only once its effects are
// committed; an error (or a panic) makes the handler answer 500 so that
// HipoPay delivers the notification again.
type NotificationFunc func(ctx context.Context, n *PaymentNotification) error

// ParseNotification reads and verifies a payment notification with the
// client's HipoPay callback key, for merchants who answer HipoPay
// themselves (NotificationHandler does it for them).
//
// HipoPay calls: POST to the merchant's notify_url.
//
// It reads at most DefaultMaxNotificationBytes and parses the body as a form
// whatever its Content-Type. Errors match ErrNotificationTooLarge,
// ErrMalformedNotification, or ErrInvalidSignature (a missing or wrong
// Signature, a missing Timestamp); see ParseNotificationRequest. A verified
// notification with a time or promotion_detail that does not parse is
// returned with a nil error, that field zero and named in Unparsed.
func (c *Client) ParseNotification(r *http.Request) (*PaymentNotification, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil *Client", ErrInvalidSignature)
	}
	return ParseNotificationRequest(c.hipopayKey, r, DefaultMaxNotificationBytes)
}

// ParseNotificationRequest reads a payment notification from r and verifies
// it with pub, HipoPay's callback public key.
//
// HipoPay calls: POST to the merchant's notify_url.
//
// It reads the body once, at most maxBytes (DefaultMaxNotificationBytes
// when maxBytes <= 0), and parses it as a form whatever the Content-Type
// says (HipoPay may send none, or a wrong one): pairs are split on '&'
// only (a raw ';' is part of a value, unlike url.ParseQuery), each at its
// first '=', and unescaped as url.QueryUnescape does. It does not check
// the method.
//
// When middleware already consumed the body with r.ParseForm (the body is
// empty but r.PostForm is not), it verifies r.PostForm instead.
//
// When the signature does not verify and the body ends in line breaks
// (CR/LF, which some proxies append), it verifies once more without them:
// that accepts only what HipoPay signed.
//
// What can go wrong: a body over the limit (ErrNotificationTooLarge); a
// body that cannot be read or is not a form (ErrMalformedNotification); a
// missing Timestamp, a missing or wrong Signature (ErrInvalidSignature);
// then, after verification, a missing payment_no (ErrMalformedNotification).
// A verified notification with a time or promotion_detail that does not
// parse is returned with a nil error (see PaymentNotification.Unparsed).
func ParseNotificationRequest(pub *rsa.PublicKey, r *http.Request, maxBytes int64) (*PaymentNotification, error) {
	fields, raw, err := readNotificationForm(r, maxBytes)
	if err != nil {
		return nil, err
	}
	timestamp := r.Header.Get("Timestamp")
	if fields, err = verifyNotification(pub, fields, raw, timestamp, r.Header.Get("Signature")); err != nil {
		return nil, err
	}
	return notificationOf(fields, timestamp)
}

// ParseNotificationForm verifies a payment notification's fields, exactly as
// received, against its Timestamp and Signature headers with pub, then
// returns them typed. It serves merchants whose framework has already read
// the body; the fields must be every field of the body, unchanged (a
// framework that parses the form only for the form Content-Type drops them
// all).
//
// HipoPay calls: POST to the merchant's notify_url.
//
// What can go wrong: a missing timestamp or a missing or wrong signature
// (ErrInvalidSignature); a verified notification without payment_no
// (ErrMalformedNotification). A verified notification with a time or
// promotion_detail that does not parse is returned with a nil error, that
// field zero and named in Unparsed. Errors never contain the signature.
// (Only the functions that read the body themselves retry without a
// trailing line break: here the body is gone.)
func ParseNotificationForm(pub *rsa.PublicKey, fields url.Values, timestamp, signature string) (*PaymentNotification, error) {
	fields, err := verifyNotification(pub, fields, "", timestamp, signature)
	if err != nil {
		return nil, err
	}
	return notificationOf(fields, timestamp)
}

// verifyNotification verifies fields, parsed from the body raw ("" when
// the body is not at hand), against timestamp and signature, and returns
// the fields verified: fields, or those of raw without its trailing CR/LF
// when only they verify.
func verifyNotification(pub *rsa.PublicKey, fields url.Values, raw, timestamp, signature string) (url.Values, error) {
	if timestamp == "" {
		return nil, fmt.Errorf("%w: Timestamp header is missing", ErrInvalidSignature)
	}
	// Verify first, over the raw fields: nothing is trusted, re-formatted
	// or dropped before.
	err := VerifyNotificationSignature(pub, fields, timestamp, signature)
	if err == nil {
		return fields, nil
	}
	// A proxy may have appended a line break to the body, which then ends
	// the last value. Verifying without it accepts only what HipoPay
	// signed.
	if trimmed := strings.TrimRight(raw, "\r\n"); len(trimmed) < len(raw) {
		if f, perr := parseNotificationBody(trimmed); perr == nil && VerifyNotificationSignature(pub, f, timestamp, signature) == nil {
			return f, nil
		}
	}
	return nil, err
}

// notificationOf types the fields of a verified notification. Only a
// missing payment_no is an error; a field that does not parse is left zero
// and named in Unparsed.
func notificationOf(fields url.Values, timestamp string) (*PaymentNotification, error) {
	get := func(name string) string {
		if vs := fields[name]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	n := &PaymentNotification{
		Status:          PaymentStatus(get("status")),
		TradeType:       get("trade_type"),
		ExchangeRate:    get("exchange_rate"),
		PaymentNo:       get("payment_no"),
		OutTradeID:      get("out_trade_id"),
		Currency:        Currency(get("currency")),
		SettleCurrency:  Currency(get("settle_currency")),
		PayCurrency:     Currency(get("pay_currency")),
		Amount:          get("amount"),
		PayAmount:       get("pay_amount"),
		PayRate:         get("pay_rate"),
		PayRateReversed: get("pay_rate_reversed"),
		BankType:        get("bank_type"),
		Timestamp:       timestamp,
		Fields:          fields,
	}
	if n.PaymentNo == "" {
		return nil, fmt.Errorf("%w: payment_no is missing", ErrMalformedNotification)
	}
	var err error
	if n.TradeTime, err = parseTime(get("trade_time")); err != nil {
		n.TradeTime = time.Time{}
		n.Unparsed = append(n.Unparsed, "trade_time")
	}
	if n.FinishTime, err = parseTime(get("finish_time")); err != nil {
		n.FinishTime = time.Time{}
		n.Unparsed = append(n.Unparsed, "finish_time")
	}
	if n.PromotionDetail, err = parsePromotions(get("promotion_detail")); err != nil {
		n.PromotionDetail = nil
		n.Unparsed = append(n.Unparsed, "promotion_detail")
	}
	return n, nil
}

// parsePromotions decodes promotion_detail, a JSON array of objects sent as
// text (a lone object is accepted too). Empty text or null is no promotion.
func parsePromotions(s string) ([]Promotion, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return nil, nil
	}
	if out, ok := scanPromotions(s); ok {
		return out, nil
	}
	return decodePromotions(s)
}

// decodePromotions is parsePromotions through encoding/json, leniently
// (Python-flavoured True, None, trailing commas are accepted).
func decodePromotions(s string) ([]Promotion, error) {
	var raw []promotionJSON
	if strings.HasPrefix(s, "{") {
		var one promotionJSON
		if err := unmarshalLenient([]byte(s), &one); err != nil {
			return nil, err
		}
		raw = []promotionJSON{one}
	} else if err := unmarshalLenient([]byte(s), &raw); err != nil {
		return nil, err
	}
	out := make([]Promotion, len(raw))
	for i, p := range raw {
		out[i] = Promotion{
			ActivityID:  string(p.ActivityID),
			Name:        string(p.Name),
			Amount:      string(p.Amount),
			PromotionID: string(p.PromotionID),
			Scope:       string(p.Scope),
			Type:        string(p.Type),
		}
	}
	return out, nil
}

// scanPromotions is parsePromotions' fast path for what HipoPay sends: an
// array of (or a lone) flat object whose keys are exactly the six known
// ones and whose values are plain strings (no escapes) or numbers. It
// allocates only the result, its strings sharing s. Anything else (escapes,
// null, unknown or mis-cased keys, nesting, Python-flavoured JSON, errors)
// returns ok == false, and encoding/json decides; where both succeed they
// agree (see the tests).
func scanPromotions(s string) (out []Promotion, ok bool) {
	sc := promotionScanner{s: s}
	sc.space()
	if sc.peek() == '{' {
		p, ok := sc.object()
		if !ok || !sc.end() {
			return nil, false
		}
		return []Promotion{p}, true
	}
	if !sc.consume('[') {
		return nil, false
	}
	out = make([]Promotion, 0, 2)
	sc.space()
	if sc.consume(']') {
		return out, sc.end()
	}
	for {
		p, ok := sc.object()
		if !ok {
			return nil, false
		}
		out = append(out, p)
		sc.space()
		if sc.consume(']') {
			return out, sc.end()
		}
		if !sc.consume(',') {
			return nil, false
		}
		sc.space()
	}
}

type promotionScanner struct {
	s string
	i int
}

func (sc *promotionScanner) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

func (sc *promotionScanner) consume(c byte) bool {
	if sc.peek() == c {
		sc.i++
		return true
	}
	return false
}

func (sc *promotionScanner) space() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

func (sc *promotionScanner) end() bool {
	sc.space()
	return sc.i == len(sc.s)
}

// object scans {"key": value, ...} at the current position.
func (sc *promotionScanner) object() (p Promotion, ok bool) {
	if !sc.consume('{') {
		return p, false
	}
	sc.space()
	if sc.consume('}') {
		return p, true
	}
	for {
		key, ok := sc.str()
		if !ok {
			return p, false
		}
		sc.space()
		if !sc.consume(':') {
			return p, false
		}
		sc.space()
		var val string
		if sc.peek() == '"' {
			val, ok = sc.str()
		} else {
			val, ok = sc.number()
		}
		if !ok {
			return p, false
		}
		switch key {
		case "activity_id":
			p.ActivityID = val
		case "name":
			p.Name = val
		case "amount":
			p.Amount = val
		case "promotion_id":
			p.PromotionID = val
		case "scope":
			p.Scope = val
		case "type":
			p.Type = val
		default:
			return p, false
		}
		sc.space()
		if sc.consume('}') {
			return p, true
		}
		if !sc.consume(',') {
			return p, false
		}
		sc.space()
	}
}

// str scans a string without escapes or control characters, valid UTF-8.
func (sc *promotionScanner) str() (string, bool) {
	if !sc.consume('"') {
		return "", false
	}
	start := sc.i
	ascii := true
	for ; sc.i < len(sc.s); sc.i++ {
		switch c := sc.s[sc.i]; {
		case c == '"':
			v := sc.s[start:sc.i]
			sc.i++
			return v, ascii || utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *promotionScanner) number() (string, bool) {
	start := sc.i
	digits := func() int {
		n := 0
		for sc.i < len(sc.s) && '0' <= sc.s[sc.i] && sc.s[sc.i] <= '9' {
			sc.i++
			n++
		}
		return n
	}
	sc.consume('-')
	if sc.consume('0') {
		if c := sc.peek(); '0' <= c && c <= '9' {
			return "", false
		}
	} else if digits() == 0 {
		return "", false
	}
	if sc.consume('.') && digits() == 0 {
		return "", false
	}
	if sc.consume('e') || sc.consume('E') {
		if !sc.consume('+') {
			sc.consume('-')
		}
		if digits() == 0 {
			return "", false
		}
	}
	return sc.s[start:sc.i], true
}

// readNotificationForm reads r's body once, at most maxBytes, and parses it
// as a form whatever its Content-Type; it returns the fields and the body.
// A body already consumed by r.ParseForm (empty, with r.PostForm filled)
// gives r.PostForm and an empty body.
func readNotificationForm(r *http.Request, maxBytes int64) (fields url.Values, raw string, err error) {
	if r == nil {
		return nil, "", fmt.Errorf("%w: no request", ErrMalformedNotification)
	}
	if r.Body == nil {
		if len(r.PostForm) > 0 {
			return r.PostForm, "", nil
		}
		return nil, "", fmt.Errorf("%w: no request body", ErrMalformedNotification)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxNotificationBytes
	}
	if r.ContentLength > maxBytes {
		return nil, "", fmt.Errorf("%w: Content-Length %d over the limit of %d bytes", ErrNotificationTooLarge, r.ContentLength, maxBytes)
	}
	body, err := readNotificationBody(r.Body, r.ContentLength, maxBytes)
	if err != nil {
		return nil, "", err
	}
	if len(body) == 0 && len(r.PostForm) > 0 {
		// Middleware read the body with r.ParseForm: its fields are all
		// that is left, and verification tells whether they are complete.
		return r.PostForm, "", nil
	}
	raw = string(body)
	if fields, err = parseNotificationBody(raw); err != nil {
		return nil, "", err
	}
	return fields, raw, nil
}

// maxNotificationFields bounds the pairs of a notification's body, as
// url.ParseQuery's default does; a real notification has about 20.
const maxNotificationFields = 10000

// parseNotificationBody parses a form body: pairs separated by '&' only,
// empty pairs skipped, each split at its first '=' (a pair without one is
// a name with an empty value), names and values unescaped with
// url.QueryUnescape ('+' is a space), an invalid escape refused. Repeated
// names keep their values in order. Where url.ParseQuery succeeds it gives
// the same result; unlike it, a raw ';' is text, not an error. The values
// share memory with body when they hold no escape.
func parseNotificationBody(body string) (url.Values, error) {
	pairs := strings.Count(body, "&") + 1
	if pairs > maxNotificationFields {
		return nil, fmt.Errorf("%w: body has more than %d fields", ErrMalformedNotification, maxNotificationFields)
	}
	fields := make(url.Values, min(pairs, 64))
	// One backing array for the values: a name seen once (nearly all of
	// them) takes a one-element slice of it, capped so that a repeated
	// name's append copies instead of overwriting its neighbour.
	values := make([]string, pairs)
	used := 0
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return nil, fmt.Errorf("%w: body is not a form: %w", ErrMalformedNotification, err)
		}
		if value, err = url.QueryUnescape(value); err != nil {
			return nil, fmt.Errorf("%w: body is not a form: %w", ErrMalformedNotification, err)
		}
		if vs, ok := fields[name]; ok {
			fields[name] = append(vs, value)
			continue
		}
		values[used] = value
		fields[name] = values[used : used+1 : used+1]
		used++
	}
	return fields, nil
}

// readNotificationBody reads all of body, refusing more than maxBytes. A known
// Content-Length sizes the buffer in one allocation.
func readNotificationBody(body io.Reader, contentLength, maxBytes int64) ([]byte, error) {
	size := int64(512)
	if contentLength >= 0 {
		size = contentLength + 1 // room to see EOF without growing
	}
	if size > maxBytes+1 {
		size = maxBytes + 1
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(body, maxBytes+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, fmt.Errorf("%w: %w", ErrNotificationTooLarge, err)
			}
			return nil, fmt.Errorf("%w: reading body: %w", ErrMalformedNotification, err)
		}
	}
	if int64(len(buf)) > maxBytes {
		return nil, fmt.Errorf("%w: over the limit of %d bytes", ErrNotificationTooLarge, maxBytes)
	}
	return buf, nil
}

// HandlerOption configures a notification handler. Options cannot fail:
// a nil or non-positive value leaves the default.
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	store     NotificationStore
	maxBytes  int64
	tolerance time.Duration
	now       func() time.Time
	logger    *slog.Logger
}

// WithStore makes the handler deduplicate through store instead of its own
// in-memory MemoryStore: a database-backed store (NewSQLStore) shared by
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
// DefaultMaxNotificationBytes); a larger one is answered with 413.
func WithMaxBodyBytes(n int64) HandlerOption {
	return func(c *handlerConfig) {
		if n > 0 {
			c.maxBytes = n
		}
	}
}

// WithTimestampTolerance makes the handler refuse (401) a notification
// whose Timestamp header is more than d away from the handler's clock.
//
// It is off by default, on purpose: a replayed notification carries a
// valid signature only for a real payment, so replaying it merely
// re-asserts that payment (and the handler deduplicates it); HipoPay signs
// each delivery afresh with the time it was sent, but its retries span
// almost an hour; and a merchant whose clock is off would reject every
// delivery until HipoPay gives up. If you turn it on, keep d generous
// (minutes) and the server's clock synchronized.
func WithTimestampTolerance(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.tolerance = d
		}
	}
}

// WithHandlerClock sets the clock the handler checks the timestamp
// tolerance with and its default MemoryStore expires entries with
// (time.Now by default; the Client's clock for Client.NotificationHandler).
// Tests use it.
func WithHandlerClock(now func() time.Time) HandlerOption {
	return func(c *handlerConfig) {
		if now != nil {
			c.now = now
		}
	}
}

// WithHandlerLogger logs each refused delivery (Warn), each failure of the
// merchant's function (Error) and each acknowledged delivery (Info) to l.
// The handler is silent without it (Client.NotificationHandler uses the
// client's logger, if any). Nothing logged holds the Signature header.
func WithHandlerLogger(l *slog.Logger) HandlerOption {
	return func(c *handlerConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// NotificationHandler returns an http.Handler answering HipoPay's payment
// notifications, verified with the client's HipoPay callback key, with the
// client's logger and clock unless opts set others. See
// NewNotificationHandler.
//
// HipoPay calls: POST to the merchant's notify_url.
func (c *Client) NotificationHandler(fn NotificationFunc, opts ...HandlerOption) http.Handler {
	if c == nil {
		return NewNotificationHandler(nil, fn, opts...)
	}
	base := make([]HandlerOption, 0, len(opts)+2)
	base = append(base, WithHandlerClock(c.now), WithHandlerLogger(c.logger))
	return NewNotificationHandler(c.hipopayKey, fn, append(base, opts...)...)
}

// NewNotificationHandler returns an http.Handler that verifies HipoPay's
// payment notifications with pub (HipoPay's callback public key) and runs
// fn at most once to success per payment_no and status.
//
// HipoPay calls: POST to the merchant's notify_url, and again (up to 10
// more times over almost an hour) until it gets 200 with the body
// "success".
//
// The handler answers 200 "success" only once fn returned nil, or when the
// payment was already processed (a duplicate: fn is not called again).
// Concurrent deliveries of one payment wait while one of them runs fn.
// Otherwise it answers, with a short plain-text body: 405 for any method
// but POST; 413 for a body over the limit (WithMaxBodyBytes, 1 MiB by
// default); 400 for a body that is not a form, or a verified notification
// without payment_no; 401 for a missing or wrong Signature, a missing
// Timestamp, or a stale one when WithTimestampTolerance is set; 500 when
// fn returned an error or panicked (the panic is recovered and logged,
// nothing is recorded), so that HipoPay delivers again and fn runs again.
//
// The body is read as ParseNotificationRequest does: as a form whatever
// its Content-Type, r.PostForm when middleware already consumed it, and
// verified once more without a trailing line break a proxy added. A
// verified notification whose time or promotion_detail does not parse is
// not refused (HipoPay would deliver it again and again): fn gets it with
// that field zero and named in Unparsed, and the handler logs a warning
// naming the field.
//
// Deliveries are deduplicated by the store under a key: the payment_no for
// a PAID notification (the only status HipoPay notifies), and payment_no,
// a zero byte and the status for any other status, so that processing,
// say, a CLOSED notification never makes a later PAID one of the same
// payment a duplicate.
//
// By default it deduplicates in memory, per handler (see MemoryStore): a
// restart or a second instance forgets, so fn should still be idempotent,
// or use WithStore with a shared store.
func NewNotificationHandler(pub *rsa.PublicKey, fn NotificationFunc, opts ...HandlerOption) http.Handler {
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
	pub *rsa.PublicKey
	fn  NotificationFunc
	cfg handlerConfig
}

func (h *notificationHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(ctx, w, r, http.StatusMethodNotAllowed, nil)
		return
	}
	fields, raw, err := readNotificationForm(r, h.cfg.maxBytes)
	if err != nil {
		h.refuse(ctx, w, r, statusOf(err), err)
		return
	}
	timestamp := r.Header.Get("Timestamp")
	if h.cfg.tolerance > 0 && timestamp != "" {
		// Checked before verifying: a stale delivery costs no RSA work.
		if err := h.checkFresh(timestamp); err != nil {
			h.refuse(ctx, w, r, http.StatusUnauthorized, err)
			return
		}
	}
	if fields, err = verifyNotification(h.pub, fields, raw, timestamp, r.Header.Get("Signature")); err != nil {
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
	if err != nil {
		h.log(ctx, slog.LevelError, "hipopay: processing the notification failed; HipoPay will deliver it again",
			slog.String("payment_no", n.PaymentNo), slog.String("out_trade_id", n.OutTradeID), slog.Any("error", err))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h.log(ctx, slog.LevelInfo, "hipopay: notification acknowledged",
		slog.String("payment_no", n.PaymentNo), slog.String("out_trade_id", n.OutTradeID), slog.Bool("duplicate", !ran))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "success")
}

// process runs fn through the store. A panic in fn becomes an error before
// it reaches the store, so that any store releases its lock and records
// nothing; a panic in the store itself is recovered too.
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
		return h.fn(ctx, n)
	})
}

// notificationKey is the deduplication key of n: its payment_no when PAID,
// else payment_no, a zero byte and the status, so that a processed
// notification of another status never hides a later PAID one.
func notificationKey(n *PaymentNotification) string {
	if n.Status == PaymentStatusPaid {
		return n.PaymentNo
	}
	return n.PaymentNo + "\x00" + string(n.Status)
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

// refuse answers an error status with its plain status text: no internals.
func (h *notificationHandler) refuse(ctx context.Context, w http.ResponseWriter, r *http.Request, status int, err error) {
	if h.cfg.logger != nil {
		attrs := []slog.Attr{slog.Int("status", status), slog.String("method", r.Method), slog.String("remote_addr", r.RemoteAddr)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		h.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "hipopay: notification refused", attrs...)
	}
	http.Error(w, http.StatusText(status), status)
}

func (h *notificationHandler) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if h.cfg.logger != nil {
		h.cfg.logger.LogAttrs(ctx, level, msg, attrs...)
	}
}

// NotificationStore records which payments' notifications were processed
// and serializes their processing, so that the handler runs the merchant's
// function at most once to success per payment however many times and
// however concurrently HipoPay delivers. The handler's default store is in
// memory, per handler (MemoryStore); a database-backed store (NewSQLStore)
// serves several instances.
type NotificationStore interface {
	// Process runs fn for paymentNo unless that payment was already
	// processed. The handler passes the notification's deduplication key
	// as paymentNo: the payment_no itself for a PAID notification,
	// payment_no + "\x00" + status for any other status (see
	// NewNotificationHandler); a store should keep it as an opaque string. It holds a lock for paymentNo while fn runs: concurrent
	// calls for the same payment wait for it. When fn returns nil the
	// payment is recorded as processed (together with fn's own effects,
	// when fn works through the store's transaction), and later or waiting
	// calls return ran == false without calling fn. When fn returns an
	// error or panics nothing is recorded, the lock is released, and the
	// error (or panic) is passed on. ctx given to fn may carry the store's
	// transaction (see TxFromContext).
	Process(ctx context.Context, paymentNo string, fn func(ctx context.Context) error) (ran bool, err error)
}

// Defaults of MemoryStoreOptions.
const (
	// DefaultMemoryStoreTTL is how long a processed payment is remembered:
	// far beyond HipoPay's retries, which span under an hour.
	DefaultMemoryStoreTTL = 24 * time.Hour
	// DefaultMemoryStoreMaxEntries caps the processed payments remembered
	// (about 100 bytes each).
	DefaultMemoryStoreMaxEntries = 100_000
)

// MemoryStoreOptions bounds a MemoryStore; a zero or negative field takes
// its default.
type MemoryStoreOptions struct {
	TTL        time.Duration    // how long a processed payment is remembered (DefaultMemoryStoreTTL)
	MaxEntries int              // how many processed payments are remembered at most (DefaultMemoryStoreMaxEntries)
	Clock      func() time.Time // time.Now
}

// MemoryStore is a NotificationStore in memory: a lock per payment being
// processed, and a bounded record of processed payments that expire after
// a TTL and of which the oldest are forgotten beyond MaxEntries. It serves
// one process: a restart or another instance does not see its records, so
// a payment forgotten there is processed again. It is safe for concurrent
// use; the zero value is not usable, call NewMemoryStore.
type MemoryStore struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu       sync.Mutex
	inflight map[string]chan struct{} // closed when the running fn returns
	done     map[string]*list.Element // processed payments, into order
	order    *list.List               // of processedEntry, oldest first
}

type processedEntry struct {
	paymentNo string
	at        time.Time
}

// NewMemoryStore returns an empty MemoryStore bounded by opts.
func NewMemoryStore(opts MemoryStoreOptions) *MemoryStore {
	s := &MemoryStore{
		ttl:      opts.TTL,
		max:      opts.MaxEntries,
		now:      opts.Clock,
		inflight: make(map[string]chan struct{}),
		done:     make(map[string]*list.Element),
		order:    list.New(),
	}
	if s.ttl <= 0 {
		s.ttl = DefaultMemoryStoreTTL
	}
	if s.max <= 0 {
		s.max = DefaultMemoryStoreMaxEntries
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Process implements NotificationStore: it runs fn unless paymentNo was
// processed within the TTL, waiting (or giving up with ctx's error) while
// another call runs fn for the same payment. A panic in fn releases the
// lock, records nothing and is passed on.
func (s *MemoryStore) Process(ctx context.Context, paymentNo string, fn func(ctx context.Context) error) (ran bool, err error) {
	var running chan struct{}
	for running == nil {
		s.mu.Lock()
		s.expireLocked(s.now())
		if _, ok := s.done[paymentNo]; ok {
			s.mu.Unlock()
			return false, nil
		}
		if wait, ok := s.inflight[paymentNo]; ok {
			s.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		// Our own copy: paymentNo may share memory with the whole body.
		paymentNo = strings.Clone(paymentNo)
		running = make(chan struct{})
		s.inflight[paymentNo] = running
		s.mu.Unlock()
	}

	succeeded := false
	defer func() {
		s.mu.Lock()
		delete(s.inflight, paymentNo)
		if succeeded {
			s.recordLocked(paymentNo, s.now())
		}
		s.mu.Unlock()
		close(running)
	}()
	err = fn(ctx)
	succeeded = err == nil
	return true, err
}

// recordLocked remembers paymentNo as processed, forgetting the oldest
// records beyond the cap.
func (s *MemoryStore) recordLocked(paymentNo string, now time.Time) {
	if e, ok := s.done[paymentNo]; ok {
		s.order.Remove(e)
	}
	s.done[paymentNo] = s.order.PushBack(processedEntry{paymentNo: paymentNo, at: now})
	for s.order.Len() > s.max {
		s.removeLocked(s.order.Front())
	}
}

// expireLocked forgets records older than the TTL. Records are in the
// order they were made, so it stops at the first fresh one.
func (s *MemoryStore) expireLocked(now time.Time) {
	for e := s.order.Front(); e != nil; e = s.order.Front() {
		if now.Sub(e.Value.(processedEntry).at) < s.ttl {
			return
		}
		s.removeLocked(e)
	}
}

func (s *MemoryStore) removeLocked(e *list.Element) {
	delete(s.done, e.Value.(processedEntry).paymentNo)
	s.order.Remove(e)
}

// Len returns how many processed payments the store remembers.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(s.now())
	return s.order.Len()
}
