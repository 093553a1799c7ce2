// Reading and verifying a payment notification: the body read under a
// limit and parsed as a form whatever its Content-Type, its fields checked
// to have only one cut, then verified with HipoPay's callback key
// (ParseNotificationRequest, ParseNotificationForm, Client.ParseNotification).
//
// HipoPay calls: POST to the merchant's notify_url (form fields, headers
// Timestamp and Signature).

package hipopay

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// DefaultMaxNotificationBytes is the largest notification body read by
// default (1 MiB); a real notification is well under 2 KiB.
const DefaultMaxNotificationBytes int64 = 1 << 20

// ErrNotificationTooLarge is matched (errors.Is) when a notification's body
// is larger than the limit. The handler answers it with 413.
var ErrNotificationTooLarge = errors.New("hipopay: notification body too large")

// ErrMalformedNotification is matched (errors.Is) when a notification's body
// cannot be read or parsed as a form, when its fields could be cut another
// way ([ErrAmbiguousNotification]), or when a verified notification lacks
// payment_no. The handler answers it with 400.
var ErrMalformedNotification = errors.New("hipopay: malformed notification")

// ErrAmbiguousNotification is matched (errors.Is), with
// [ErrMalformedNotification], when a notification has a field name holding
// '&' or '=', a value holding '&', or a Timestamp holding ',': its signed
// string could be cut into other fields, so it is refused before verifying.
// HipoPay never sends such a notification; see SECURITY.md ("Re-cut
// notifications").
var ErrAmbiguousNotification = fmt.Errorf("%w: its fields can be cut more than one way", ErrMalformedNotification)

// ParseNotification reads and verifies a payment notification with the
// client's HipoPay callback key, for merchants who answer HipoPay
// themselves ([Client.NotificationHandler] does it for them).
//
// HipoPay calls: POST to the merchant's notify_url.
//
// It does not ask HipoPay to confirm the payment, as the handler does: see
// [Client.GetPayment]. It fails as [ParseNotificationRequest] does, with
// a limit of [DefaultMaxNotificationBytes].
func (c *Client) ParseNotification(r *http.Request) (*PaymentNotification, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil *Client", ErrInvalidSignature)
	}
	return ParseNotificationRequest(c.hipopayKey, r, DefaultMaxNotificationBytes)
}

// ParseNotificationRequest reads a payment notification from r and verifies
// it with pub, HipoPay's callback public key. It does not check the method.
//
// HipoPay calls: POST to the merchant's notify_url.
//
// It reads the body once, at most maxBytes ([DefaultMaxNotificationBytes]
// when maxBytes <= 0), as a form whatever its Content-Type; r.PostForm
// when middleware already consumed the body.
//
// Errors: a body over the limit ([ErrNotificationTooLarge]); a body that is
// not a form, fields that could be cut another way
// ([ErrAmbiguousNotification]) or no payment_no ([ErrMalformedNotification]);
// a missing Timestamp or a missing or wrong Signature ([ErrInvalidSignature]).
// A time or promotion_detail that does not parse is named in Unparsed.
func ParseNotificationRequest(pub *rsa.PublicKey, r *http.Request, maxBytes int64) (*PaymentNotification, error) {
	fields, raw, err := readNotificationForm(nil, r, maxBytes)
	if err != nil {
		return nil, err
	}
	timestamp := r.Header.Get("Timestamp")
	if fields, err = verifyNotification(pub, fields, raw, timestamp, r.Header.Get("Signature"), nil); err != nil {
		return nil, err
	}
	return notificationOf(fields, timestamp)
}

// ParseNotificationForm verifies a payment notification's fields, exactly as
// received (every field of the body, unchanged), against its Timestamp and
// Signature headers with pub, then returns them typed. It serves merchants
// whose framework has already read the body.
//
// HipoPay calls: POST to the merchant's notify_url.
//
// Errors: fields that could be cut another way ([ErrAmbiguousNotification]);
// a missing timestamp or a missing or wrong signature
// ([ErrInvalidSignature]); a verified notification without payment_no
// ([ErrMalformedNotification]). Errors never contain the signature.
func ParseNotificationForm(pub *rsa.PublicKey, fields url.Values, timestamp, signature string) (*PaymentNotification, error) {
	if err := checkOneCut(fields); err != nil {
		return nil, err
	}
	fields, err := verifyNotification(pub, fields, "", timestamp, signature, nil)
	if err != nil {
		return nil, err
	}
	return notificationOf(fields, timestamp)
}

