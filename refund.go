// Refunds: refunding a payment in full or in part (POST payment_refund) and
// querying a refund (GET payment_refund).

package hipopay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// RefundRequest refunds a payment. OutRefundID is the merchant's refund
// number: it makes the refund idempotent, so reuse it when retrying.
type RefundRequest struct {
	PaymentNo   string `url:"payment_no"`    // HipoPay's payment number (required)
	OutRefundID string `url:"out_refund_id"` // the merchant's refund number (required)
	// RefundAmount is a decimal in the payment's currency; empty refunds
	// the whole payment. Several partial refunds may not exceed the paid
	// amount.
	RefundAmount string `url:"refund_amount,omitempty"`
}

func (r *RefundRequest) validate() error {
	if r == nil {
		return invalid("request", "is nil")
	}
	if err := required("payment_no", r.PaymentNo); err != nil {
		return err
	}
	if err := required("out_refund_id", r.OutRefundID); err != nil {
		return err
	}
	if r.RefundAmount != "" {
		// The payment's currency is unknown here: allow up to two
		// decimals; HipoPay refuses decimals in JPY and KRW itself.
		if err := validAmount("refund_amount", r.RefundAmount, ""); err != nil {
			return err
		}
	}
	return nil
}

// Refund is a refund order as HipoPay reports it. A refund HipoPay could not
// make comes back with Status FAIL, a failure ResultCode (see
// [RefundResultCode.Retryable]) and FailMessage, and no error. It marshals
// to JSON as HipoPay writes it.
type Refund struct {
	RefundNo     string       `json:"refund_no"`
	OutRefundID  string       `json:"out_refund_id"`
	Status       RefundStatus `json:"status"`
	RefundAmount string       `json:"refund_amount"`
	PaymentNo    string       `json:"payment_no"`
	// FinishTime is the completion time of a successful refund, the
	// creation time of a failed one (UTC+8).
	FinishTime  time.Time        `json:"finish_time"`
	ResultCode  RefundResultCode `json:"result_code"`
	FailMessage string           `json:"fail_message,omitempty"`
	// ReturnMessage is the answer's top-level return_message ("OK").
	ReturnMessage string `json:"-"`
}

type refundAlias Refund

// refundJSON shadows Refund's lenient fields with leaf types.
type refundJSON struct {
	*refundAlias
	RefundNo     flexString `json:"refund_no"`
	OutRefundID  flexString `json:"out_refund_id"`
	RefundAmount flexString `json:"refund_amount"`
	PaymentNo    flexString `json:"payment_no"`
	FinishTime   *flexTime  `json:"finish_time,omitempty"`
	ResultCode   flexString `json:"result_code"`
}

func (r *Refund) json() *refundJSON {
	return &refundJSON{refundAlias: (*refundAlias)(r), RefundNo: flexString(r.RefundNo), OutRefundID: flexString(r.OutRefundID),
		RefundAmount: flexString(r.RefundAmount), PaymentNo: flexString(r.PaymentNo), FinishTime: wireTime(r.FinishTime),
		ResultCode: flexString(r.ResultCode)}
}

// UnmarshalJSON decodes HipoPay's refund object leniently.
func (r *Refund) UnmarshalJSON(b []byte) error {
	w := r.json()
	if err := json.Unmarshal(b, w); err != nil {
		return err
	}
	r.RefundNo, r.OutRefundID, r.RefundAmount = string(w.RefundNo), string(w.OutRefundID), string(w.RefundAmount)
	r.PaymentNo, r.FinishTime, r.ResultCode = string(w.PaymentNo), w.FinishTime.time(), RefundResultCode(w.ResultCode)
	return nil
}

// MarshalJSON writes the refund as HipoPay does (the time in UTC+8 as
// "2006-01-02 15:04:05"); ReturnMessage is not written.
func (r Refund) MarshalJSON() ([]byte, error) { return json.Marshal(r.json()) }

