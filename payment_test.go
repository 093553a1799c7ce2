package hipopay

// Tests of PlaceOrder (POST wechatpay/mini_program/payment), GetPayment
// (GET payment) and GetForexRate (GET wechatpay/forex_rate): the exact
// wire, the decoding of the reference's examples, HipoPay's documented
// errors and the validation done before any network call.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reference's success example of placing an order, verbatim: Python's
// True and a trailing comma.
const placeOrderPythonBody = `{
"is_success": True,
"response": {
"amount": "0.10",
"currency": "HKD",
"exchange_rate": "0.881890",
"out_trade_id": "d2849e8140a6",
"payment_no": "2018081316331654230251111",
"status": "INIT",
"product_info": "Wechat Mini Program Pay",
"trade_time": "2018-08-13 16:33:16",
"finish_time": "2018-08-13 16:33:16",
"trade_type": "MINIPROGRA",
"prepay_params": {
"nonceStr": "572666791269",
"order_no": "2019021911592704114199308",
"paySign": "466790B2486C24F2DE0BD4C77C7D22AB",
"prepay_id": "wx19115928908673c06a1d48960711201017",
"timeStamp": "1550548767"
},
}
}`

// The same answer as valid JSON.
const placeOrderJSONBody = `{
"is_success": true,
"response": {
"amount": "0.10",
"currency": "HKD",
"exchange_rate": "0.881890",
"out_trade_id": "d2849e8140a6",
"payment_no": "2018081316331654230251111",
"status": "INIT",
"product_info": "Wechat Mini Program Pay",
"trade_time": "2018-08-13 16:33:16",
"finish_time": "2018-08-13 16:33:16",
"trade_type": "MINIPROGRA",
"prepay_params": {
"nonceStr": "572666791269",
"order_no": "2019021911592704114199308",
"paySign": "466790B2486C24F2DE0BD4C77C7D22AB",
"prepay_id": "wx19115928908673c06a1d48960711201017",
"timeStamp": "1550548767"
}
}
}`

// The reference's success example of querying a payment, verbatim.
const getPaymentPythonBody = `{
"is_success": True,
"response": {
"amount": "0.02",
"currency": "HKD",
"exchange_rate": "0.881890",
"out_trade_id": "2746847384112837273872",
"payment_no": "2018071823332342210483065",
"status": "PAID",
"product_info": "Alipay App Pay",
"trade_time": "2018-07-18 23:33:23",
"trade_type": "APP",
}
}`

const getPaymentJSONBody = `{
"is_success": true,
"response": {
"amount": "0.02",
"currency": "HKD",
"exchange_rate": "0.881890",
"out_trade_id": "2746847384112837273872",
"payment_no": "2018071823332342210483065",
"status": "PAID",
"product_info": "Alipay App Pay",
"trade_time": "2018-07-18 23:33:23",
"trade_type": "APP"
}
}`

// The reference's success example of the exchange rate (valid JSON there).
const forexRateJSONBody = `{
"is_success": true,
"response": {
"currency": "USD",
"forex_rate": "0.1490046489450470854690666349"
}
}`

// validOrder is a complete order with only the required fields.
func validOrder() *PlaceOrderRequest {
	return &PlaceOrderRequest{
		OutTradeID:  "201901021232211023",
		Amount:      "8.88",
		Currency:    HKD,
		ProductInfo: "Hipopay - product for test",
		AppID:       "wx3zzzzzzz4",
		OpenID:      "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		ClientIP:    "10.129.35.61",
	}
}

// requiredOrderParams are the parameters of validOrder on the wire.
func requiredOrderParams() map[string]string {
	return map[string]string{
		"merchant_no":  testMerchantNo,
		"out_trade_id": "201901021232211023",
		"amount":       "8.88",
		"currency":     "HKD",
		"product_info": "Hipopay - product for test",
		"appid":        "wx3zzzzzzz4",
		"openid":       "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		"client_ip":    "10.129.35.61",
	}
}

