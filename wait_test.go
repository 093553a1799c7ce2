package hipopay

// Tests of Client.WaitForPayment against a scripted HipoPay: it polls
// while the payment is INIT or USERPAYING, stops at any other status,
// polls past temporary failures, stops at business errors, and returns
// the last payment with the context's error when the context ends.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func paymentAnswer(status PaymentStatus) string {
	return `{"is_success": true, "response": {"amount": "8.88", "currency": "HKD", "out_trade_id": "ORD-42",
		"payment_no": "P1", "status": "` + string(status) + `", "trade_time": "2019-02-19 11:59:27", "trade_type": "MICROPAY"}}`
}

// scripted answers GET payment with answers[i] on the i-th call, the last
// one from then on.
func scripted(t *testing.T, calls *atomic.Int32, answers ...func(w http.ResponseWriter)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/payment", r.URL.Path)
		assert.Equal(t, "P1", r.URL.Query().Get("payment_no"))
		n := int(calls.Add(1))
		answers[min(n, len(answers))-1](w)
	})
}

func answer(body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { _, _ = w.Write([]byte(body)) }
}

func TestWaitForPaymentPollsUntilFinal(t *testing.T) {
	for _, final := range []PaymentStatus{PaymentStatusPaid, PaymentStatusFail, PaymentStatusExpired} {
		t.Run(string(final), func(t *testing.T) {
			var calls atomic.Int32
			c, _ := newServerClient(t, scripted(t, &calls, answer(paymentAnswer(PaymentStatusInit)),
				answer(paymentAnswer(PaymentStatusUserPaying)), answer(paymentAnswer(PaymentStatusUserPaying)),
				answer(paymentAnswer(final))))
			start := time.Now()
			p, err := c.WaitForPayment(context.Background(), PaymentQuery{PaymentNo: "P1"}, 20*time.Millisecond)
			require.NoError(t, err)
			assert.Equal(t, final, p.Status)
			assert.EqualValues(t, 4, calls.Load())
			assert.GreaterOrEqual(t, time.Since(start), 3*20*time.Millisecond, "it waits the interval between polls")
		})
	}
}

func TestWaitForPaymentFinalAtOnce(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, scripted(t, &calls, answer(paymentAnswer(PaymentStatusPaid))))
	start := time.Now()
	p, err := c.WaitForPayment(context.Background(), PaymentQuery{PaymentNo: "P1"}, 0) // 0: the default interval
	require.NoError(t, err)
	assert.Equal(t, PaymentStatusPaid, p.Status)
	assert.EqualValues(t, 1, calls.Load())
	assert.Less(t, time.Since(start), DefaultWaitInterval, "the first poll is immediate")
}

func TestWaitForPaymentContextEnds(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, scripted(t, &calls, answer(paymentAnswer(PaymentStatusUserPaying))))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	p, err := c.WaitForPayment(ctx, PaymentQuery{PaymentNo: "P1"}, 20*time.Millisecond)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotNil(t, p, "the last payment seen")
	assert.Equal(t, PaymentStatusUserPaying, p.Status)
	assert.Greater(t, calls.Load(), int32(2))

	// Cancelled before anything was seen: no payment.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	p, err = c.WaitForPayment(ctx2, PaymentQuery{PaymentNo: "P1"}, time.Hour)
	assert.Nil(t, p)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestWaitForPaymentPollsPastTemporaryFailures(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, scripted(t, &calls,
		answer(paymentAnswer(PaymentStatusUserPaying)),
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) },
		answer(paymentAnswer(PaymentStatusPaid))), WithMaxRetries(0))
	p, err := c.WaitForPayment(context.Background(), PaymentQuery{PaymentNo: "P1"}, 5*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, PaymentStatusPaid, p.Status)
	assert.EqualValues(t, 3, calls.Load())
}

func TestWaitForPaymentStopsAtBusinessErrors(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, scripted(t, &calls,
		answer(paymentAnswer(PaymentStatusUserPaying)), answer(errorBody("PAYMENT_NOT_FOUND", "Order not found"))))
	p, err := c.WaitForPayment(context.Background(), PaymentQuery{PaymentNo: "P1"}, 5*time.Millisecond)
	assert.ErrorIs(t, err, ErrPaymentNotFound)
	require.NotNil(t, p)
	assert.Equal(t, PaymentStatusUserPaying, p.Status, "the last payment seen")
	assert.EqualValues(t, 2, calls.Load())
}

// A context that ends after temporary failures names the last one.
func TestWaitForPaymentContextEndsAfterFailures(t *testing.T) {
	var calls atomic.Int32
	c, _ := newServerClient(t, scripted(t, &calls,
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }), WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	p, err := c.WaitForPayment(ctx, PaymentQuery{PaymentNo: "P1"}, 10*time.Millisecond)
	assert.Nil(t, p)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, strings.Contains(err.Error(), "Service Unavailable"), err.Error())
}

func TestWaitForPaymentValidation(t *testing.T) {
	c, w := newWireMock(t)
	p, err := c.WaitForPayment(context.Background(), PaymentQuery{}, time.Second)
	assert.Nil(t, p)
	assertInvalid(t, w, err, "payment_no")
	//lint:ignore SA1012 testing the nil-context guard
	_, err = c.WaitForPayment(nil, PaymentQuery{PaymentNo: "P1"}, time.Second)
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrInvalidRequest))
}
