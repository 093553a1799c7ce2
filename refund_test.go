package hipopay

// Tests of Refund (POST payment_refund) and GetRefund (GET
// payment_refund): the exact wire of full and partial refunds, the
// reference's answers (a refused refund is a result, not an error), the
// "already exists" (0001) resolution, HipoPay's documented errors and the
// validation done before any network call.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference's success example of a refund, verbatim: a refund HipoPay
// could not make (0011, settled balance not enough).
const refundFailedBody = `{
"is_success": true,
"response": {
"fail_message": "Settled Balance Not Enough",
"finish_time": "2021-12-23 16:42:34",
"out_refund_id": "R201901021232213",
"payment_no": "2637473637382",
"refund_amount": "8.88",
"refund_no": "2637473637452",
"result_code": "0011",
"status": "FAIL"
},
"return_message": "OK"
}`

// The reference's success example of querying a refund, verbatim.
const getRefundBody = `{
"is_success": true,
"response": {
"finish_time": "2021-12-23 19:22:14",
"out_refund_id": "R201637473637452",
"payment_no": "2637473637382",
"refund_amount": "8.88",
"refund_no": "2637473637452",
"result_code": "0000",
"status": "SUCCESS"
},
"return_message": "OK"
}`

// A refund accepted and processing.
const refundProcessingBody = `{"is_success": true, "response": {"finish_time": "2021-12-23 19:22:14",
"out_refund_id": "R201901021232213", "payment_no": "2637473637382", "refund_amount": "8.88",
"refund_no": "2637473637452", "result_code": "0000", "status": "PROCESSING"}, "return_message": "OK"}`

// alreadyExistsBody is HipoPay's answer to a refund whose out_refund_id it
// already holds: result code 0001.
func alreadyExistsBody(outRefundID, paymentNo, amount string) string {
	return `{"is_success": true, "response": {"out_refund_id": "` + outRefundID + `", "payment_no": "` + paymentNo +
		`", "refund_amount": "` + amount + `", "result_code": "0001", "status": "FAIL",
		"fail_message": "Refund ` + outRefundID + ` Already Exists."}, "return_message": "OK"}`
}

// existingRefundBody is GET payment_refund's answer for the refund held
// under an out_refund_id.
func existingRefundBody(outRefundID, paymentNo, amount string) string {
	return `{"is_success": true, "response": {"finish_time": "2021-12-23 19:22:14", "out_refund_id": "` + outRefundID +
		`", "payment_no": "` + paymentNo + `", "refund_amount": "` + amount +
		`", "refund_no": "2637473637452", "result_code": "0000", "status": "SUCCESS"}, "return_message": "OK"}`
}

func TestRefundWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  RefundRequest
		want map[string]string
	}{
		{"full", RefundRequest{PaymentNo: "2637473637382", OutRefundID: "R201901021232213"},
			map[string]string{"payment_no": "2637473637382", "out_refund_id": "R201901021232213"}},
		{"partial", RefundRequest{PaymentNo: "2637473637382", OutRefundID: "R201901021232213", RefundAmount: "8.88"},
			map[string]string{"payment_no": "2637473637382", "out_refund_id": "R201901021232213", "refund_amount": "8.88"}},
		{"partial, no decimals", RefundRequest{PaymentNo: "2637473637382", OutRefundID: "R2", RefundAmount: "1200"},
			map[string]string{"payment_no": "2637473637382", "out_refund_id": "R2", "refund_amount": "1200"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "payment_refund", http.StatusOK, refundProcessingBody)
			req := tc.req
			_, err := c.Refund(context.Background(), &req)
			require.NoError(t, err)
			assertWire(t, w.single(t), http.MethodPost, "payment_refund", "1.0", tc.want)
		})
	}
}

func TestRefundMatchesSigningVector(t *testing.T) {
	tc := signingVector(t, "partial_refund")
	c, w := newWireMock(t, WithClock(vectorClock(t, tc.Timestamp)))
	w.on(http.MethodPost, tc.Path, http.StatusOK, refundFailedBody)
	p := valuesOf(tc.Params)
	_, err := c.Refund(context.Background(), &RefundRequest{
		PaymentNo: p.Get("payment_no"), OutRefundID: p.Get("out_refund_id"), RefundAmount: p.Get("refund_amount"),
	})
	require.NoError(t, err)
	assertMatchesVector(t, w.single(t), tc)
}