func TestPlaceOrderWire(t *testing.T) {
	const notify = "https://merchant.example/hipopay/notify?src=mini"
	tests := []struct {
		name  string
		edit  func(r *PlaceOrderRequest)
		extra map[string]string
	}{
		{"required fields only", func(*PlaceOrderRequest) {}, nil},
		{"notify_url", func(r *PlaceOrderRequest) { r.NotifyURL = notify }, map[string]string{"notify_url": notify}},
		{"is_rmb true", func(r *PlaceOrderRequest) { r.IsRMB = true }, map[string]string{"is_rmb": "TRUE"}},
		{"is_rmb false sends nothing", func(r *PlaceOrderRequest) { r.IsRMB = false }, nil},
		{"notify_url and is_rmb", func(r *PlaceOrderRequest) { r.NotifyURL = notify; r.IsRMB = true },
			map[string]string{"notify_url": notify, "is_rmb": "TRUE"}},
		{"JPY without decimals", func(r *PlaceOrderRequest) { r.Currency, r.Amount = JPY, "1200" },
			map[string]string{"currency": "JPY", "amount": "1200"}},
		{"KRW without decimals", func(r *PlaceOrderRequest) { r.Currency, r.Amount = KRW, "5000" },
			map[string]string{"currency": "KRW", "amount": "5000"}},
		{"one decimal", func(r *PlaceOrderRequest) { r.Amount = "0.1" }, map[string]string{"amount": "0.1"}},
		{"no decimals in HKD", func(r *PlaceOrderRequest) { r.Amount = "100" }, map[string]string{"amount": "100"}},
		{"unicode product info", func(r *PlaceOrderRequest) { r.ProductInfo = "抹茶ラテ 2杯 & 蛋糕/cake (50% off)" },
			map[string]string{"product_info": "抹茶ラテ 2杯 & 蛋糕/cake (50% off)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "wechatpay/mini_program/payment", http.StatusOK, placeOrderJSONBody)
			req := validOrder()
			tc.edit(req)
			_, err := c.PlaceOrder(context.Background(), req)
			require.NoError(t, err)
			want := requiredOrderParams()
			for k, v := range tc.extra {
				want[k] = v
			}
			assertWire(t, w.single(t), http.MethodPost, "wechatpay/mini_program/payment", "1.0", want)
		})
	}
}

// The SDK's own request for the place_order signing vector carries the
// very signature an independent implementation computed.
func TestPlaceOrderMatchesSigningVector(t *testing.T) {
	tc := signingVector(t, "place_order")
	c, w := newWireMock(t, WithClock(vectorClock(t, tc.Timestamp)))
	w.on(http.MethodPost, tc.Path, http.StatusOK, placeOrderJSONBody)
	p := valuesOf(tc.Params)
	require.Equal(t, testMerchantNo, p.Get("merchant_no"))
	_, err := c.PlaceOrder(context.Background(), &PlaceOrderRequest{
		OutTradeID:  p.Get("out_trade_id"),
		Amount:      p.Get("amount"),
		Currency:    Currency(p.Get("currency")),
		ProductInfo: p.Get("product_info"),
		AppID:       p.Get("appid"),
		OpenID:      p.Get("openid"),
		ClientIP:    p.Get("client_ip"),
		NotifyURL:   p.Get("notify_url"),
	})
	require.NoError(t, err)
	assertMatchesVector(t, w.single(t), tc)
}