// verifyNotification verifies fields (checked to have one cut), parsed
// from the body raw ("" when the body is not at hand), after checking
// timestamp with fresh (when not nil). It returns the fields verified:
// fields, or those of raw without a trailing CR/LF (a proxy may append
// one) when only they verify.
func verifyNotification(pub *rsa.PublicKey, fields url.Values, raw, timestamp, signature string, fresh func(string) error) (url.Values, error) {
	if strings.IndexByte(timestamp, ',') >= 0 {
		// The timestamp follows the last value after a ',': one with a ','
		// could take a piece of that value, or give it one.
		return nil, fmt.Errorf("%w: the Timestamp header holds ','", ErrAmbiguousNotification)
	}
	if timestamp == "" {
		return nil, fmt.Errorf("%w: Timestamp header is missing", ErrInvalidSignature)
	}
	if fresh != nil {
		if err := fresh(timestamp); err != nil {
			return nil, err
		}
	}
	err := VerifyNotificationSignature(pub, fields, timestamp, signature)
	if err == nil {
		return fields, nil
	}
	if trimmed := strings.TrimRight(raw, "\r\n"); len(trimmed) < len(raw) {
		f, perr := parseNotificationBody(trimmed)
		if perr == nil && VerifyNotificationSignature(pub, f, timestamp, signature) == nil {
			return f, nil
		}
	}
	return nil, err
}

// checkOneCut refuses fields whose to-be-signed string could be cut into
// other fields: a name holding '&' or '=', a value holding '&'. Without
// them (and a Timestamp without ',') the string splits one way only.
func checkOneCut(fields url.Values) error {
	for name, values := range fields {
		if err := checkFieldCut(name, values...); err != nil {
			return err
		}
	}
	return nil
}

func checkFieldCut(name string, values ...string) error {
	if strings.IndexByte(name, '&') >= 0 || strings.IndexByte(name, '=') >= 0 {
		return fmt.Errorf("%w: field name %.40q holds '&' or '='", ErrAmbiguousNotification, name)
	}
	for _, v := range values {
		if strings.IndexByte(v, '&') >= 0 {
			return fmt.Errorf("%w: the value of %.40q holds '&'", ErrAmbiguousNotification, name)
		}
	}
	return nil
}

// readNotificationForm reads r's body once, at most maxBytes, and parses it
// as a form whatever its Content-Type; it returns the fields, checked to
// have one cut, and the body. A body already consumed by r.ParseForm
// (empty, with r.PostForm filled) gives r.PostForm and an empty body. w, when not nil, is told of a body
// over the limit (see [http.MaxBytesReader]).
func readNotificationForm(w http.ResponseWriter, r *http.Request, maxBytes int64) (fields url.Values, raw string, err error) {
	if r == nil {
		return nil, "", fmt.Errorf("%w: no request", ErrMalformedNotification)
	}
	if r.Body == nil {
		if len(r.PostForm) > 0 {
			return r.PostForm, "", checkOneCut(r.PostForm)
		}
		return nil, "", fmt.Errorf("%w: no request body", ErrMalformedNotification)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxNotificationBytes
	}
	if r.ContentLength > maxBytes {
		return nil, "", fmt.Errorf("%w: Content-Length %d over the limit of %d bytes", ErrNotificationTooLarge, r.ContentLength, maxBytes)
	}
	// io.ReadAll's buffer starts small and grows with what arrives, never
	// with what Content-Length claims: a stalled body pins only the bytes
	// it sent.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, "", fmt.Errorf("%w: %w", ErrNotificationTooLarge, err)
		}
		return nil, "", fmt.Errorf("%w: reading body: %w", ErrMalformedNotification, err)
	}
	if len(body) == 0 && len(r.PostForm) > 0 {
		// Middleware read the body with r.ParseForm: its fields are all
		// that is left, and verification tells whether they are complete.
		return r.PostForm, "", checkOneCut(r.PostForm)
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
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return nil, fmt.Errorf("%w: body is not a form: %w", ErrMalformedNotification, err)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, fmt.Errorf("%w: body is not a form: %w", ErrMalformedNotification, err)
		}
		// Only an escape (%26, %3D) puts '&' or '=' in a name or value.
		if strings.IndexByte(pair, '%') >= 0 {
			if err := checkFieldCut(name, value); err != nil {
				return nil, err
			}
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
