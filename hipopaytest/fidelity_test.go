package hipopaytest_test

import (
	"encoding/json"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realNotification is one of the two notifications HipoPay's own servers
// signed (the project's testdata/real_notifications.json, from its official SDKs).
type realNotification struct {
	Name      string      `json:"name"`
	Key       string      `json:"key"` // "sandbox" or "production"
	Timestamp string      `json:"timestamp"`
	Signature string      `json:"signature"`
	Fields    [][2]string `json:"fields"`
}

func (n realNotification) values() url.Values {
	v := url.Values{}
	for _, f := range n.Fields {
		v.Add(f[0], f[1])
	}
	return v
}

func loadRealNotifications(t *testing.T) map[string]realNotification {
	t.Helper()
	b, err := os.ReadFile("../testdata/real_notifications.json")
	require.NoError(t, err)
	var doc struct {
		Cases []realNotification `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	out := map[string]realNotification{}
	for _, c := range doc.Cases {
		// The file is what HipoPay signed: it verifies with its key.
		pub, err := hipopay.CallbackPublicKey(c.Key == "sandbox")
		require.NoError(t, err)
		require.NoError(t, hipopay.VerifyNotificationSignature(pub, c.values(), c.Timestamp, c.Signature), c.Name)
		out[c.Name] = c
	}
	require.Len(t, out, 2)
	return out
}

// shape is the format of a value with its variable parts abstracted: a
// run of letters is "A", the integer part of a decimal is "N", any other
// digit is "9" (so "1.50" and "100.00" are "N.99", "2019-07-05 14:44:53"
// is "9999-99-99 99:99:99", a 25-digit payment_no is 25 nines).
func shape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
			j := i
			for j < len(s) && (s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z') {
				j++
			}
			b.WriteByte('A')
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j < len(s) && s[j] == '.' && (i == 0 || s[i-1] != '.') {
				b.WriteByte('N') // an integer part: its length varies with the amount
			} else {
				b.WriteString(strings.Repeat("9", j-i))
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func TestShape(t *testing.T) {
	for in, want := range map[string]string{
		"1.50": "N.99", "100.00": "N.99", "1.0000000000": "N.9999999999", "0.881890": "N.999999",
		"2019-07-05 14:44:53": "9999-99-99 99:99:99", "2019070514445292733433289": strings.Repeat("9", 25),
		"PAID": "A", "MINIPROGRAM": "A", "HKD": "A",
	} {
		assert.Equal(t, want, shape(in), in)
	}
}

// The fake's notification has the fields of HipoPay's own notifications,
// in their formats, and means what they mean: a WeChat web QR order (trade
// type NATIVE, as both of HipoPay's are) of 1.50 HKD settled in HKD has
// exchange_rate 1.0000000000 and is paid as 1.32 CNY, as in HipoPay's
// production notification.
func TestNotificationLikeHipoPays(t *testing.T) {
	reals := loadRealNotifications(t)
	prod := reals["production"].values()

	clock := newFakeClock(time.Date(2019, 7, 5, 14, 44, 53, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now))
	c := s.Client(hipopay.WithClock(clock.Now))
	ctx := ctxT(t)
	rec, notifyURL := newNotifyRecorder(t)
	p, err := c.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
		Method: hipopay.WeChatWebQR, OutTradeID: prod.Get("out_trade_id"), Amount: prod.Get("amount"),
		Currency: hipopay.Currency(prod.Get("currency")), ProductInfo: "Matcha latte", ClientIP: "203.0.113.9", NotifyURL: notifyURL,
	})
	require.NoError(t, err)
	clock.Add(30 * time.Second)
	require.NoError(t, s.Pay(p.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))
	got := rec.received()
	require.Len(t, got, 1)
	fake := got[0].form

	for name, r := range reals {
		rv := r.values()
		assert.Equal(t, slices.Sorted(maps.Keys(rv)), slices.Sorted(maps.Keys(fake)),
			"the fake's notification has exactly the fields of HipoPay's %s notification", name)
		for field := range rv {
			if field == "out_trade_id" {
				continue // the merchant's own number, any shape
			}
			assert.Equal(t, shape(rv.Get(field)), shape(fake.Get(field)),
				"%s: %q (fake) is not formatted like %q (HipoPay's %s notification)", field, fake.Get(field), rv.Get(field), name)
		}
	}
	// The same order as HipoPay's production notification, the same meaning.
	for _, field := range []string{"status", "trade_type", "currency", "amount", "settle_currency", "pay_currency", "exchange_rate",
		"pay_amount", "trade_time", "finish_time", "out_trade_id"} {
		assert.Equal(t, prod.Get(field), fake.Get(field), field)
	}
	assert.Equal(t, "1.0000000000", fake.Get("exchange_rate"))
	assert.Equal(t, "1.32", fake.Get("pay_amount"))

	// GET payment answers the notification's rate.
	q, err := c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
	require.NoError(t, err)
	assert.Equal(t, fake.Get("exchange_rate"), q.ExchangeRate)
	sp, ok := s.Payment(p.PaymentNo)
	require.True(t, ok)
	assert.Equal(t, fake.Get("exchange_rate"), sp.ExchangeRate)
}

// exchange_rate is from the order's currency to the settlement currency
// (ten decimals); pay_amount is the CNY the buyer paid, at the fake's CNY
// rate, rounded to cents. Expected figures computed independently (Python
// decimal, half up) from the fake's rates: HKD 0.881890, USD 6.711200, JPY
// 0.048520 CNY per unit.
func TestSettlementCurrency(t *testing.T) {
	cases := []struct {
		settle    hipopay.Currency // "" for the default
		currency  hipopay.Currency
		amount    string
		rate, cny string
	}{
		{"", hipopay.HKD, "1.50", "1.0000000000", "1.32"},
		{"", hipopay.USD, "10.00", "7.6100193902", "67.11"},
		{"", hipopay.CNY, "8.88", "1.1339282677", "8.88"},
		{"", hipopay.JPY, "100", "0.0550181995", "4.85"},
		{hipopay.USD, hipopay.HKD, "1.50", "0.1314057099", "1.32"},
		{hipopay.USD, hipopay.USD, "10.00", "1.0000000000", "67.11"},
	}
	servers := map[hipopay.Currency]*hipopaytest.Server{}
	for i, tc := range cases {
		s := servers[tc.settle]
		if s == nil {
			var opts []hipopaytest.Option
			if tc.settle != "" {
				opts = append(opts, hipopaytest.WithSettleCurrency(tc.settle))
			}
			s = newServer(t, opts...)
			servers[tc.settle] = s
		}
		settle := tc.settle
		if settle == "" {
			settle = hipopaytest.DefaultSettleCurrency
		}
		rate, ok := hipopaytest.SettlementRate(tc.currency, settle)
		require.True(t, ok)
		assert.Equal(t, tc.rate, rate, "SettlementRate(%s, %s)", tc.currency, settle)

		ctx := ctxT(t)
		rec, notifyURL := newNotifyRecorder(t)
		c := s.Client()
		p, err := c.PlaceOrder(ctx, order("ORD-S-"+string(rune('A'+i)), tc.amount, tc.currency, notifyURL))
		require.NoError(t, err)
		require.NoError(t, s.Pay(p.PaymentNo))
		require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))
		n := rec.received()[0].form
		assert.Equal(t, string(settle), n.Get("settle_currency"), "case %d", i)
		assert.Equal(t, string(tc.currency), n.Get("currency"), "case %d", i)
		assert.Equal(t, tc.rate, n.Get("exchange_rate"), "case %d", i)
		assert.Equal(t, "CNY", n.Get("pay_currency"), "case %d", i)
		assert.Equal(t, tc.cny, n.Get("pay_amount"), "case %d", i)
		q, err := c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
		require.NoError(t, err)
		assert.Equal(t, tc.rate, q.ExchangeRate, "case %d: GET payment answers the notification's rate", i)
	}

	// The exported helper follows the default merchant.
	f := hipopaytest.PaidNotificationFields(&hipopay.Payment{PaymentNo: "1", OutTradeID: "o", Amount: "10.00", Currency: hipopay.USD})
	assert.Equal(t, "HKD", f.Get("settle_currency"))
	assert.Equal(t, "7.6100193902", f.Get("exchange_rate"))
	assert.Equal(t, "67.11", f.Get("pay_amount"))

	_, ok := hipopaytest.SettlementRate("XXX", hipopay.HKD)
	assert.False(t, ok)
	assert.PanicsWithValue(t, `hipopaytest: NewServer: WithSettleCurrency: "XXX" is not a currency the fake knows`, func() {
		hipopaytest.NewServer(hipopaytest.WithSettleCurrency("XXX"))
	})
}
