package hipopay

// Tests of every payment method on the wire: the endpoint, Version, the
// exact parameter set of each method (written out here, independently of
// methodTable), the signature, the validation of per-method fields, and
// the decoding of each method's answer.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPaymentMethodsList(t *testing.T) {
	assert.Equal(t, []PaymentMethod{
		"wechatpay/mini_program/payment", "wechatpay/hk/mini_program/payment", "wechatpay/mp/payment",
		"wechatpay/hk/online/mp/payment", "wechatpay/app/payment", "wechatpay/hk/app/payment", "wechatpay/web/payment",
		"wechatpay/qrcode/payment", "wechatpay/barcode/payment", "alipay/app/payment", "alipay/wap/payment",
		"alipay/web/payment", "alipay/qrcode/payment", "alipay/barcode/payment",
	}, PaymentMethods())
	for _, m := range PaymentMethods() {
		assert.True(t, m.Known(), m)
	}
	assert.True(t, PaymentMethod("").Known(), "the zero value is WeChatMiniProgram")
	assert.False(t, PaymentMethod("wechatpay/unknown/payment").Known())
	assert.False(t, PaymentMethod("/wechatpay/mini_program/payment").Known())
}

// methodCase is what a method needs and what it must send beyond the
// common fields.
type methodCase struct {
	set   func(r *PlaceOrderRequest)
	extra map[string]string // beyond the common fields
	rmb   bool              // takes is_rmb
	hk    bool              // takes hk_wallet
}

const (
	testAppID    = "wx3zzzzzzz4"
	testOpenID   = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
	testAuthCode = "134567890123456789"
	testReturn   = "https://shop.example/paid?order=1"
)

// methodCases are METHODS.md's table, written out.
func methodCases() map[PaymentMethod]methodCase {
	mini := func(r *PlaceOrderRequest) { r.AppID, r.OpenID = testAppID, testOpenID }
	miniWire := map[string]string{"merchant_no": testMerchantNo, "appid": testAppID, "openid": testOpenID}
	return map[PaymentMethod]methodCase{
		WeChatMiniProgram:       {mini, miniWire, true, false},
		WeChatMiniProgramHK:     {mini, miniWire, true, false},
		WeChatOfficialAccount:   {func(r *PlaceOrderRequest) { r.OpenID = testOpenID }, map[string]string{"openid": testOpenID}, true, false},
		WeChatOfficialAccountHK: {func(r *PlaceOrderRequest) { r.OpenID = testOpenID }, map[string]string{"merchant_no": testMerchantNo, "openid": testOpenID}, true, false},
		WeChatApp:               {func(r *PlaceOrderRequest) { r.AppID = testAppID }, map[string]string{"appid": testAppID}, true, false},
		WeChatAppHK:             {func(r *PlaceOrderRequest) { r.AppID = testAppID }, map[string]string{"appid": testAppID}, true, false},
		WeChatWebQR:             {func(*PlaceOrderRequest) {}, nil, true, false},
		WeChatDeviceQR:          {func(*PlaceOrderRequest) {}, nil, true, false},
		WeChatBarcode:           {func(r *PlaceOrderRequest) { r.AuthCode = testAuthCode }, map[string]string{"auth_code": testAuthCode}, true, false},
		AlipayApp:               {func(*PlaceOrderRequest) {}, nil, true, false},
		AlipayWap:               {func(r *PlaceOrderRequest) { r.ReturnURL = testReturn }, map[string]string{"return_url": testReturn}, true, true},
		AlipayWeb:               {func(*PlaceOrderRequest) {}, nil, false, true},
		AlipayQR:                {func(*PlaceOrderRequest) {}, nil, false, true},
		AlipayBarcode:           {func(r *PlaceOrderRequest) { r.AuthCode = testAuthCode }, map[string]string{"auth_code": testAuthCode}, false, true},
	}
}

// methodOrder is a valid order of method m, with only what m requires.
func methodOrder(m PaymentMethod) *PlaceOrderRequest {
	r := &PlaceOrderRequest{Method: m, OutTradeID: "ORD-42", Amount: "8.88", Currency: HKD, ProductInfo: "Matcha latte",
		ClientIP: "203.0.113.9", NotifyURL: "https://shop.example/notify"}
	methodCases()[m].set(r)
	return r
}

// commonWire is methodOrder's common fields on the wire.
func commonWire(extra map[string]string) map[string]string {
	w := map[string]string{"out_trade_id": "ORD-42", "amount": "8.88", "currency": "HKD", "product_info": "Matcha latte",
		"client_ip": "203.0.113.9", "notify_url": "https://shop.example/notify"}
	for k, v := range extra {
		w[k] = v
	}
	return w
}

