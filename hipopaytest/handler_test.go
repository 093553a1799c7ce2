package hipopaytest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLifeCycleWithSDKHandler runs the merchant's side with the SDK's own
// notification handler: the first processing fails (HipoPay re-sends),
// the second succeeds, and later duplicates are acknowledged without
// processing again.
func TestLifeCycleWithSDKHandler(t *testing.T) {
	clock := newFakeClock(time.Date(2024, 3, 5, 10, 0, 0, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now), hipopaytest.WithRetryIntervals(time.Millisecond, time.Millisecond),
		hipopaytest.WithResponseVersion3())
	c := s.Client()
	ctx := ctxT(t)

	var mu sync.Mutex
	var calls int
	var paid []*hipopay.PaymentNotification
	handler := c.NotificationHandler(func(ctx context.Context, n *hipopay.PaymentNotification) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return errors.New("database unavailable")
		}
		paid = append(paid, n)
		return nil
	})
	notify := httptest.NewServer(handler)
	t.Cleanup(notify.Close)

	p, err := c.PlaceOrder(ctx, order("ORD-H", "100.00", hipopay.HKD, notify.URL+"/notify"))
	require.NoError(t, err)
	clock.Add(31 * time.Second)
	require.NoError(t, s.Pay(p.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))

	ds := s.Deliveries(p.PaymentNo)
	require.Len(t, ds, 2)
	assert.Equal(t, http.StatusInternalServerError, ds[0].StatusCode)
	assert.True(t, ds[1].Acknowledged)
	mu.Lock()
	require.Len(t, paid, 1)
	n := paid[0]
	mu.Unlock()
	assert.Equal(t, hipopay.PaymentStatusPaid, n.Status)
	assert.Equal(t, p.PaymentNo, n.PaymentNo)
	assert.Equal(t, "ORD-H", n.OutTradeID)
	assert.Equal(t, "100.00", n.Amount)
	assert.Equal(t, hipopay.HKD, n.Currency)
	assert.Equal(t, hipopay.HKD, n.SettleCurrency)
	assert.Equal(t, hipopay.CNY, n.PayCurrency)
	assert.Equal(t, "88.19", n.PayAmount)
	assert.Equal(t, "1.0000000000", n.ExchangeRate) // HKD order, HKD settlement
	assert.True(t, n.TradeTime.Equal(time.Date(2024, 3, 5, 10, 0, 0, 0, cst)))
	assert.True(t, n.FinishTime.Equal(clock.Now()))
	assert.Equal(t, "0.8819", n.PayRate)
	assert.Empty(t, n.PromotionDetail)

	// HipoPay delivers again (a duplicate): acknowledged, not processed.
	fields := n.Fields
	req, err := hipopaytest.NewNotificationRequest(s.PrivateKey(), notify.URL+"/notify", fields, "")
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "success", string(body))
	mu.Lock()
	assert.Equal(t, 2, calls)
	mu.Unlock()

	// A notification signed with another key is refused (401).
	req, err = hipopaytest.NewNotificationRequest(s.MerchantKey, notify.URL+"/notify", fields, "")
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// The merchant's books agree with HipoPay's.
	got, err := c.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: "ORD-H"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusPaid, got.Status)
	assert.True(t, got.FinishTime.Equal(n.FinishTime))
}
