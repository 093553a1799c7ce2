package hipopaytest_test

// Every payment method through the fake: placed with the SDK, answered
// with its field, paid (a barcode order waits USERPAYING), notified with
// its trade type, refunded and billed; each endpoint's exact parameter
// set; response_version per order.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeCase is what the test expects of a method at the fake.
type fakeCase struct {
	set       func(r *hipopay.PlaceOrderRequest)
	params    []string // the parameters beyond the common ones, all of them (METHODS.md)
	required  []string // of params
	tradeType string
	answer    string // the answer field: prepay_params, js_params, qrcode_url, pay_url, order_string, ""
	billType  string
	channel   string
	hk        bool // takes hk_wallet
	rmb       bool // takes is_rmb
}

func fakeCases() map[hipopay.PaymentMethod]fakeCase {
	const wx, ali = "Collection via WeChat Pay", "Collection via Alipay"
	mini := func(r *hipopay.PlaceOrderRequest) { r.AppID, r.OpenID = "wx3zzzzzzz4", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" }
	open := func(r *hipopay.PlaceOrderRequest) { r.OpenID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" }
	app := func(r *hipopay.PlaceOrderRequest) { r.AppID = "wx3zzzzzzz4" }
	auth := func(r *hipopay.PlaceOrderRequest) { r.AuthCode = "134567890123456789" }
	none := func(*hipopay.PlaceOrderRequest) {}
	return map[hipopay.PaymentMethod]fakeCase{
		hipopay.WeChatMiniProgram: {mini, []string{"merchant_no", "appid", "openid", "is_rmb"}, []string{"merchant_no", "appid", "openid"},
			"MINIPROGRA", "prepay_params", wx, "WECHATPAYCN", false, true},
		hipopay.WeChatMiniProgramHK: {mini, []string{"merchant_no", "appid", "openid", "is_rmb"}, []string{"merchant_no", "appid", "openid"},
			"MINIPROGRA", "prepay_params", wx, "WECHATPAYHK", false, true},
		hipopay.WeChatOfficialAccount: {open, []string{"openid", "is_rmb"}, []string{"openid"}, "JSAPI", "js_params", wx, "WECHATPAYCN", false, true},
		hipopay.WeChatOfficialAccountHK: {open, []string{"merchant_no", "openid", "is_rmb"}, []string{"merchant_no", "openid"},
			"JSAPI", "js_params", wx, "WECHATPAYHK", false, true},
		hipopay.WeChatApp:      {app, []string{"appid", "is_rmb"}, []string{"appid"}, "APP", "prepay_params", wx, "WECHATPAYCN", false, true},
		hipopay.WeChatAppHK:    {app, []string{"appid", "is_rmb", "surcharge"}, []string{"appid"}, "APP", "prepay_params", wx, "WECHATPAYHK", false, true},
		hipopay.WeChatWebQR:    {none, []string{"is_rmb"}, nil, "NATIVE", "qrcode_url", wx, "WECHATPAYCN", false, true},
		hipopay.WeChatDeviceQR: {none, []string{"is_rmb"}, nil, "NATIVE", "qrcode_url", wx, "WECHATPAYCN", false, true},
		hipopay.WeChatBarcode:  {auth, []string{"auth_code", "is_rmb"}, []string{"auth_code"}, "MICROPAY", "", wx, "WECHATPAYCN", false, true},
		hipopay.AlipayApp:      {none, []string{"is_rmb"}, nil, "APP", "order_string", ali, "ALIPAYCN", false, true},
		hipopay.AlipayWap: {func(r *hipopay.PlaceOrderRequest) { r.ReturnURL = "https://shop.example/paid" },
			[]string{"return_url", "hk_wallet", "is_rmb"}, []string{"return_url"}, "WAP", "pay_url", ali, "ALIPAYCN", true, true},
		hipopay.AlipayWeb:     {none, []string{"hk_wallet"}, nil, "WEB", "pay_url", ali, "ALIPAYCN", true, false},
		hipopay.AlipayQR:      {none, []string{"hk_wallet"}, nil, "QRCODE", "qrcode_url", ali, "ALIPAYCN", true, false},
		hipopay.AlipayBarcode: {auth, []string{"auth_code", "hk_wallet"}, []string{"auth_code"}, "BARCODE", "", ali, "ALIPAYCN", true, false},
	}
}

func methodRequest(m hipopay.PaymentMethod, outTradeID, notifyURL string) *hipopay.PlaceOrderRequest {
	r := &hipopay.PlaceOrderRequest{Method: m, OutTradeID: outTradeID, Amount: "100.00", Currency: hipopay.HKD,
		ProductInfo: "Matcha latte", ClientIP: "203.0.113.9", NotifyURL: notifyURL}
	fakeCases()[m].set(r)
	return r
}

// assertAnswerField checks that the place-order answer carries the
// method's field (and Raw, for the one the SDK has no field for).
func assertAnswerField(t *testing.T, p *hipopay.Payment, field string) {
	t.Helper()
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(p.Raw, &raw))
	for _, f := range []string{"prepay_params", "js_params", "qrcode_url", "pay_url", "order_string"} {
		if f == field {
			assert.Contains(t, raw, f)
		} else {
			assert.NotContains(t, raw, f)
		}
	}
	switch field {
	case "prepay_params":
		require.NotNil(t, p.PrepayParams)
		assert.Regexp(t, `^wx[0-9a-z]{34}$`, p.PrepayParams.PrepayID)
	case "js_params":
		var js map[string]string
		require.NoError(t, json.Unmarshal(p.JSParams, &js))
		assert.Regexp(t, `^prepay_id=wx`, js["package"])
		assert.Regexp(t, `^[0-9A-F]{32}$`, js["paySign"])
		for _, k := range []string{"appId", "timeStamp", "nonceStr", "signType"} {
			assert.NotEmpty(t, js[k], k)
		}
	case "qrcode_url":
		assert.Regexp(t, `^(weixin://wxpay/bizpayurl\?pr=|https://qr\.alipay\.com/)`, p.QRCodeURL)
	case "pay_url":
		assert.Contains(t, p.PayURL, "out_trade_no="+p.PaymentNo)
	case "order_string":
		assert.Contains(t, string(raw["order_string"]), p.PaymentNo)
	}
}

// TestEveryMethodLifeCycle: place, query, pay, notification, refund and
// the reconciliation file, for each method.
func TestEveryMethodLifeCycle(t *testing.T) {
	clock := newFakeClock(time.Date(2024, 3, 5, 10, 0, 0, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now))
	c := s.Client()
	ctx := ctxT(t)
	rec, notifyURL := newNotifyRecorder(t)
	cases := fakeCases()
	require.Len(t, cases, len(hipopay.PaymentMethods()))

	type placed struct {
		m hipopay.PaymentMethod
		p *hipopay.Payment
	}
	var all []placed
	for i, m := range hipopay.PaymentMethods() {
		tc := cases[m]
		outTradeID := "M-" + string(rune('A'+i))
		p, err := c.PlaceOrder(ctx, methodRequest(m, outTradeID, notifyURL))
		require.NoError(t, err, m)
		want := hipopay.PaymentStatusInit
		if tc.answer == "" {
			want = hipopay.PaymentStatusUserPaying // a barcode: the buyer confirms
		}
		assert.Equal(t, want, p.Status, m)
		assert.Equal(t, tc.tradeType, p.TradeType, m)
		assertAnswerField(t, p, tc.answer)

		got, err := c.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: outTradeID})
		require.NoError(t, err)
		assert.Equal(t, want, got.Status)
		assert.Equal(t, tc.tradeType, got.TradeType)
		assertAnswerField(t, got, "") // GET payment: no method field

		require.NoError(t, s.Pay(p.PaymentNo), m)
		require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo), m)
		paid, err := c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
		require.NoError(t, err)
		assert.Equal(t, hipopay.PaymentStatusPaid, paid.Status)

		r, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: outTradeID + "-R", RefundAmount: "10.00"})
		require.NoError(t, err)
		assert.Equal(t, hipopay.RefundStatusSuccess, r.Status, m)
		all = append(all, placed{m, p})
	}

	// Notifications: signed, with the method's trade type.
	byPayment := map[string]url.Values{}
	for _, n := range rec.received() {
		require.NoError(t, hipopay.VerifyNotificationSignature(s.PublicKey(), n.form, n.timestamp, n.signature))
		byPayment[n.form.Get("payment_no")] = n.form
	}
	for _, pl := range all {
		n := byPayment[pl.p.PaymentNo]
		require.NotNil(t, n, pl.m)
		assert.Equal(t, cases[pl.m].tradeType, n.Get("trade_type"), pl.m)
		assert.Equal(t, "PAID", n.Get("status"))
		assert.Equal(t, pl.p.OutTradeID, n.Get("out_trade_id"))
	}

	// The reconciliation file: a collection and a refund per method.
	day := time.Date(2024, 3, 5, 0, 0, 0, 0, cst)
	rc, err := c.DownloadBill(ctx, &hipopay.BillRequest{StartDate: day, EndDate: day})
	require.NoError(t, err)
	raw, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	collections := map[string]*hipopay.BillRecord{}
	refunds := map[string]*hipopay.BillRecord{}
	for rec, err := range hipopay.NewBillReader(bytes.NewReader(raw)).All() {
		require.NoError(t, err)
		switch rec.Kind() {
		case hipopay.BillEntryPayment:
			collections[rec.OrderNo] = rec
		case hipopay.BillEntryRefund:
			refunds[rec.RefundOrderNo] = rec
		}
	}
	for _, pl := range all {
		col, ref := collections[pl.p.PaymentNo], refunds[pl.p.PaymentNo]
		require.NotNil(t, col, pl.m)
		require.NotNil(t, ref, pl.m)
		assert.Equal(t, cases[pl.m].billType, col.Type, pl.m)
		assert.Equal(t, cases[pl.m].channel, col.PaymentChannel, pl.m)
		assert.Equal(t, cases[pl.m].channel, ref.PaymentChannel, pl.m)
		assert.Equal(t, hipopay.Money{Value: "100.00", Currency: hipopay.HKD}, col.TransactionAmount)
		assert.Equal(t, hipopay.Money{Value: "10.00", Currency: hipopay.HKD}, ref.RefundAmount)
	}
}