// methodAnswer is an answer with every method-specific field the SDK
// types, so that each method's typed fields can be checked.
const methodAnswer = `{"is_success": true, "response": {"amount": "8.88", "currency": "HKD", "out_trade_id": "ORD-42",
	"payment_no": "2019021911592704114199308", "status": "INIT", "product_info": "Matcha latte",
	"trade_time": "2019-02-19 11:59:27", "trade_type": "X",
	"prepay_params": {"nonceStr": "n", "order_no": "o", "paySign": "s", "prepay_id": "wx1", "timeStamp": "1550548767"},
	"js_params": {"appId": "wx3", "package": "prepay_id=wx1"}, "qrcode_url": "weixin://wxpay/bizpayurl?pr=abc",
	"pay_url": "https://pay.example/p?x=1", "order_string": "app_id=2021&biz_content=%7B%7D"}}`

// recordingServer answers body to every request and records what it
// received (each request's method, path, Version and parameters, after
// checking the signature).
type recordingServer struct {
	mu   sync.Mutex
	reqs []*http.Request
	form []url.Values
}

func (s *recordingServer) handler(t *testing.T, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assertSigned(t, r, r.Header.Get("Version"))
		params := receivedParams(t, r)
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		s.form = append(s.form, params)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
}

func (s *recordingServer) last(t *testing.T) (*http.Request, url.Values) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.reqs, "no request received")
	return s.reqs[len(s.reqs)-1], s.form[len(s.form)-1]
}

// Every method on the wire: POST to its path, Version 1.0, exactly its
// parameters, signed; then with each optional field it takes.
func TestPlaceOrderEveryMethodOnTheWire(t *testing.T) {
	cases := methodCases()
	require.Len(t, cases, len(PaymentMethods()))
	for _, m := range PaymentMethods() {
		tc := cases[m]
		t.Run(string(m), func(t *testing.T) {
			var rec recordingServer
			c, _ := newServerClient(t, rec.handler(t, methodAnswer))
			check := func(req *PlaceOrderRequest, want map[string]string) {
				t.Helper()
				_, err := c.PlaceOrder(context.Background(), req)
				require.NoError(t, err)
				r, got := rec.last(t)
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "/"+string(m), r.URL.Path)
				assert.Empty(t, r.URL.RawQuery)
				assert.Equal(t, "1.0", r.Header.Get("Version"))
				assert.Equal(t, values(want), got)
			}
			check(methodOrder(m), commonWire(tc.extra))

			req := methodOrder(m)
			req.ResponseVersion = "3.0"
			want := commonWire(tc.extra)
			want["response_version"] = "3.0"
			if tc.rmb {
				req.IsRMB = true
				want["is_rmb"] = "TRUE"
			}
			if tc.hk {
				req.HKWallet = true
				want["hk_wallet"] = "true"
			}
			check(req, want)
		})
	}
}

// The zero Method is the mini-program.
func TestPlaceOrderZeroMethodIsMiniProgram(t *testing.T) {
	var rec recordingServer
	c, _ := newServerClient(t, rec.handler(t, methodAnswer))
	req := methodOrder(WeChatMiniProgram)
	req.Method = ""
	_, err := c.PlaceOrder(context.Background(), req)
	require.NoError(t, err)
	r, got := rec.last(t)
	assert.Equal(t, "/wechatpay/mini_program/payment", r.URL.Path)
	assert.Equal(t, values(commonWire(methodCases()[WeChatMiniProgram].extra)), got)
}

