package hipopay_test

// Refund against the fake HipoPay: a full refund that reuses the
// out_refund_id of an earlier partial refund is not that partial refund.

import (
	"context"
	"errors"
	"testing"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFullRefundIsNotAnEarlierPartialRefund(t *testing.T) {
	srv := hipopaytest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	p, err := c.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{OutTradeID: "T-full-after-partial", Amount: "10.00", Currency: hipopay.HKD,
		ProductInfo: "tea", AppID: "wx1", OpenID: "o1", ClientIP: "10.0.0.1"})
	require.NoError(t, err)
	require.NoError(t, srv.Pay(p.PaymentNo))

	partial, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "R-1", RefundAmount: "3.00"})
	require.NoError(t, err)
	require.Equal(t, hipopay.RefundStatusSuccess, partial.Status)

	full, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "R-1"})
	assert.Nil(t, full, "the 3.00 refund is not a full refund of 10.00")
	var ce *hipopay.RefundConflictError
	require.True(t, errors.As(err, &ce), "got %v", err)
	require.NotNil(t, ce.Existing)
	assert.Equal(t, "3.00", ce.Existing.RefundAmount)
	assert.Contains(t, ce.Reason, "10.00")

	// A full refund resolved to an existing full refund is that refund.
	q, err := c.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{OutTradeID: "T-full-twice", Amount: "10.00", Currency: hipopay.HKD,
		ProductInfo: "tea", AppID: "wx1", OpenID: "o1", ClientIP: "10.0.0.1"})
	require.NoError(t, err)
	require.NoError(t, srv.Pay(q.PaymentNo))
	first, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: q.PaymentNo, OutRefundID: "R-2"})
	require.NoError(t, err)
	again, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: q.PaymentNo, OutRefundID: "R-2"})
	require.NoError(t, err)
	assert.Equal(t, first.RefundNo, again.RefundNo)
	assert.Equal(t, "10.00", again.RefundAmount)
}
