// Placing orders at the fake HipoPay, every payment method: one route per
// place-order path (POST wechatpay/mini_program/payment, POST
// alipay/qrcode/payment, ...) with the method's exact parameter set, and
// the method's answer.
//
// THE FAKE'S ASSUMPTIONS, NOT HIPOPAY'S CONTRACT. HipoPay documents the
// answer of the mini-program only (prepay_params, trade type MINIPROGRA).
// For the other methods the fake answers with a field it chose, so that a
// merchant's front end has something to carry in tests:
//
//	method                          answer field   trade_type  bill channel
//	WeChatMiniProgram(HK)           prepay_params  MINIPROGRA  WECHATPAYCN (HK)
//	WeChatOfficialAccount(HK)       js_params      JSAPI       WECHATPAYCN (HK)
//	WeChatApp(HK)                   prepay_params  APP         WECHATPAYCN (HK)
//	WeChatWebQR, WeChatDeviceQR     qrcode_url     NATIVE      WECHATPAYCN
//	WeChatBarcode                   (none)         MICROPAY    WECHATPAYCN
//	AlipayApp                       order_string   APP         ALIPAYCN (HK with hk_wallet)
//	AlipayWap, AlipayWeb            pay_url        WAP, WEB    ALIPAYCN (HK)
//	AlipayQR                        qrcode_url     QRCODE      ALIPAYCN (HK)
//	AlipayBarcode                   (none)         BARCODE     ALIPAYCN (HK)
//
// HipoPay's sources attest js_params for the HK official account (an
// official SDK's example) and the trade types MINIPROGRA, APP, NATIVE (a
// WeChat web QR order) and WAP (an Alipay WAP order); the rest is the
// fake's choice. A barcode order is USERPAYING (the buyer confirms on the
// phone) until Server.Pay. Alipay collections are "Collection via Alipay"
// lines in the reconciliation file.

package hipopaytest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// answerKind is what a method's order answer carries besides the payment.
type answerKind int

const (
	answerNone        answerKind = iota // the barcodes: the payment itself
	answerPrepay                        // prepay_params
	answerJSParams                      // js_params, for getBrandWCPayRequest
	answerQRCode                        // qrcode_url
	answerPayURL                        // pay_url
	answerOrderString                   // order_string, for Alipay's app SDK
)

// fakeMethod is one place-order endpoint as the fake serves it.
type fakeMethod struct {
	method    hipopay.PaymentMethod
	params    []string // beyond the common ones (placeOrderCommon)
	required  []string // of params
	hkdOnly   bool     // WeChat Pay's HK wallet
	barcode   bool     // USERPAYING until the buyer confirms
	answer    answerKind
	tradeType string
	alipay    bool // an Alipay payment (else WeChat Pay)
}

// placeOrderCommon are the parameters every place-order endpoint takes.
// response_version: the reference names response_version=3.0 as what adds
// pay_rate, pay_rate_reversed, bank_type and promotion_detail to the
// notification; the fake honours it per order (and WithResponseVersion3).
func placeOrderCommon() []string {
	return []string{"out_trade_id", "amount", "currency", "product_info", "client_ip", "notify_url", "response_version"}
}

// fakeMethods is the fake's table of the fourteen methods, written from
// HipoPay's official SDKs (independently of the SDK's own table). is_rmb
// is taken where the SDKs send it; surcharge (TRUE/FALSE) on the HK app.
func fakeMethods() []fakeMethod {
	return []fakeMethod{
		{hipopay.WeChatMiniProgram, []string{"merchant_no", "appid", "openid", "is_rmb"}, []string{"merchant_no", "appid", "openid"},
			false, false, answerPrepay, "MINIPROGRA", false},
		{hipopay.WeChatMiniProgramHK, []string{"merchant_no", "appid", "openid", "is_rmb"}, []string{"merchant_no", "appid", "openid"},
			true, false, answerPrepay, "MINIPROGRA", false},
		{hipopay.WeChatOfficialAccount, []string{"openid", "is_rmb"}, []string{"openid"}, false, false, answerJSParams, "JSAPI", false},
		{hipopay.WeChatOfficialAccountHK, []string{"merchant_no", "openid", "is_rmb"}, []string{"merchant_no", "openid"},
			true, false, answerJSParams, "JSAPI", false},
		{hipopay.WeChatApp, []string{"appid", "is_rmb"}, []string{"appid"}, false, false, answerPrepay, "APP", false},
		{hipopay.WeChatAppHK, []string{"appid", "is_rmb", "surcharge"}, []string{"appid"}, true, false, answerPrepay, "APP", false},
		{hipopay.WeChatWebQR, []string{"is_rmb"}, nil, false, false, answerQRCode, "NATIVE", false},
		{hipopay.WeChatDeviceQR, []string{"is_rmb"}, nil, false, false, answerQRCode, "NATIVE", false},
		{hipopay.WeChatBarcode, []string{"auth_code", "is_rmb"}, []string{"auth_code"}, false, true, answerNone, "MICROPAY", false},
		{hipopay.AlipayApp, []string{"is_rmb"}, nil, false, false, answerOrderString, "APP", true},
		{hipopay.AlipayWap, []string{"return_url", "hk_wallet", "is_rmb"}, []string{"return_url"}, false, false, answerPayURL, "WAP", true},
		{hipopay.AlipayWeb, []string{"hk_wallet"}, nil, false, false, answerPayURL, "WEB", true},
		{hipopay.AlipayQR, []string{"hk_wallet"}, nil, false, false, answerQRCode, "QRCODE", true},
		{hipopay.AlipayBarcode, []string{"auth_code", "hk_wallet"}, []string{"auth_code"}, false, true, answerNone, "BARCODE", true},
	}
}