func TestPlaceOrderMethodValidation(t *testing.T) {
	type edit = func(r *PlaceOrderRequest)
	tests := []struct {
		name   string
		method PaymentMethod
		edit   edit
		field  string
	}{
		{"unknown method", "wechatpay/unknown/payment", nil, "method"},
		{"absolute method", "/wechatpay/mini_program/payment", nil, "method"},
		{"WeChat barcode without auth_code", WeChatBarcode, func(r *PlaceOrderRequest) { r.AuthCode = "" }, "auth_code"},
		{"Alipay barcode with a blank auth_code", AlipayBarcode, func(r *PlaceOrderRequest) { r.AuthCode = " " }, "auth_code"},
		{"WAP without return_url", AlipayWap, func(r *PlaceOrderRequest) { r.ReturnURL = "" }, "return_url"},
		{"WAP with a relative return_url", AlipayWap, func(r *PlaceOrderRequest) { r.ReturnURL = "/paid" }, "return_url"},
		{"WeChat app without appid", WeChatApp, func(r *PlaceOrderRequest) { r.AppID = "" }, "appid"},
		{"HK app without appid", WeChatAppHK, func(r *PlaceOrderRequest) { r.AppID = "" }, "appid"},
		{"HK mini-program without openid", WeChatMiniProgramHK, func(r *PlaceOrderRequest) { r.OpenID = "" }, "openid"},
		{"official account without openid", WeChatOfficialAccount, func(r *PlaceOrderRequest) { r.OpenID = "" }, "openid"},
		{"HK official account without openid", WeChatOfficialAccountHK, func(r *PlaceOrderRequest) { r.OpenID = "" }, "openid"},
		{"appid on web QR", WeChatWebQR, func(r *PlaceOrderRequest) { r.AppID = testAppID }, "appid"},
		{"appid on the official account", WeChatOfficialAccount, func(r *PlaceOrderRequest) { r.AppID = testAppID }, "appid"},
		{"openid on the app", WeChatApp, func(r *PlaceOrderRequest) { r.OpenID = testOpenID }, "openid"},
		{"openid on Alipay QR", AlipayQR, func(r *PlaceOrderRequest) { r.OpenID = testOpenID }, "openid"},
		{"auth_code on Alipay QR", AlipayQR, func(r *PlaceOrderRequest) { r.AuthCode = testAuthCode }, "auth_code"},
		{"auth_code on the mini-program", WeChatMiniProgram, func(r *PlaceOrderRequest) { r.AuthCode = testAuthCode }, "auth_code"},
		{"return_url on Alipay web", AlipayWeb, func(r *PlaceOrderRequest) { r.ReturnURL = testReturn }, "return_url"},
		{"hk_wallet on Alipay app", AlipayApp, func(r *PlaceOrderRequest) { r.HKWallet = true }, "hk_wallet"},
		{"hk_wallet on WeChat barcode", WeChatBarcode, func(r *PlaceOrderRequest) { r.HKWallet = true }, "hk_wallet"},
		{"hk_wallet on the mini-program", WeChatMiniProgram, func(r *PlaceOrderRequest) { r.HKWallet = true }, "hk_wallet"},
		{"is_rmb on Alipay web", AlipayWeb, func(r *PlaceOrderRequest) { r.IsRMB = true }, "is_rmb"},
		{"is_rmb on Alipay barcode", AlipayBarcode, func(r *PlaceOrderRequest) { r.IsRMB = true }, "is_rmb"},
		{"USD on the HK mini-program", WeChatMiniProgramHK, func(r *PlaceOrderRequest) { r.Currency = USD }, "currency"},
		{"CNY on the HK official account", WeChatOfficialAccountHK, func(r *PlaceOrderRequest) { r.Currency = CNY }, "currency"},
		{"JPY on the HK app", WeChatAppHK, func(r *PlaceOrderRequest) { r.Currency, r.Amount = JPY, "1200" }, "currency"},
		{"response_version not a version", AlipayQR, func(r *PlaceOrderRequest) { r.ResponseVersion = "latest" }, "response_version"},
		{"response_version with a space", AlipayQR, func(r *PlaceOrderRequest) { r.ResponseVersion = "3.0 " }, "response_version"},
		{"no client_ip on Alipay QR", AlipayQR, func(r *PlaceOrderRequest) { r.ClientIP = "" }, "client_ip"},
		{"non-UTF-8 auth_code", WeChatBarcode, func(r *PlaceOrderRequest) { r.AuthCode = "\xff\xfe" }, "auth_code"},
	}
	c, w := newWireMock(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := &PlaceOrderRequest{Method: tc.method, OutTradeID: "ORD-42", Amount: "8.88", Currency: HKD,
				ProductInfo: "Matcha latte", ClientIP: "203.0.113.9"}
			if tcase, ok := methodCases()[tc.method]; ok {
				tcase.set(req)
			}
			if tc.edit != nil {
				tc.edit(req)
			}
			p, err := c.PlaceOrder(context.Background(), req)
			assert.Nil(t, p)
			assertInvalid(t, w, err, tc.field)
		})
	}
	// The same fields pass on the methods that take them.
	for _, ok := range []*PlaceOrderRequest{
		func() *PlaceOrderRequest { r := methodOrder(AlipayQR); r.HKWallet = true; return r }(),
		func() *PlaceOrderRequest { r := methodOrder(AlipayWap); r.IsRMB, r.HKWallet = true, true; return r }(),
		func() *PlaceOrderRequest { r := methodOrder(WeChatWebQR); r.Currency, r.Amount = JPY, "1200"; return r }(),
	} {
		assert.NoError(t, ok.validate(), ok.Method)
	}
}

