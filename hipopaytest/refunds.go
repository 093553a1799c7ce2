// Refunds of the fake HipoPay: refunding (POST payment_refund) and querying
// a refund (GET payment_refund).

package hipopaytest

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// refund is a refund order: a successful refund, or one refused for its
// payment's state (recorded, as HipoPay records a refund form).
type refund struct {
	refundNo    string
	outRefundID string
	paymentNo   string
	amount      string // formatted in the payment's currency
	status      hipopay.RefundStatus
	resultCode  hipopay.RefundResultCode
	failMessage string
	finishTime  time.Time
}

func (r *refund) json() hipopay.Refund {
	return hipopay.Refund{
		RefundNo:     r.refundNo,
		Status:       r.status,
		RefundAmount: r.amount,
		PaymentNo:    r.paymentNo,
		OutRefundID:  r.outRefundID,
		FinishTime:   r.finishTime,
		ResultCode:   r.resultCode,
		FailMessage:  r.failMessage,
	}
}

// refundAnswer answers a refund call: is_success true, the refund, and
// the top-level return_message "OK".
func refundAnswer(r hipopay.Refund) answer {
	return jsonAnswer(http.StatusOK, envelope{IsSuccess: true, Response: r, ReturnMessage: "OK"})
}

// refund serves POST payment_refund. The rules, as HipoPay's result codes
// document them:
//
//   - a malformed refund_amount (not a plain decimal, more decimals than
//     the currency has): REFUND_AMOUNT_INVALID, is_success false;
//   - an out_refund_id the merchant already used: 0001, status FAIL, and
//     nothing changes;
//   - an unknown payment: 0002;
//   - an amount not above zero: 0009;
//   - a payment not PAID: 0004; fully refunded: 0006; an amount over what
//     is left to refund (or a full refund after partial ones): 0008;
//     these three are recorded as FAIL refunds under their out_refund_id;
//   - otherwise: SUCCESS, result code 0000, and a refund line in the
//     reconciliation file.
func (s *Server) refund(m *merchant, p url.Values) answer {
	paymentNo, outRefundID, amountText := p.Get("payment_no"), p.Get("out_refund_id"), p.Get("refund_amount")
	if strings.TrimSpace(paymentNo) == "" || strings.TrimSpace(outRefundID) == "" {
		return invalidParam("payment_no and out_refund_id are required")
	}
	now := s.now()
	failed := func(code hipopay.RefundResultCode, msg, amount string) hipopay.Refund {
		return hipopay.Refund{
			RefundNo: s.nextNumberLocked(now), Status: hipopay.RefundStatusFail, RefundAmount: amount,
			PaymentNo: paymentNo, OutRefundID: outRefundID, FinishTime: now,
			ResultCode: code, FailMessage: msg,
		}
	}

	o := s.findPaymentLocked(m, paymentNo, "")
	currency := hipopay.HKD // two decimals until the payment is known
	if o != nil {
		currency = o.currency
	}
	var want int64
	if p.Has("refund_amount") {
		n, err := hipopay.ParseAmount(amountText, currency)
		if err != nil {
			return failure(CodeRefundAmountInvalid, "Refund amount is invalid")
		}
		want = n
	}
	if existing := m.refundsByOut[outRefundID]; existing != nil {
		j := failed(hipopay.RefundResultAlreadyExists, "Refund "+outRefundID+" Already Exists.", amountText)
		j.RefundNo = existing.refundNo
		return refundAnswer(j)
	}
	if o == nil {
		return refundAnswer(failed(hipopay.RefundResultPaymentNotFound, "payment "+paymentNo+" Not Found.", amountText))
	}
	if !p.Has("refund_amount") {
		want = o.minor // the full order amount
	}
	amount := hipopay.FormatAmount(want, currency)
	if want <= 0 {
		return refundAnswer(failed(hipopay.RefundResultAmountNotPositive, "refund amount must more than zero.", amountText))
	}

	r := &refund{
		refundNo:    s.nextNumberLocked(now),
		outRefundID: outRefundID,
		paymentNo:   paymentNo,
		amount:      amount,
		status:      hipopay.RefundStatusSuccess,
		resultCode:  hipopay.RefundResultProcessing,
		finishTime:  now,
	}
	switch {
	case o.status != hipopay.PaymentStatusPaid:
		r.status, r.resultCode, r.failMessage = hipopay.RefundStatusFail, hipopay.RefundResultPaymentNotPaid, "Payment not paid yet."
	case o.refunded >= o.minor:
		r.status, r.resultCode, r.failMessage = hipopay.RefundStatusFail, hipopay.RefundResultPaymentFullyRefunded, "Payment full refunded."
	case want > o.minor-o.refunded:
		r.status, r.resultCode, r.failMessage = hipopay.RefundStatusFail, hipopay.RefundResultRefundableNotEnough, "Payment refundable not enough."
	default:
		o.refunded += want
		s.refundLedgerLocked(o, r, want)
	}
	m.refundsByOut[outRefundID] = r
	s.refunds[r.refundNo] = r
	return refundAnswer(r.json())
}

// getRefund serves GET payment_refund.
func (s *Server) getRefund(m *merchant, p url.Values) answer {
	refundNo, outRefundID := p.Get("refund_no"), p.Get("out_refund_id")
	if refundNo == "" && outRefundID == "" {
		return invalidParam("refund_no or out_refund_id is required")
	}
	var r *refund
	if refundNo != "" {
		r = s.refunds[refundNo]
		if r != nil && (m.refundsByOut[r.outRefundID] != r || (outRefundID != "" && r.outRefundID != outRefundID)) {
			r = nil // another merchant's, or the identifiers disagree
		}
	} else {
		r = m.refundsByOut[outRefundID]
	}
	if r == nil {
		return failure(CodeRefundNotFound, "Refund order not found")
	}
	return refundAnswer(r.json())
}