func TestPlaceOrderDecodesReferenceExample(t *testing.T) {
	for name, body := range map[string]string{"json": placeOrderJSONBody, "python": placeOrderPythonBody} {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "wechatpay/mini_program/payment", http.StatusOK, body)
			p, err := c.PlaceOrder(context.Background(), validOrder())
			require.NoError(t, err)
			assert.Equal(t, "0.10", p.Amount)
			assert.Equal(t, HKD, p.Currency)
			assert.Equal(t, "0.881890", p.ExchangeRate)
			assert.Equal(t, "d2849e8140a6", p.OutTradeID)
			assert.Equal(t, "2018081316331654230251111", p.PaymentNo)
			assert.Equal(t, PaymentStatusInit, p.Status)
			assert.Equal(t, "Wechat Mini Program Pay", p.ProductInfo)
			assertChinaTime(t, p.TradeTime, "2018-08-13 16:33:16")
			assertChinaTime(t, p.FinishTime, "2018-08-13 16:33:16")
			assert.True(t, p.TradeTime.Equal(time.Date(2018, 8, 13, 8, 33, 16, 0, time.UTC)))
			assert.Equal(t, "MINIPROGRA", p.TradeType)
			require.NotNil(t, p.PrepayParams)
			assert.Equal(t, PrepayParams{
				NonceStr:  "572666791269",
				OrderNo:   "2019021911592704114199308",
				PaySign:   "466790B2486C24F2DE0BD4C77C7D22AB",
				PrepayID:  "wx19115928908673c06a1d48960711201017",
				TimeStamp: "1550548767",
			}, *p.PrepayParams)

			// The order number starts with the UTC+8 time of the prepay
			// timeStamp: HipoPay's times are China Standard Time.
			ts := time.Unix(1550548767, 0).In(ChinaTimeZone()).Format("20060102150405")
			assert.True(t, strings.HasPrefix(p.PrepayParams.OrderNo, ts), "%s does not start with %s", p.PrepayParams.OrderNo, ts)
		})
	}
}

func TestPrepayParamsRequestPayment(t *testing.T) {
	pp := &PrepayParams{
		NonceStr:  "572666791269",
		OrderNo:   "2019021911592704114199308",
		PaySign:   "466790B2486C24F2DE0BD4C77C7D22AB",
		PrepayID:  "wx19115928908673c06a1d48960711201017",
		TimeStamp: "1550548767",
	}
	rp := pp.RequestPayment()
	assert.Equal(t, WxRequestPayment{
		TimeStamp: "1550548767",
		NonceStr:  "572666791269",
		Package:   "prepay_id=wx19115928908673c06a1d48960711201017",
		SignType:  "MD5",
		PaySign:   "466790B2486C24F2DE0BD4C77C7D22AB",
	}, rp)
	b, err := json.Marshal(rp)
	require.NoError(t, err)
	assert.JSONEq(t, `{"timeStamp": "1550548767", "nonceStr": "572666791269",
		"package": "prepay_id=wx19115928908673c06a1d48960711201017", "signType": "MD5",
		"paySign": "466790B2486C24F2DE0BD4C77C7D22AB"}`, string(b))
	// The raw parameters stay as received.
	assert.Equal(t, "2019021911592704114199308", pp.OrderNo)
	assert.Equal(t, "wx19115928908673c06a1d48960711201017", pp.PrepayID)
}

func TestPlaceOrderPaidAnswer(t *testing.T) {
	// A paid order's finish_time and exchange_rate are decoded; an order
	// not yet paid may omit them.
	c, w := newWireMock(t)
	w.on(http.MethodPost, "wechatpay/mini_program/payment", http.StatusOK, `{"is_success": "true", "response": {
		"amount": "8.88", "currency": "HKD", "out_trade_id": "201901021232211023",
		"payment_no": "2019021911592704114199308", "status": "INIT", "product_info": "Hipopay - product for test",
		"trade_time": "2019-02-19 11:59:27", "trade_type": "MINIPROGRAM", "unknown_new_field": {"a": [1, 2]},
		"prepay_params": {"nonceStr": "n", "order_no": "o", "paySign": "s", "prepay_id": "p", "timeStamp": "1550548767"}}}`)
	p, err := c.PlaceOrder(context.Background(), validOrder())
	require.NoError(t, err)
	assert.Empty(t, p.ExchangeRate)
	assert.True(t, p.FinishTime.IsZero())
	assertChinaTime(t, p.TradeTime, "2019-02-19 11:59:27")
	assert.Equal(t, "prepay_id=p", p.PrepayParams.RequestPayment().Package)
}