// A refund HipoPay refuses for a business reason is a result with a nil
// error: Status FAIL, the result code and the failure message.
func TestRefundFailedIsAResult(t *testing.T) {
	bodies := map[string]string{
		"reference":   refundFailedBody,
		"python":      strings.Replace(strings.Replace(refundFailedBody, "true", "True", 1), `"OK"`, `"OK",`, 1),
		"string-True": strings.Replace(refundFailedBody, "true", `"True"`, 1),
		"string-true": strings.Replace(refundFailedBody, "true", `"true"`, 1),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "payment_refund", http.StatusOK, body)
			r, err := c.Refund(context.Background(), &RefundRequest{
				PaymentNo: "2637473637382", OutRefundID: "R201901021232213", RefundAmount: "8.88",
			})
			require.NoError(t, err)
			assert.Equal(t, "2637473637452", r.RefundNo)
			assert.Equal(t, "R201901021232213", r.OutRefundID)
			assert.Equal(t, RefundStatusFail, r.Status)
			assert.Equal(t, "8.88", r.RefundAmount)
			assert.Equal(t, "2637473637382", r.PaymentNo)
			assertChinaTime(t, r.FinishTime, "2021-12-23 16:42:34")
			assert.Equal(t, RefundResultCode("0011"), r.ResultCode)
			assert.Equal(t, RefundResultSettledBalanceNotEnough, r.ResultCode)
			assert.True(t, r.ResultCode.IsFailure())
			assert.False(t, r.ResultCode.Retryable())
			assert.Equal(t, "Settled Balance not enough.", r.ResultCode.Message())
			assert.Equal(t, "Settled Balance Not Enough", r.FailMessage)
			assert.Equal(t, "OK", r.ReturnMessage)
			assert.Len(t, w.requests(), 1, "a refused refund needs no second call")
		})
	}
}

func TestRefundProcessing(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodPost, "payment_refund", http.StatusOK, refundProcessingBody)
	r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "2637473637382", OutRefundID: "R201901021232213"})
	require.NoError(t, err)
	assert.Equal(t, RefundStatusProcessing, r.Status)
	assert.Equal(t, RefundResultProcessing, r.ResultCode)
	assert.False(t, r.ResultCode.IsFailure())
	assert.Empty(t, r.FailMessage)
	assert.Equal(t, "OK", r.ReturnMessage)
}

// A 0001 answer is resolved by fetching the refund held under the
// out_refund_id; it is the result when it refunds the same payment by the
// same amount.
func TestRefundAlreadyExistsMatching(t *testing.T) {
	for _, tc := range []struct{ requested, existing string }{
		{"8.88", "8.88"},
		{"8.8", "8.80"}, // compared by value
		{"8.80", "8.8"},
		{"1200", "1200.00"},
	} {
		t.Run(tc.requested+"="+tc.existing, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "payment_refund", http.StatusOK, alreadyExistsBody("R1", "P1", tc.requested))
			w.on(http.MethodGet, "payment_refund", http.StatusOK, existingRefundBody("R1", "P1", tc.existing))
			r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R1", RefundAmount: tc.requested})
			require.NoError(t, err)
			assert.Equal(t, &Refund{
				RefundNo:      "2637473637452",
				OutRefundID:   "R1",
				Status:        RefundStatusSuccess,
				RefundAmount:  tc.existing,
				PaymentNo:     "P1",
				FinishTime:    r.FinishTime,
				ResultCode:    RefundResultProcessing,
				ReturnMessage: "OK",
			}, r)
			assertChinaTime(t, r.FinishTime, "2021-12-23 19:22:14")

			reqs := w.requests()
			require.Len(t, reqs, 2)
			assertWire(t, reqs[0], http.MethodPost, "payment_refund", "1.0",
				map[string]string{"payment_no": "P1", "out_refund_id": "R1", "refund_amount": tc.requested})
			assertWire(t, reqs[1], http.MethodGet, "payment_refund", "1.0", map[string]string{"out_refund_id": "R1"})
		})
	}
}

// paidPaymentBody is GET payment's answer for a PAID payment of amount.
func paidPaymentBody(paymentNo, amount string) string {
	return `{"is_success": true, "response": {"amount": "` + amount + `", "currency": "HKD", "exchange_rate": "0.881890",
		"out_trade_id": "T1", "payment_no": "` + paymentNo + `", "status": "PAID", "product_info": "tea",
		"trade_time": "2021-12-23 19:00:00", "finish_time": "2021-12-23 19:01:00", "trade_type": "MINIPROGRA"}}`
}

