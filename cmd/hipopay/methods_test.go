package main

// place-order with every payment method against the fake, and what the
// CLI prints: the SDK's answer types as JSON.

import (
	"encoding/json"
	"strings"
	"testing"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlaceOrderMethods(t *testing.T) {
	clearEnv(t)
	s := hipopaytest.NewServer()
	t.Cleanup(s.Close)
	conn := []string{"-merchant", s.MerchantNo, "-key", writeKey(t, s), "-base-url", s.URL}
	place := func(args ...string) map[string]any {
		t.Helper()
		base := []string{"place-order", "-amount", "8.88", "-currency", "HKD", "-product-info", "tea & cake", "-client-ip", "127.0.0.1"}
		code, out, errOut := runCLI(t, append(append(base, conn...), args...)...)
		require.Equal(t, 0, code, errOut)
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		return v
	}

	qr := place("-method", "AlipayQR", "-out-trade-id", "CLI-QR", "-hk-wallet", "-response-version", "3.0")
	assert.Equal(t, "INIT", qr["status"])
	assert.Equal(t, "QRCODE", qr["trade_type"])
	assert.Regexp(t, `^https://qr\.alipay\.com/`, qr["qrcode_url"])

	byPath := place("-method", "wechatpay/web/payment", "-out-trade-id", "CLI-WEB")
	assert.Regexp(t, `^weixin://wxpay/bizpayurl\?pr=`, byPath["qrcode_url"])

	bar := place("-method", "wechatbarcode", "-out-trade-id", "CLI-BAR", "-auth-code", "134567890123456789")
	assert.Equal(t, "USERPAYING", bar["status"])

	wap := place("-method", "AlipayWap", "-out-trade-id", "CLI-WAP", "-return-url", "https://shop.example/paid")
	assert.Contains(t, wap["pay_url"], "out_trade_no="+wap["payment_no"].(string))

	// The Alipay app's answer field has no typed field in the SDK: printed
	// from Raw all the same.
	app := place("-method", "AlipayApp", "-out-trade-id", "CLI-APP", "-rmb")
	assert.Contains(t, app["order_string"], app["payment_no"].(string))

	oa := place("-method", "WeChatOfficialAccountHK", "-out-trade-id", "CLI-OA", "-openid", "o1")
	assert.Equal(t, "JSAPI", oa["trade_type"])
	assert.Contains(t, oa["js_params"], "paySign")
	p, ok := s.Payment(oa["payment_no"].(string))
	require.True(t, ok)
	assert.Equal(t, hipopay.PaymentStatusInit, p.Status)
}

// The printed payment is the SDK's Payment as JSON: '&' stays as it is.
func TestPlaceOrderPrintsURLsReadably(t *testing.T) {
	clearEnv(t)
	s := hipopaytest.NewServer()
	t.Cleanup(s.Close)
	code, out, errOut := runCLI(t, "place-order", "-merchant", s.MerchantNo, "-key", writeKey(t, s), "-base-url", s.URL,
		"-method", "AlipayWeb", "-out-trade-id", "CLI-AMP", "-amount", "1.00", "-currency", "HKD", "-product-info", "tea",
		"-client-ip", "127.0.0.1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"pay_url": "https://mapi.alipay.com/gateway.do?`)
	assert.NotContains(t, out, `\u0026`)
	var p hipopay.Payment
	require.NoError(t, json.Unmarshal([]byte(out), &p), "it decodes as the SDK's Payment")
	assert.Equal(t, "WEB", p.TradeType)
	assert.True(t, strings.Contains(p.PayURL, "&"))
}

// Each method's required flags are reported at once, before anything is
// sent; an unknown -method is a usage error; a field the method does not
// take is refused by the SDK (exit status 2).
func TestPlaceOrderMethodUsage(t *testing.T) {
	clearEnv(t)
	common := []string{"place-order", "-merchant", "M1", "-key", "k.pem", "-out-trade-id", "O1", "-amount", "1.00",
		"-currency", "HKD", "-product-info", "tea", "-client-ip", "127.0.0.1"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-method", "WeChatBarcode"}, "missing -auth-code"},
		{[]string{"-method", "alipay/wap/payment"}, "missing -return-url"},
		{[]string{"-method", "WeChatApp"}, "missing -appid"},
		{[]string{"-method", "WeChatOfficialAccount"}, "missing -openid"},
		{[]string{"-method", "WeChatMiniProgramHK"}, "missing -appid, -openid"},
		{[]string{"-method", "PayPal"}, `-method "PayPal" is not a payment method (WeChatMiniProgram, WeChatMiniProgramHK,`},
	} {
		code, _, errOut := runCLI(t, append(common, tc.args...)...)
		assert.Equal(t, 2, code, "%v: %s", tc.args, errOut)
		assert.Contains(t, errOut, tc.want, tc.args)
	}

	s := hipopaytest.NewServer()
	t.Cleanup(s.Close)
	code, _, errOut := runCLI(t, "place-order", "-merchant", s.MerchantNo, "-key", writeKey(t, s), "-base-url", s.URL,
		"-method", "AlipayQR", "-out-trade-id", "O2", "-amount", "1.00", "-currency", "HKD", "-product-info", "tea",
		"-client-ip", "127.0.0.1", "-appid", "wx1")
	assert.Equal(t, 2, code, errOut)
	assert.Contains(t, errOut, "appid")
	assert.Zero(t, s.Calls("alipay/qrcode/payment"), "refused before sending")
}

// Every method's required fields are read from the place-order flag of the
// same name: given, none is reported missing.
func TestPlaceOrderRequiredFieldsHaveFlags(t *testing.T) {
	clearEnv(t)
	for _, m := range hipopay.PaymentMethods() {
		args := []string{"place-order", "-merchant", "M1", "-out-trade-id", "O1", "-amount", "1.00",
			"-currency", "HKD", "-product-info", "tea", "-client-ip", "127.0.0.1", "-method", string(m)}
		for _, wire := range m.RequiredFields() {
			args = append(args, "-"+strings.ReplaceAll(wire, "_", "-"), "x")
		}
		code, _, errOut := runCLI(t, args...)
		assert.Equal(t, 2, code, "%s: %s", m, errOut)
		assert.Contains(t, errOut, "missing -key (or HIPOPAY_PRIVATE_KEY)", m)
		assert.NotContains(t, errOut, "missing -key (or HIPOPAY_PRIVATE_KEY),", m)
		assert.NotContains(t, errOut, "flag provided but not defined", m)
	}
}