func TestPlaceOrderErrors(t *testing.T) {
	for _, tc := range []struct {
		code, message string
		sentinel      *APIError
	}{
		{"FOREX_MERCHANT_NOT_SUPPORT_THIS_CURRENCY", "This currency is not supported", ErrForexMerchantNotSupportThisCurrency},
		{"ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile},
	} {
		for _, a := range errorAnswers(tc.code, tc.message) {
			t.Run(tc.code+"/"+a.name, func(t *testing.T) {
				c, w := newWireMock(t)
				w.on(http.MethodPost, "wechatpay/mini_program/payment", a.status, a.body)
				p, err := c.PlaceOrder(context.Background(), validOrder())
				assert.Nil(t, p)
				assertAPIError(t, err, a.status, tc.code, tc.message, tc.sentinel)
				assert.Len(t, w.requests(), 1)
			})
		}
	}
}

func TestPlaceOrderValidation(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(r *PlaceOrderRequest)
		field string
	}{
		{"no out_trade_id", func(r *PlaceOrderRequest) { r.OutTradeID = "" }, "out_trade_id"},
		{"blank out_trade_id", func(r *PlaceOrderRequest) { r.OutTradeID = "  " }, "out_trade_id"},
		{"no amount", func(r *PlaceOrderRequest) { r.Amount = "" }, "amount"},
		{"no currency", func(r *PlaceOrderRequest) { r.Currency = "" }, "currency"},
		{"no product_info", func(r *PlaceOrderRequest) { r.ProductInfo = "" }, "product_info"},
		{"no appid", func(r *PlaceOrderRequest) { r.AppID = "" }, "appid"},
		{"no openid", func(r *PlaceOrderRequest) { r.OpenID = "" }, "openid"},
		{"no client_ip", func(r *PlaceOrderRequest) { r.ClientIP = "" }, "client_ip"},
		{"lower-case currency", func(r *PlaceOrderRequest) { r.Currency = "hkd" }, "currency"},
		{"two-letter currency", func(r *PlaceOrderRequest) { r.Currency = "HK" }, "currency"},
		{"four-letter currency", func(r *PlaceOrderRequest) { r.Currency = "HKDD" }, "currency"},
		{"currency with a digit", func(r *PlaceOrderRequest) { r.Currency = "HK1" }, "currency"},
		{"full-width currency", func(r *PlaceOrderRequest) { r.Currency = "ＨＫＤ" }, "currency"},
		{"decimals in JPY", func(r *PlaceOrderRequest) { r.Currency, r.Amount = JPY, "1200.5" }, "amount"},
		{"zero decimals in JPY", func(r *PlaceOrderRequest) { r.Currency, r.Amount = JPY, "1200.0" }, "amount"},
		{"decimals in KRW", func(r *PlaceOrderRequest) { r.Currency, r.Amount = KRW, "5000.50" }, "amount"},
		{"relative notify_url", func(r *PlaceOrderRequest) { r.NotifyURL = "/notify" }, "notify_url"},
		{"notify_url not http", func(r *PlaceOrderRequest) { r.NotifyURL = "ftp://merchant.example/notify" }, "notify_url"},
	}
	for _, a := range badAmounts {
		tests = append(tests, struct {
			name  string
			edit  func(r *PlaceOrderRequest)
			field string
		}{"amount " + a, func(r *PlaceOrderRequest) { r.Amount = a }, "amount"})
	}
	c, w := newWireMock(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := validOrder()
			tc.edit(req)
			p, err := c.PlaceOrder(context.Background(), req)
			assert.Nil(t, p)
			assertInvalid(t, w, err, tc.field)
		})
	}
	t.Run("nil request", func(t *testing.T) {
		p, err := c.PlaceOrder(context.Background(), nil)
		assert.Nil(t, p)
		assertInvalid(t, w, err, "request")
	})
}

func TestGetPaymentWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    PaymentQuery
		want map[string]string
	}{
		{"by payment_no", PaymentQuery{PaymentNo: "2018071823332342210483065"}, map[string]string{"payment_no": "2018071823332342210483065"}},
		{"by out_trade_id", PaymentQuery{OutTradeID: "2746847384112837273872"}, map[string]string{"out_trade_id": "2746847384112837273872"}},
		{"by both", PaymentQuery{PaymentNo: "2018071823332342210483065", OutTradeID: "2746847384112837273872"},
			map[string]string{"payment_no": "2018071823332342210483065", "out_trade_id": "2746847384112837273872"}},
		{"encoded", PaymentQuery{OutTradeID: "ORD 1/2+3&4=5"}, map[string]string{"out_trade_id": "ORD 1/2+3&4=5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodGet, "payment", http.StatusOK, getPaymentJSONBody)
			_, err := c.GetPayment(context.Background(), tc.q)
			require.NoError(t, err)
			assertWire(t, w.single(t), http.MethodGet, "payment", "1.0", tc.want)
		})
	}
}

func TestGetPaymentMatchesSigningVector(t *testing.T) {
	tc := signingVector(t, "get_payment_by_out_trade_id")
	c, w := newWireMock(t, WithClock(vectorClock(t, tc.Timestamp)))
	w.on(http.MethodGet, tc.Path, http.StatusOK, getPaymentJSONBody)
	_, err := c.GetPayment(context.Background(), PaymentQuery{OutTradeID: valuesOf(tc.Params).Get("out_trade_id")})
	require.NoError(t, err)
	assertMatchesVector(t, w.single(t), tc)
}

func TestGetPaymentDecodesReferenceExample(t *testing.T) {
	bodies := map[string]string{
		"json":        getPaymentJSONBody,
		"python":      getPaymentPythonBody,
		"string-True": strings.Replace(getPaymentJSONBody, `"is_success": true`, `"is_success": "True"`, 1),
		"string-true": strings.Replace(getPaymentJSONBody, `"is_success": true`, `"is_success": "true"`, 1),
		"utf-8 BOM":   "\ufeff" + getPaymentJSONBody,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodGet, "payment", http.StatusOK, body)
			p, err := c.GetPayment(context.Background(), PaymentQuery{OutTradeID: "2746847384112837273872"})
			require.NoError(t, err)
			assert.Equal(t, "0.02", p.Amount)
			assert.Equal(t, HKD, p.Currency)
			assert.Equal(t, "0.881890", p.ExchangeRate)
			assert.Equal(t, "2746847384112837273872", p.OutTradeID)
			assert.Equal(t, "2018071823332342210483065", p.PaymentNo)
			assert.Equal(t, PaymentStatusPaid, p.Status)
			assert.True(t, p.Status.Final())
			assert.Equal(t, "Alipay App Pay", p.ProductInfo)
			assertChinaTime(t, p.TradeTime, "2018-07-18 23:33:23")
			assert.Equal(t, 18, p.TradeTime.UTC().Day(), "23:33 in UTC+8 is still the 18th in UTC (15:33)")
			assert.True(t, p.FinishTime.IsZero(), "the example has no finish_time")
			assert.Equal(t, "APP", p.TradeType)
			assert.Nil(t, p.PrepayParams, "only PlaceOrder's answer has prepay_params")
		})
	}
}

