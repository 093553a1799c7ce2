package hipopay_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
)

// The fake verifies with hipopay.VerifyRequestSignature, so it follows the
// documented encoding: an order whose values hold ~ * ' ( ) ! is accepted
// and read back with its values intact.
func TestFakeAcceptsReservedCharacters(t *testing.T) {
	srv := hipopaytest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	p, err := c.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
		OutTradeID:  "ORD~2026*11(29)",
		Amount:      "12.50",
		Currency:    hipopay.HKD,
		ProductInfo: "Men's tee (L) ~ 50%+off! a&b=c;*",
		AppID:       "wx3zzzzzzz4",
		OpenID:      "oXy-_.~z",
		ClientIP:    "203.0.113.9",
		NotifyURL:   "https://shop.example/notify?x=1&y=a~b",
	})
	require.NoError(t, err)
	got, err := c.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: "ORD~2026*11(29)"})
	require.NoError(t, err)
	assert.Equal(t, p.PaymentNo, got.PaymentNo)
	assert.Equal(t, "Men's tee (L) ~ 50%+off! a&b=c;*", got.ProductInfo)
}