// A full refund (no amount) answered 0001 matches only an existing refund
// of the payment's whole amount: the payment is fetched to learn it.
func TestRefundAlreadyExistsFullRefund(t *testing.T) {
	t.Run("matching", func(t *testing.T) {
		c, w := newWireMock(t)
		w.on(http.MethodPost, "payment_refund", http.StatusOK, alreadyExistsBody("R1", "P1", "8.88"))
		w.on(http.MethodGet, "payment_refund", http.StatusOK, existingRefundBody("R1", "P1", "8.88"))
		w.on(http.MethodGet, "payment", http.StatusOK, paidPaymentBody("P1", "8.88"))
		r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R1"})
		require.NoError(t, err)
		assert.Equal(t, "R1", r.OutRefundID)
		assert.Equal(t, "8.88", r.RefundAmount)
		assert.Equal(t, RefundStatusSuccess, r.Status)

		reqs := w.requests()
		require.Len(t, reqs, 3)
		assertWire(t, reqs[0], http.MethodPost, "payment_refund", "1.0", map[string]string{"payment_no": "P1", "out_refund_id": "R1"})
		assertWire(t, reqs[1], http.MethodGet, "payment_refund", "1.0", map[string]string{"out_refund_id": "R1"})
		assertWire(t, reqs[2], http.MethodGet, "payment", "1.0", map[string]string{"payment_no": "P1"})
	})
	t.Run("an earlier partial refund is a conflict", func(t *testing.T) {
		c, w := newWireMock(t)
		w.on(http.MethodPost, "payment_refund", http.StatusOK, alreadyExistsBody("R1", "P1", ""))
		w.on(http.MethodGet, "payment_refund", http.StatusOK, existingRefundBody("R1", "P1", "3.00"))
		w.on(http.MethodGet, "payment", http.StatusOK, paidPaymentBody("P1", "10.00"))
		r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R1"})
		assert.Nil(t, r)
		var ce *RefundConflictError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "3.00", ce.Existing.RefundAmount)
		assert.Contains(t, ce.Reason, "10.00")
		assert.Len(t, w.requests(), 3)
	})
	t.Run("an empty refund amount never matches an empty payment amount", func(t *testing.T) {
		c, w := newWireMock(t)
		w.on(http.MethodPost, "payment_refund", http.StatusOK, alreadyExistsBody("R1", "P1", ""))
		w.on(http.MethodGet, "payment_refund", http.StatusOK, existingRefundBody("R1", "P1", ""))
		w.on(http.MethodGet, "payment", http.StatusOK, paidPaymentBody("P1", ""))
		r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R1"})
		assert.Nil(t, r)
		var ce *RefundConflictError
		require.ErrorAs(t, err, &ce)
		assert.Len(t, w.requests(), 3)
	})
	t.Run("the payment cannot be fetched", func(t *testing.T) {
		c, w := newWireMock(t)
		w.on(http.MethodPost, "payment_refund", http.StatusOK, alreadyExistsBody("R1", "P1", ""))
		w.on(http.MethodGet, "payment_refund", http.StatusOK, existingRefundBody("R1", "P1", "3.00"))
		w.on(http.MethodGet, "payment", http.StatusOK, errorBody("PAYMENT_NOT_FOUND", "Order not found"))
		r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R1"})
		assert.Nil(t, r)
		assert.ErrorIs(t, err, ErrPaymentNotFound)
	})
	t.Run("another payment is a conflict", func(t *testing.T) {
		c, w := newWireMock(t)
		w.on(http.MethodPost, "payment_refund", http.StatusOK, alreadyExistsBody("R1", "P2", "8.88"))
		w.on(http.MethodGet, "payment_refund", http.StatusOK, existingRefundBody("R1", "P2", "8.88"))
		r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R1"})
		assert.Nil(t, r)
		var ce *RefundConflictError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "P2", ce.Existing.PaymentNo)
		assert.Len(t, w.requests(), 2)
	})
	t.Run("the refund cannot be fetched", func(t *testing.T) {
		c, w := newWireMock(t)
		w.on(http.MethodPost, "payment_refund", http.StatusOK, alreadyExistsBody("R1", "P1", "8.88"))
		w.on(http.MethodGet, "payment_refund", http.StatusOK, errorBody("REFUND_NOT_FOUND", "Refund order not found"))
		_, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R1"})
		assert.ErrorIs(t, err, ErrRefundNotFound)
		var ce *RefundConflictError
		assert.False(t, errors.As(err, &ce))
	})
}

