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
// when maxBytes <= 0), as a form whatever its Content-Type (a raw ';' is
// text); r.PostForm when middleware already consumed the body.
//
// Errors: a body over the limit ([ErrNotificationTooLarge]); a body that is
// not a form or fields that could be cut another way
// ([ErrMalformedNotification], [ErrAmbiguousNotification]); a missing
// Timestamp or a missing or wrong Signature ([ErrInvalidSignature]); a
// verified notification without payment_no ([ErrMalformedNotification]).
// A time or promotion_detail that does not parse is not an error: see
// [PaymentNotification].Unparsed.
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
	fields, err := verifyNotification(pub, fields, "", timestamp, signature, nil)
	if err != nil {
		return nil, err
	}
	return notificationOf(fields, timestamp)
}

// verifyNotification checks that fields, parsed from the body raw ("" when
// the body is not at hand), have one cut, checks timestamp with fresh
// (when not nil), verifies them, and returns the fields verified: fields,
// or those of raw without a trailing CR/LF (a proxy may append one) when
// only they verify.
func verifyNotification(pub *rsa.PublicKey, fields url.Values, raw, timestamp, signature string, fresh func(string) error) (url.Values, error) {
	if err := checkOneCut(fields, timestamp); err != nil {
		return nil, err
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
		if perr == nil && checkOneCut(f, timestamp) == nil && VerifyNotificationSignature(pub, f, timestamp, signature) == nil {
			return f, nil
		}
	}
	return nil, err
}

// checkOneCut refuses fields whose to-be-signed string could be cut into
// other fields: a name holding '&' or '=', a value holding '&', a
// timestamp holding ','. Without them the string splits one way only.
func checkOneCut(fields url.Values, timestamp string) error {
	for name, values := range fields {
		if strings.ContainsAny(name, "&=") {
			return fmt.Errorf("%w: field name %.40q holds '&' or '='", ErrAmbiguousNotification, name)
		}
		for _, v := range values {
			if strings.IndexByte(v, '&') >= 0 {
				return fmt.Errorf("%w: the value of %.40q holds '&'", ErrAmbiguousNotification, name)
			}
		}
	}
	if strings.IndexByte(timestamp, ',') >= 0 {
		return fmt.Errorf("%w: the Timestamp header holds ','", ErrAmbiguousNotification)
	}
	return nil
}

// readNotificationForm reads r's body once, at most maxBytes, and parses it
// as a form whatever its Content-Type; it returns the fields and the body.
// A body already consumed by r.ParseForm (empty, with r.PostForm filled)
// gives r.PostForm and an empty body. w, when not nil, is told of a body
// over the limit (see [http.MaxBytesReader]).
func readNotificationForm(w http.ResponseWriter, r *http.Request, maxBytes int64) (fields url.Values, raw string, err error) {
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
	// The buffer grows with what arrives, never to what Content-Length
	// claims: a stalled body pins only the bytes it sent.
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

// parseNotificationBody parses a form body as url.ParseQuery does, except
// that a raw ';' is text (HipoPay's values may hold one; url.ParseQuery
// refuses it). An invalid escape is refused.
func parseNotificationBody(body string) (url.Values, error) {
	if strings.Count(body, "&") >= maxNotificationFields {
		return nil, fmt.Errorf("%w: body has more than %d fields", ErrMalformedNotification, maxNotificationFields)
	}
	fields, err := url.ParseQuery(strings.ReplaceAll(body, ";", "%3B"))
	if err != nil {
		return nil, fmt.Errorf("%w: body is not a form: %w", ErrMalformedNotification, err)
	}
	return fields, nil
}