// lookupMethod returns the method whose place-order path is path.
func lookupMethod(path string) (fakeMethod, bool) {
	for _, fm := range fakeMethods() {
		if string(fm.method) == path {
			return fm, true
		}
	}
	return fakeMethod{}, false
}

// route is the method's place-order endpoint.
func (fm fakeMethod) route() route {
	return route{"1.0", append(placeOrderCommon(), fm.params...), func(s *Server, m *merchant, p url.Values) answer {
		return s.placeOrder(m, p, fm)
	}}
}

// channel is the Payment Channel of the method's lines in the
// reconciliation file, and billType the Transaction Type of a collection.
func (fm fakeMethod) channel(hkWallet bool) string {
	switch {
	case fm.alipay && hkWallet:
		return "ALIPAYHK"
	case fm.alipay:
		return "ALIPAYCN"
	case fm.hkdOnly:
		return "WECHATPAYHK"
	}
	return paymentChannel
}

func (fm fakeMethod) billType() string {
	if fm.alipay {
		return "Collection via Alipay"
	}
	return hipopay.BillTypeCollection
}

// placeOrder serves POST <method>: the order is created INIT (USERPAYING
// for a barcode), answered with the method's field.
func (s *Server) placeOrder(m *merchant, p url.Values, fm fakeMethod) answer {
	for _, name := range append([]string{"out_trade_id", "amount", "currency", "product_info", "client_ip"}, fm.required...) {
		if strings.TrimSpace(p.Get(name)) == "" {
			return invalidParam("%s is required", name)
		}
	}
	if slices.Contains(fm.params, "merchant_no") && p.Get("merchant_no") != m.no {
		return illegal("merchant_no is not the MerchantNO header")
	}
	currency := hipopay.Currency(p.Get("currency"))
	if _, ok := ExchangeRate(currency); !ok {
		return failure(CodeForexMerchantNotSupportThisCurrency, "This currency is not supported")
	}
	if fm.hkdOnly && currency != hipopay.HKD {
		return failure(CodeForexMerchantNotSupportThisCurrency, "WeChat Pay's HK wallet takes HKD only")
	}
	minor, err := hipopay.ParseAmount(p.Get("amount"), currency)
	if err != nil || minor <= 0 || strings.HasPrefix(p.Get("amount"), "-") {
		return invalidParam("amount %q is not a positive amount in %s", p.Get("amount"), currency)
	}
	amount := hipopay.FormatAmount(minor, currency) // "8.8" is answered "8.80"
	isRMB, ok := flag(p.Get("is_rmb"), "TRUE", "FALSE")
	if !ok {
		return invalidParam("is_rmb must be TRUE or FALSE")
	}
	if _, ok := flag(p.Get("surcharge"), "TRUE", "FALSE"); !ok {
		return invalidParam("surcharge must be TRUE or FALSE")
	}
	hkWallet, ok := flag(p.Get("hk_wallet"), "true", "false")
	if !ok {
		return invalidParam("hk_wallet must be true or false")
	}
	for _, name := range []string{"notify_url", "return_url"} {
		if v := p.Get(name); v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return invalidParam("%s is not an absolute http or https URL", name)
			}
		}
	}

	outTradeID := p.Get("out_trade_id")
	if o := m.byOutTradeID[outTradeID]; o != nil {
		s.refreshLocked(o)
		if o.waiting() && o.method.method == fm.method && o.amount == amount && o.currency == currency &&
			o.appID == p.Get("appid") && o.openID == p.Get("openid") && o.authCode == p.Get("auth_code") {
			return success(o.json(true)) // the same order again: as WeChat Pay, answer it
		}
		return failure(CodeDuplicateOutTradeID, "out_trade_id "+outTradeID+" is already used by payment "+o.paymentNo)
	}

	now := s.now()
	o := &order{
		merchant:         m,
		method:           fm,
		paymentNo:        s.nextNumberLocked(now),
		outTradeID:       outTradeID,
		amount:           amount,
		minor:            minor,
		currency:         currency,
		productInfo:      p.Get("product_info"),
		appID:            p.Get("appid"),
		openID:           p.Get("openid"),
		authCode:         p.Get("auth_code"),
		returnURL:        p.Get("return_url"),
		hkWallet:         hkWallet,
		clientIP:         p.Get("client_ip"),
		notifyURL:        p.Get("notify_url"),
		isRMB:            isRMB,
		responseVersion3: p.Get("response_version") == "3.0",
		status:           hipopay.PaymentStatusInit,
		tradeTime:        now,
	}
	if fm.barcode {
		o.status = hipopay.PaymentStatusUserPaying
	}
	s.methodAnswerLocked(o, now)
	m.byOutTradeID[outTradeID] = o
	s.payments[o.paymentNo] = o
	return success(o.json(true))
}