// The SDK's every optional field reaches the fake and is accepted: is_rmb
// and hk_wallet where the method takes them, response_version everywhere
// (whose notification then carries the 3.0 fields, for that order only).
func TestEveryMethodOptionalFields(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	ctx := ctxT(t)
	rec, notifyURL := newNotifyRecorder(t)
	for i, m := range hipopay.PaymentMethods() {
		tc := fakeCases()[m]
		req := methodRequest(m, "OPT-"+string(rune('A'+i)), notifyURL)
		req.ResponseVersion = "3.0"
		req.IsRMB = tc.rmb
		req.HKWallet = tc.hk
		p, err := c.PlaceOrder(ctx, req)
		require.NoError(t, err, m)
		require.NoError(t, s.Pay(p.PaymentNo))
		require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))
		if tc.hk {
			got, ok := s.Payment(p.PaymentNo)
			require.True(t, ok)
			assert.Equal(t, hipopay.PaymentStatusPaid, got.Status)
		}
	}
	plain, err := c.PlaceOrder(ctx, methodRequest(hipopay.AlipayQR, "PLAIN", notifyURL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(plain.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, plain.PaymentNo))

	for _, n := range rec.received() {
		v3 := n.form.Has("pay_rate") && n.form.Has("pay_rate_reversed") && n.form.Has("bank_type") && n.form.Has("promotion_detail")
		if n.form.Get("out_trade_id") == "PLAIN" {
			assert.False(t, n.form.Has("pay_rate"), "an order without response_version has no 3.0 fields")
		} else {
			assert.True(t, v3, "response_version 3.0 on %s: %v", n.form.Get("trade_type"), n.form)
		}
	}
	assert.Len(t, rec.received(), len(hipopay.PaymentMethods())+1)
}