func TestGetPaymentErrors(t *testing.T) {
	for _, tc := range []struct {
		code, message string
		sentinel      *APIError
	}{
		{"PAYMENT_NOT_FOUND", "Order not found", ErrPaymentNotFound},
		{"ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile},
	} {
		for _, a := range errorAnswers(tc.code, tc.message) {
			t.Run(tc.code+"/"+a.name, func(t *testing.T) {
				c, w := newWireMock(t)
				w.on(http.MethodGet, "payment", a.status, a.body)
				p, err := c.GetPayment(context.Background(), PaymentQuery{PaymentNo: "2019062231224380479532988"})
				assert.Nil(t, p)
				assertAPIError(t, err, a.status, tc.code, tc.message, tc.sentinel)
				assert.Len(t, w.requests(), 1, "a business error is not retried")
			})
		}
	}
}

func TestGetPaymentValidation(t *testing.T) {
	c, w := newWireMock(t)
	p, err := c.GetPayment(context.Background(), PaymentQuery{})
	assert.Nil(t, p)
	assertInvalid(t, w, err, "payment_no")
	assert.Contains(t, err.Error(), "out_trade_id", "the error names both identifiers")
}

func TestGetForexRateWire(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodGet, "wechatpay/forex_rate", http.StatusOK, forexRateJSONBody)
	_, err := c.GetForexRate(context.Background(), USD)
	require.NoError(t, err)
	assertWire(t, w.single(t), http.MethodGet, "wechatpay/forex_rate", "1.0", map[string]string{"currency": "USD"})
}

func TestGetForexRateMatchesSigningVector(t *testing.T) {
	tc := signingVector(t, "forex_rate")
	c, w := newWireMock(t, WithClock(vectorClock(t, tc.Timestamp)))
	w.on(http.MethodGet, tc.Path, http.StatusOK, forexRateJSONBody)
	_, err := c.GetForexRate(context.Background(), Currency(valuesOf(tc.Params).Get("currency")))
	require.NoError(t, err)
	assertMatchesVector(t, w.single(t), tc)
}

func TestGetForexRateDecodesReferenceExample(t *testing.T) {
	bodies := map[string]string{
		"json":        forexRateJSONBody,
		"python":      strings.Replace(forexRateJSONBody, "true", "True", 1),
		"string-True": strings.Replace(forexRateJSONBody, "true", `"True"`, 1),
		"string-true": strings.Replace(forexRateJSONBody, "true", `"true"`, 1),
		// A rate sent as a JSON number keeps its exact text.
		"number": `{"is_success": true, "response": {"currency": "USD", "forex_rate": 0.1490046489450470854690666349,}}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodGet, "wechatpay/forex_rate", http.StatusOK, body)
			r, err := c.GetForexRate(context.Background(), USD)
			require.NoError(t, err)
			assert.Equal(t, &ForexRate{Currency: USD, Rate: "0.1490046489450470854690666349"}, r)
		})
	}
}

func TestGetForexRateErrors(t *testing.T) {
	for _, tc := range []struct {
		code, message string
		sentinel      *APIError
	}{
		{"CURRENCY_NOT_SUPPORT", "This currency is not supported", ErrCurrencyNotSupported},
		{"ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile},
	} {
		for _, a := range errorAnswers(tc.code, tc.message) {
			t.Run(tc.code+"/"+a.name, func(t *testing.T) {
				c, w := newWireMock(t)
				w.on(http.MethodGet, "wechatpay/forex_rate", a.status, a.body)
				// A well-formed code the SDK does not know is HipoPay's to
				// refuse.
				r, err := c.GetForexRate(context.Background(), "XYZ")
				assert.Nil(t, r)
				assertAPIError(t, err, a.status, tc.code, tc.message, tc.sentinel)
				assert.Equal(t, "XYZ", w.single(t).Params.Get("currency"))
			})
		}
	}
}

func TestGetForexRateValidation(t *testing.T) {
	c, w := newWireMock(t)
	for _, cur := range []Currency{"", "usd", "US", "USDD", "U$D", "ＵＳＤ", " USD", "USD "} {
		t.Run(string(cur), func(t *testing.T) {
			r, err := c.GetForexRate(context.Background(), cur)
			assert.Nil(t, r)
			assertInvalid(t, w, err, "currency")
		})
	}
}

// A nil context is refused, not a panic.
func TestPaymentCallsRefuseNilContext(t *testing.T) {
	c, w := newWireMock(t)
	//lint:ignore SA1012 testing the nil-context guard
	_, err := c.GetPayment(nil, PaymentQuery{PaymentNo: "1"}) //nolint:staticcheck
	require.Error(t, err)
	assert.Zero(t, w.calls())
}