// Each method's answer: the common fields, the typed method-specific ones,
// and Raw with everything. Only WeChatMiniProgram insists on
// prepay_params.
func TestPlaceOrderEveryMethodAnswer(t *testing.T) {
	for _, m := range PaymentMethods() {
		t.Run(string(m), func(t *testing.T) {
			var rec recordingServer
			c, _ := newServerClient(t, rec.handler(t, methodAnswer))
			p, err := c.PlaceOrder(context.Background(), methodOrder(m))
			require.NoError(t, err)
			assert.Equal(t, "2019021911592704114199308", p.PaymentNo)
			assert.Equal(t, PaymentStatusInit, p.Status)
			assert.Equal(t, "wx1", p.PrepayParams.PrepayID)
			assert.JSONEq(t, `{"appId": "wx3", "package": "prepay_id=wx1"}`, string(p.JSParams))
			assert.Equal(t, "weixin://wxpay/bizpayurl?pr=abc", p.QRCodeURL)
			assert.Equal(t, "https://pay.example/p?x=1", p.PayURL)
			var raw map[string]any
			require.NoError(t, json.Unmarshal(p.Raw, &raw))
			assert.Equal(t, "app_id=2021&biz_content=%7B%7D", raw["order_string"], "an untyped field is in Raw")
		})
	}
	noPrepay := `{"is_success": true, "response": {"amount": "8.88", "currency": "HKD", "out_trade_id": "ORD-42",
		"payment_no": "P1", "status": "INIT", "trade_time": "2019-02-19 11:59:27", "trade_type": "X"}}`
	for _, m := range PaymentMethods() {
		var rec recordingServer
		c, _ := newServerClient(t, rec.handler(t, noPrepay))
		p, err := c.PlaceOrder(context.Background(), methodOrder(m))
		if m == WeChatMiniProgram {
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr, m)
			assert.Contains(t, apiErr.Message, "prepay_params")
			assert.Contains(t, apiErr.Message, "P1")
			continue
		}
		require.NoError(t, err, "%s: prepay_params is documented for the mini-program only", m)
		assert.Nil(t, p.PrepayParams)
		assert.Nil(t, p.JSParams)
		assert.Empty(t, p.QRCodeURL)
	}
}

// A payment marshals with the members of Raw it has no field for, so
// that nothing HipoPay sent is lost on the way to a front end or a log.
func TestPaymentMarshalKeepsUntypedMembers(t *testing.T) {
	var p Payment
	require.NoError(t, json.Unmarshal(responseOf(t, methodAnswer), &p))
	out, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, string(responseOf(t, methodAnswer)), string(out))

	// A typed field wins over Raw's member of the same name.
	p.Status = PaymentStatusPaid
	out, err = json.Marshal(p)
	require.NoError(t, err)
	var wire map[string]any
	require.NoError(t, json.Unmarshal(out, &wire))
	assert.Equal(t, "PAID", wire["status"])
	assert.Equal(t, "app_id=2021&biz_content=%7B%7D", wire["order_string"])

	// A Raw that is not an object adds nothing and breaks nothing.
	p.Raw = json.RawMessage(`[1, 2]`)
	out, err = json.Marshal(p)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "order_string")
}

func TestPaymentMethodRequiredFields(t *testing.T) {
	for m, want := range map[PaymentMethod][]string{
		"":                      {"appid", "openid"},
		WeChatMiniProgram:       {"appid", "openid"},
		WeChatMiniProgramHK:     {"appid", "openid"},
		WeChatOfficialAccount:   {"openid"},
		WeChatOfficialAccountHK: {"openid"},
		WeChatApp:               {"appid"},
		WeChatAppHK:             {"appid"},
		WeChatWebQR:             nil,
		WeChatDeviceQR:          nil,
		WeChatBarcode:           {"auth_code"},
		AlipayApp:               nil,
		AlipayWap:               {"return_url"},
		AlipayWeb:               nil,
		AlipayQR:                nil,
		AlipayBarcode:           {"auth_code"},
		"alipay/unknown":        nil,
	} {
		assert.Equal(t, want, m.RequiredFields(), m)
	}
}

// A payment's URLs keep '&' when marshalled for a terminal; json.Marshal
// escapes it as usual.
func TestPaymentMarshalHTMLEscaping(t *testing.T) {
	p := Payment{PaymentNo: "P1", PayURL: "https://pay.example/p?a=1&b=<2>"}
	b, err := p.MarshalJSON()
	require.NoError(t, err)
	assert.Contains(t, string(b), `"pay_url":"https://pay.example/p?a=1&b=<2>"`)
	b, err = json.Marshal(p)
	require.NoError(t, err)
	assert.Contains(t, string(b), `\u0026`)
	var back Payment
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, p.PayURL, back.PayURL)
}