// Refund refunds a payment, in full when RefundAmount is empty.
//
// HipoPay endpoint: POST payment_refund.
//
// Invalid input is a [*ValidationError] before any network call. Retried
// like a read (idempotent through OutRefundID). An "already exists" answer
// (result code 0001) is resolved by fetching that refund: it is the result
// when its payment and amount match (a full refund matches only a refund
// of the payment's whole amount), else a [*RefundConflictError] carries it.
// A refund refused for business reasons is a result with Status FAIL and
// its [RefundResultCode], not an error; request errors are [*APIError]
// ([ErrRefundAmountInvalid], [ErrIllegalSecurityProfile]).
func (c *Client) Refund(ctx context.Context, req *RefundRequest) (*Refund, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	var r Refund
	env, err := c.do(ctx, call{method: http.MethodPost, path: "payment_refund", params: encodeParams(req), idempotent: true}, &r)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == string(RefundResultAlreadyExists) {
		// "Already exists" as a business error rather than a result.
		return c.existingRefund(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	r.ReturnMessage = env.ReturnMessage
	if r.ResultCode == RefundResultAlreadyExists {
		return c.existingRefund(ctx, req)
	}
	return &r, nil
}

// existingRefund resolves a "refund already exists" answer: the refund
// stored under req.OutRefundID is the result if it refunds the same payment
// by the same amount. A full refund (no amount) matches only a refund of
// the payment's whole amount, fetched with GetPayment.
func (c *Client) existingRefund(ctx context.Context, req *RefundRequest) (*Refund, error) {
	existing, err := c.GetRefund(ctx, RefundQuery{OutRefundID: req.OutRefundID})
	if err != nil {
		return nil, fmt.Errorf("hipopay: refund %s already exists; fetching it: %w", req.OutRefundID, err)
	}
	conflict := func(reason string) error {
		return &RefundConflictError{OutRefundID: req.OutRefundID, Existing: existing, Reason: reason}
	}
	if existing.PaymentNo != req.PaymentNo {
		return nil, conflict("it refunds payment " + existing.PaymentNo)
	}
	want := req.RefundAmount
	if want == "" {
		p, err := c.GetPayment(ctx, PaymentQuery{PaymentNo: req.PaymentNo})
		if err != nil {
			return nil, fmt.Errorf("hipopay: refund %s already exists; fetching payment %s to compare amounts: %w",
				req.OutRefundID, req.PaymentNo, err)
		}
		if !sameAmount(existing.RefundAmount, p.Amount, p.Currency) {
			return nil, conflict("it refunds " + existing.RefundAmount + ", not the whole " + p.Amount)
		}
		return existing, nil
	}
	if !sameAmount(existing.RefundAmount, want, "") {
		return nil, conflict("it refunds " + existing.RefundAmount + ", not " + want)
	}
	return existing, nil
}

// RefundQuery identifies a refund: by HipoPay's RefundNo or the merchant's
// OutRefundID (at least one).
type RefundQuery struct {
	RefundNo    string `url:"refund_no,omitempty"`
	OutRefundID string `url:"out_refund_id,omitempty"`
}

func (q RefundQuery) validate() error {
	if blank(q.RefundNo) && blank(q.OutRefundID) {
		return invalid("refund_no", "refund_no or out_refund_id is required")
	}
	return nil
}

// GetRefund returns a refund order.
//
// HipoPay endpoint: GET payment_refund.
//
// A query with neither identifier is a [*ValidationError]; an unknown
// refund is [ErrRefundNotFound]. Retried on network errors, 429 and 5xx.
func (c *Client) GetRefund(ctx context.Context, q RefundQuery) (*Refund, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	var r Refund
	env, err := c.do(ctx, call{method: http.MethodGet, path: "payment_refund", params: encodeParams(q)}, &r)
	if err != nil {
		return nil, err
	}
	r.ReturnMessage = env.ReturnMessage
	return &r, nil
}