// A 0001 answer whose existing refund is for another amount or another
// payment is a *RefundConflictError carrying the existing refund.
func TestRefundAlreadyExistsConflict(t *testing.T) {
	for _, tc := range []struct {
		name              string
		paymentNo, amount string
		existingPaymentNo string
		existingAmount    string
		reasonMentions    string
	}{
		{"other amount", "P1", "5.00", "P1", "8.88", "8.88"},
		{"other payment", "P1", "8.88", "P2", "8.88", "P2"},
		{"other payment, full refund", "P1", "", "P2", "8.88", "P2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "payment_refund", http.StatusOK, alreadyExistsBody("R1", tc.paymentNo, tc.amount))
			w.on(http.MethodGet, "payment_refund", http.StatusOK, existingRefundBody("R1", tc.existingPaymentNo, tc.existingAmount))
			r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: tc.paymentNo, OutRefundID: "R1", RefundAmount: tc.amount})
			assert.Nil(t, r)
			var ce *RefundConflictError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "R1", ce.OutRefundID)
			require.NotNil(t, ce.Existing)
			assert.Equal(t, tc.existingPaymentNo, ce.Existing.PaymentNo)
			assert.Equal(t, tc.existingAmount, ce.Existing.RefundAmount)
			assert.Equal(t, "2637473637452", ce.Existing.RefundNo)
			assert.Contains(t, ce.Reason, tc.reasonMentions)
			assert.Contains(t, err.Error(), "R1")
			assert.NotErrorIs(t, err, ErrInvalidRequest)
			var ae *APIError
			assert.False(t, errors.As(err, &ae), "a conflict is not an *APIError")

			reqs := w.requests()
			require.Len(t, reqs, 2, "POST payment_refund, GET payment_refund: no GET payment needed")
			assertWire(t, reqs[1], http.MethodGet, "payment_refund", "1.0", map[string]string{"out_refund_id": "R1"})
		})
	}
}

// When the existing refund cannot be fetched, the error says so and keeps
// HipoPay's answer reachable.
func TestRefundAlreadyExistsFetchFails(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodPost, "payment_refund", http.StatusOK, alreadyExistsBody("R1", "P1", "8.88"))
	w.on(http.MethodGet, "payment_refund", http.StatusOK, errorBody("REFUND_NOT_FOUND", "Refund order not found"))
	r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R1", RefundAmount: "8.88"})
	assert.Nil(t, r)
	assert.ErrorIs(t, err, ErrRefundNotFound)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "REFUND_NOT_FOUND", ae.Code)
	assert.Contains(t, err.Error(), "R1")
	assert.Len(t, w.requests(), 2)
}

func TestRefundErrors(t *testing.T) {
	for _, tc := range []struct {
		code, message string
		sentinel      *APIError
	}{
		{"REFUND_AMOUNT_INVALID", "Refund amount is invalid", ErrRefundAmountInvalid},
		{"ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile},
	} {
		for _, a := range errorAnswers(tc.code, tc.message) {
			t.Run(tc.code+"/"+a.name, func(t *testing.T) {
				c, w := newWireMock(t)
				w.on(http.MethodPost, "payment_refund", a.status, a.body)
				r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R1", RefundAmount: "8.88"})
				assert.Nil(t, r)
				assertAPIError(t, err, a.status, tc.code, tc.message, tc.sentinel)
				assert.Len(t, w.requests(), 1)
			})
		}
	}
}

func TestRefundValidation(t *testing.T) {
	valid := func() *RefundRequest {
		return &RefundRequest{PaymentNo: "2637473637382", OutRefundID: "R201901021232213", RefundAmount: "8.88"}
	}
	type testCase struct {
		name  string
		edit  func(r *RefundRequest)
		field string
	}
	tests := []testCase{
		{"no payment_no", func(r *RefundRequest) { r.PaymentNo = "" }, "payment_no"},
		{"blank payment_no", func(r *RefundRequest) { r.PaymentNo = " \t" }, "payment_no"},
		{"no out_refund_id", func(r *RefundRequest) { r.OutRefundID = "" }, "out_refund_id"},
		{"blank out_refund_id", func(r *RefundRequest) { r.OutRefundID = " " }, "out_refund_id"},
	}
	for _, a := range badAmounts {
		tests = append(tests, testCase{"refund_amount " + a, func(r *RefundRequest) { r.RefundAmount = a }, "refund_amount"})
	}
	c, w := newWireMock(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := valid()
			tc.edit(req)
			r, err := c.Refund(context.Background(), req)
			assert.Nil(t, r)
			assertInvalid(t, w, err, tc.field)
		})
	}
	t.Run("nil request", func(t *testing.T) {
		r, err := c.Refund(context.Background(), nil)
		assert.Nil(t, r)
		assertInvalid(t, w, err, "request")
	})
}

func TestGetRefundWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    RefundQuery
		want map[string]string
	}{
		{"by refund_no", RefundQuery{RefundNo: "20192637473637452"}, map[string]string{"refund_no": "20192637473637452"}},
		{"by out_refund_id", RefundQuery{OutRefundID: "R2019263747363"}, map[string]string{"out_refund_id": "R2019263747363"}},
		{"by both", RefundQuery{RefundNo: "20192637473637452", OutRefundID: "R2019263747363"},
			map[string]string{"refund_no": "20192637473637452", "out_refund_id": "R2019263747363"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodGet, "payment_refund", http.StatusOK, getRefundBody)
			_, err := c.GetRefund(context.Background(), tc.q)
			require.NoError(t, err)
			assertWire(t, w.single(t), http.MethodGet, "payment_refund", "1.0", tc.want)
		})
	}
}

func TestGetRefundDecodesReferenceExample(t *testing.T) {
	bodies := map[string]string{
		"reference":   getRefundBody,
		"python":      strings.Replace(strings.Replace(getRefundBody, "true", "True", 1), `"SUCCESS"`, `"SUCCESS",`, 1),
		"string-True": strings.Replace(getRefundBody, "true", `"True"`, 1),
		"string-true": strings.Replace(getRefundBody, "true", `"true"`, 1),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodGet, "payment_refund", http.StatusOK, body)
			r, err := c.GetRefund(context.Background(), RefundQuery{OutRefundID: "R201637473637452"})
			require.NoError(t, err)
			assertChinaTime(t, r.FinishTime, "2021-12-23 19:22:14")
			assert.Equal(t, &Refund{
				RefundNo:      "2637473637452",
				OutRefundID:   "R201637473637452",
				Status:        RefundStatusSuccess,
				RefundAmount:  "8.88",
				PaymentNo:     "2637473637382",
				FinishTime:    r.FinishTime,
				ResultCode:    "0000",
				FailMessage:   "",
				ReturnMessage: "OK",
			}, r)
			assert.False(t, r.ResultCode.IsFailure())
		})
	}
}

func TestGetRefundErrors(t *testing.T) {
	for _, tc := range []struct {
		code, message string
		sentinel      *APIError
	}{
		{"REFUND_NOT_FOUND", "Refund order not found", ErrRefundNotFound},
		{"ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile},
	} {
		for _, a := range errorAnswers(tc.code, tc.message) {
			t.Run(tc.code+"/"+a.name, func(t *testing.T) {
				c, w := newWireMock(t)
				w.on(http.MethodGet, "payment_refund", a.status, a.body)
				r, err := c.GetRefund(context.Background(), RefundQuery{RefundNo: "20192637473637452"})
				assert.Nil(t, r)
				assertAPIError(t, err, a.status, tc.code, tc.message, tc.sentinel)
				assert.Len(t, w.requests(), 1)
			})
		}
	}
}

func TestGetRefundValidation(t *testing.T) {
	c, w := newWireMock(t)
	r, err := c.GetRefund(context.Background(), RefundQuery{})
	assert.Nil(t, r)
	assertInvalid(t, w, err, "refund_no")
	assert.Contains(t, err.Error(), "out_refund_id", "the error names both identifiers")
}

// "Already exists" sent as a business error (is_success false, error 0001)
// is resolved like the result code.
func TestRefundAlreadyExistsAsAnError(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodPost, "payment_refund", http.StatusOK, errorBody("0001", "Refund R1 Already Exists."))
	w.on(http.MethodGet, "payment_refund", http.StatusOK, existingRefundBody("R1", "P1", "8.88"))
	r, err := c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R1", RefundAmount: "8.88"})
	require.NoError(t, err)
	assert.Equal(t, "R1", r.OutRefundID)
	assert.Len(t, w.requests(), 2)
}