// An AlipayHK wallet order is billed on the HK channel.
func TestAlipayHKWalletChannel(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	ctx := ctxT(t)
	req := methodRequest(hipopay.AlipayQR, "HKW-1", "")
	req.HKWallet = true
	p, err := c.PlaceOrder(ctx, req)
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	today := time.Now().In(cst)
	rc, err := c.DownloadBill(ctx, &hipopay.BillRequest{StartDate: today, EndDate: today})
	require.NoError(t, err)
	defer rc.Close()
	rec, err := hipopay.NewBillReader(rc).Read()
	require.NoError(t, err)
	assert.Equal(t, "ALIPAYHK", rec.PaymentChannel)
}

// paramsOf is a method's complete request with every parameter it takes.
func paramsOf(s *hipopaytest.Server, m hipopay.PaymentMethod) url.Values {
	v := url.Values{"out_trade_id": {"RAW-" + strings.ReplaceAll(string(m), "/", "-")}, "amount": {"8.88"}, "currency": {"HKD"},
		"product_info": {"tea"}, "client_ip": {"203.0.113.9"}, "notify_url": {"https://shop.example/n"}, "response_version": {"3.0"}}
	for _, name := range fakeCases()[m].params {
		switch name {
		case "merchant_no":
			v.Set(name, s.MerchantNo)
		case "appid":
			v.Set(name, "wx3zzzzzzz4")
		case "openid":
			v.Set(name, "o1")
		case "auth_code":
			v.Set(name, "134567890123456789")
		case "return_url":
			v.Set(name, "https://shop.example/paid")
		case "hk_wallet":
			v.Set(name, "true")
		case "is_rmb", "surcharge":
			v.Set(name, "TRUE")
		}
	}
	return v
}