// flag reads an optional two-valued parameter: "" is false.
func flag(v, yes, no string) (value, ok bool) {
	switch v {
	case "", no:
		return false, true
	case yes:
		return true, true
	}
	return false, false
}

// methodAnswerLocked makes the order's method-specific answer (the fake's
// assumption: see the top of this file).
func (s *Server) methodAnswerLocked(o *order, now time.Time) {
	switch o.method.answer {
	case answerPrepay:
		pp := s.prepayLocked(o.appID, now)
		o.prepay = &pp
	case answerJSParams:
		pp := s.prepayLocked(officialAccountAppID(o.merchant.no), now)
		js, _ := json.Marshal(map[string]string{ // plain strings: cannot fail
			"appId": officialAccountAppID(o.merchant.no), "timeStamp": pp.TimeStamp, "nonceStr": pp.NonceStr,
			"package": "prepay_id=" + pp.PrepayID, "signType": "MD5", "paySign": pp.PaySign,
		})
		o.jsParams = js
	case answerQRCode:
		if o.method.alipay {
			o.qrCodeURL = "https://qr.alipay.com/bax0" + randomHex(20, false)
		} else {
			o.qrCodeURL = "weixin://wxpay/bizpayurl?pr=" + randomHex(7, false)
		}
	case answerPayURL:
		service := "create_forex_trade"
		if o.method.method == hipopay.AlipayWap {
			service = "create_forex_trade_wap"
		}
		q := url.Values{"service": {service}, "out_trade_no": {o.paymentNo}, "currency": {string(o.currency)},
			"total_fee": {o.amount}, "sign": {randomHex(32, false)}}
		if o.returnURL != "" {
			q.Set("return_url", o.returnURL)
		}
		o.payURL = "https://mapi.alipay.com/gateway.do?" + q.Encode()
	case answerOrderString:
		o.orderString = `service="mobile.securitypay.pay"&out_trade_no="` + o.paymentNo + `"&total_fee="` + o.amount +
			`"&currency="` + string(o.currency) + `"&sign_type="RSA"&sign="` + randomHex(32, false) + `"`
	}
}

// officialAccountAppID is the fake's WeChat appid of a merchant's official
// account (official-account orders send none).
func officialAccountAppID(merchantNo string) string {
	sum := md5.Sum([]byte("official account of " + merchantNo))
	return "wx" + hex.EncodeToString(sum[:8])
}

// prepayLocked makes the prepay parameters of an order: the order number
// starts with the UTC+8 time of timeStamp, and paySign is the upper-case
// MD5 of WeChat's classic JSAPI string with the fake's own API key.
func (s *Server) prepayLocked(appID string, now time.Time) hipopay.PrepayParams {
	unix := now.Unix()
	stamp := time.Unix(unix, 0)
	pp := hipopay.PrepayParams{
		NonceStr:  randomDigits(12),
		OrderNo:   s.nextNumberLocked(stamp),
		PrepayID:  "wx" + stamp.In(hipopay.ChinaTimeZone()).Format("02150405") + randomHex(26, false),
		TimeStamp: strconv.FormatInt(unix, 10),
	}
	sum := md5.Sum([]byte("appId=" + appID + "&nonceStr=" + pp.NonceStr + "&package=prepay_id=" + pp.PrepayID +
		"&signType=MD5&timeStamp=" + pp.TimeStamp + "&key=" + s.paySignKey))
	pp.PaySign = strings.ToUpper(hex.EncodeToString(sum[:]))
	return pp
}
