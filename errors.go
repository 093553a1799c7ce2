// Errors of the SDK: HipoPay's business errors (*APIError and a sentinel for
// every documented code), invalid input (*ValidationError), bad notification
// signatures (ErrInvalidSignature) and refund conflicts.

package hipopay

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// APIError is a failure answered by HipoPay: a business error
// ({"is_success": false, "error": CODE}), an HTTP error status, or a body
// that is not HipoPay's JSON answer (an HTML page from a proxy, truncated
// JSON). errors.Is matches it against the sentinels such as
// [ErrPaymentNotFound] by Code. Body and Message never hold the request's
// Signature or a buyer's cert_id or name, however they were echoed.
type APIError struct {
	StatusCode int    // HTTP status
	Code       string // the "error" field, e.g. "PAYMENT_NOT_FOUND"; "" when the body was not HipoPay's answer
	Message    string // the "error_message" field, or what was wrong with the body
	// Body is a short, bounded snippet of the body when it was not
	// HipoPay's JSON answer; "" otherwise.
	Body string
}

func (e *APIError) Error() string {
	msg := "hipopay: "
	if e.Code != "" {
		msg += e.Code
		if e.Message != "" {
			msg += ": " + e.Message
		}
	} else if e.Message != "" {
		msg += e.Message
	} else {
		msg += "request failed"
	}
	if e.StatusCode != 0 {
		msg += " (HTTP " + strconv.Itoa(e.StatusCode) + ")"
	}
	if e.Body != "" {
		msg += ": " + strconv.Quote(e.Body)
	}
	return msg
}

// Is reports whether target is an *APIError with the same non-empty Code,
// so that errors.Is(err, ErrPaymentNotFound) holds for any answer with that
// code.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Code != "" && t.Code == e.Code
}

// Temporary reports whether the failure may go away by itself: HTTP 429 and
// 5xx answers.
func (e *APIError) Temporary() bool {
	return e.StatusCode == 429 || e.StatusCode >= 500
}

// Sentinels for every error code HipoPay documents; compare with errors.Is.
var (
	ErrPaymentNotFound                     = &APIError{Code: "PAYMENT_NOT_FOUND", Message: "Order not found"}
	ErrRefundNotFound                      = &APIError{Code: "REFUND_NOT_FOUND", Message: "Refund order not found"}
	ErrCurrencyNotSupported                = &APIError{Code: "CURRENCY_NOT_SUPPORT", Message: "This currency is not supported"}
	ErrForexMerchantNotSupportThisCurrency = &APIError{Code: "FOREX_MERCHANT_NOT_SUPPORT_THIS_CURRENCY", Message: "This currency is not supported"}
	ErrRefundAmountInvalid                 = &APIError{Code: "REFUND_AMOUNT_INVALID", Message: "Refund amount is invalid"}
	ErrIllegalSecurityProfile              = &APIError{Code: "ILLEGAL_SECURITY_PROFILE", Message: "This encryption method is not supported"}
)

// ErrInvalidSignature is matched (errors.Is) by every failure to verify a
// notification's signature: a missing or malformed signature, a mismatch,
// a missing Timestamp.
var ErrInvalidSignature = errors.New("hipopay: invalid signature")

// ErrInvalidRequest is matched (errors.Is) by every [*ValidationError].
var ErrInvalidRequest = errors.New("hipopay: invalid request")

// ValidationError reports input refused before any network call. Field is
// the wire name of the offending parameter ("amount", "out_trade_id");
// Error names its Go field too. The message never repeats the value of a
// personal field (cert_id, name). errors.Is matches [ErrInvalidRequest].
type ValidationError struct {
	Field  string // wire name, e.g. "refund_amount"
	Reason string // e.g. "is required"
}

func (e *ValidationError) Error() string {
	name := e.Field
	if g := goFieldName(e.Field); g != "" && g != e.Field {
		name += " (" + g + ")"
	}
	return "hipopay: invalid " + name + ": " + e.Reason
}

// goFieldName is the Go name of the request field whose `url` tag is wire
// ("appid" is AppID), "" if none: the struct tags are the one map.
func goFieldName(wire string) string {
	for _, req := range []any{PlaceOrderRequest{}, PaymentQuery{}, RefundRequest{}, RefundQuery{}, DeclarationRequest{},
		RedeclarationRequest{}, DeclarationQuery{}, forexQuery{}, billParams{}, AlipayDeclarationRequest{},
		AlipayRedeclarationRequest{}, AlipayDeclarationQuery{}} {
		t := reflect.TypeOf(req)
		for i := 0; i < t.NumField(); i++ {
			if name, _, _ := strings.Cut(t.Field(i).Tag.Get("url"), ","); name == wire {
				return t.Field(i).Name
			}
		}
	}
	return ""
}

// Is makes errors.Is(err, ErrInvalidRequest) hold.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// RefundConflictError is returned by [Client.Refund] when HipoPay answers
// that a refund with the request's out_refund_id already exists (result
// code 0001) but that refund is for another payment or another amount (for
// a full refund: not the payment's whole amount). Existing is the refund
// HipoPay holds under that out_refund_id.
type RefundConflictError struct {
	OutRefundID string
	Existing    *Refund
	Reason      string // what differs, e.g. "payment_no differs"
}

func (e *RefundConflictError) Error() string {
	return "hipopay: refund " + e.OutRefundID + " already exists and does not match the request: " + e.Reason
}