// Each place-order endpoint takes exactly its parameters: all of them are
// accepted; any other, of another method's, is INVALID_PARAMETER; each
// required one missing is INVALID_PARAMETER; GET is 405.
func TestEveryMethodExactParameters(t *testing.T) {
	s := newServer(t)
	others := []string{"merchant_no", "appid", "openid", "auth_code", "return_url", "hk_wallet", "is_rmb", "surcharge", "payment_no"}
	for _, m := range hipopay.PaymentMethods() {
		t.Run(string(m), func(t *testing.T) {
			tc := fakeCases()[m]
			status, out := rawCall(t, s, http.MethodPost, string(m), "1.0", paramsOf(s, m), nil)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, true, out["is_success"], out)

			for _, extra := range others {
				if contains(tc.params, extra) {
					continue
				}
				p := paramsOf(s, m)
				p.Set("out_trade_id", "X-"+extra)
				p.Set(extra, "1")
				_, out := rawCall(t, s, http.MethodPost, string(m), "1.0", p, nil)
				assert.Equal(t, hipopaytest.CodeInvalidParameter, out["error"], "%s with %s: %v", m, extra, out)
				assert.Contains(t, out["error_message"], "does not take "+extra)
			}
			for _, name := range append([]string{"out_trade_id", "amount", "currency", "product_info", "client_ip"}, tc.required...) {
				p := paramsOf(s, m)
				p.Del(name)
				if name != "out_trade_id" {
					p.Set("out_trade_id", "Y-"+name)
				}
				_, out := rawCall(t, s, http.MethodPost, string(m), "1.0", p, nil)
				assert.Equal(t, hipopaytest.CodeInvalidParameter, out["error"], "%s without %s: %v", m, name, out)
			}
			status, _ = rawCall(t, s, http.MethodGet, string(m), "1.0", url.Values{}, nil)
			assert.Equal(t, http.StatusMethodNotAllowed, status)
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// WeChat's HK wallet takes HKD only; hk_wallet and is_rmb take their two
// values only.
func TestMethodFieldValues(t *testing.T) {
	s := newServer(t)
	for _, m := range []hipopay.PaymentMethod{hipopay.WeChatMiniProgramHK, hipopay.WeChatOfficialAccountHK, hipopay.WeChatAppHK} {
		p := paramsOf(s, m)
		p.Set("currency", "USD")
		_, out := rawCall(t, s, http.MethodPost, string(m), "1.0", p, nil)
		assert.Equal(t, hipopaytest.CodeForexMerchantNotSupportThisCurrency, out["error"], m)
	}
	p := paramsOf(s, hipopay.AlipayWeb)
	p.Set("hk_wallet", "TRUE")
	_, out := rawCall(t, s, http.MethodPost, string(hipopay.AlipayWeb), "1.0", p, nil)
	assert.Equal(t, hipopaytest.CodeInvalidParameter, out["error"])
	p = paramsOf(s, hipopay.AlipayWap)
	p.Set("return_url", "/paid")
	_, out = rawCall(t, s, http.MethodPost, string(hipopay.AlipayWap), "1.0", p, nil)
	assert.Equal(t, hipopaytest.CodeInvalidParameter, out["error"])
}

// A barcode order waits USERPAYING; WaitForPayment polls it until the
// buyer confirms; FailPayment fails it.
func TestBarcodeWaitsForTheBuyer(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	ctx := ctxT(t)
	p, err := c.PlaceOrder(ctx, methodRequest(hipopay.WeChatBarcode, "BAR-1", ""))
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusUserPaying, p.Status)

	go func() {
		time.Sleep(60 * time.Millisecond)
		assert.NoError(t, s.Pay(p.PaymentNo))
	}()
	paid, err := c.WaitForPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo}, 10*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusPaid, paid.Status)
	assert.Greater(t, s.Calls("GET payment"), 1, "it polled while USERPAYING")

	q, err := c.PlaceOrder(ctx, methodRequest(hipopay.AlipayBarcode, "BAR-2", ""))
	require.NoError(t, err)
	require.NoError(t, s.FailPayment(q.PaymentNo))
	failed, err := c.WaitForPayment(ctx, hipopay.PaymentQuery{OutTradeID: "BAR-2"}, 10*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusFail, failed.Status)
	assert.Error(t, s.Pay(q.PaymentNo), "a failed barcode payment cannot be paid")
}

// The same order placed again is answered as it is; with other terms it
// is DUPLICATE_OUT_TRADE_ID.
func TestMethodOrderPlacedTwice(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	ctx := ctxT(t)
	a, err := c.PlaceOrder(ctx, methodRequest(hipopay.WeChatWebQR, "TWICE", ""))
	require.NoError(t, err)
	b, err := c.PlaceOrder(ctx, methodRequest(hipopay.WeChatWebQR, "TWICE", ""))
	require.NoError(t, err)
	assert.Equal(t, a.PaymentNo, b.PaymentNo)
	assert.Equal(t, a.QRCodeURL, b.QRCodeURL)
	_, err = c.PlaceOrder(ctx, methodRequest(hipopay.AlipayQR, "TWICE", ""))
	var apiErr *hipopay.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeDuplicateOutTradeID, apiErr.Code)
}
