// Payment methods: the fourteen place-order endpoints of HipoPay (WeChat
// Pay and Alipay) and, in one table, the fields each of them takes.
// What is known of each, and how surely, is in README.md ("Payment
// methods").

package hipopay

import (
	"net/url"
	"strings"
)

// PaymentMethod is a way to pay, named by the endpoint path of its
// place-order call (relative to the base URL). The zero value means
// [WeChatMiniProgram].
type PaymentMethod string

// The payment methods HipoPay's official SDKs place orders through.
const (
	WeChatMiniProgram       PaymentMethod = "wechatpay/mini_program/payment" // the zero value means this
	WeChatMiniProgramHK     PaymentMethod = "wechatpay/hk/mini_program/payment"
	WeChatOfficialAccount   PaymentMethod = "wechatpay/mp/payment"
	WeChatOfficialAccountHK PaymentMethod = "wechatpay/hk/online/mp/payment"
	WeChatApp               PaymentMethod = "wechatpay/app/payment"
	WeChatAppHK             PaymentMethod = "wechatpay/hk/app/payment"
	WeChatWebQR             PaymentMethod = "wechatpay/web/payment"
	WeChatDeviceQR          PaymentMethod = "wechatpay/qrcode/payment"
	WeChatBarcode           PaymentMethod = "wechatpay/barcode/payment"
	AlipayApp               PaymentMethod = "alipay/app/payment"
	AlipayWap               PaymentMethod = "alipay/wap/payment"
	AlipayWeb               PaymentMethod = "alipay/web/payment"
	AlipayQR                PaymentMethod = "alipay/qrcode/payment"
	AlipayBarcode           PaymentMethod = "alipay/barcode/payment"
)

// PaymentMethods lists every payment method, WeChat Pay's then Alipay's.
func PaymentMethods() []PaymentMethod {
	table := methodTable()
	out := make([]PaymentMethod, len(table))
	for i, row := range table {
		out[i] = row.method
	}
	return out
}

// Known reports whether m is one of [PaymentMethods] (the zero value is).
func (m PaymentMethod) Known() bool {
	_, ok := m.rules()
	return ok
}

// RequiredFields returns the wire names of the fields m requires beyond
// the common ones ("appid", "openid", "auth_code", "return_url"); nil for
// an unknown method. merchant_no is not listed: it comes from the client.
func (m PaymentMethod) RequiredFields() []string {
	rules, ok := m.rules()
	if !ok {
		return nil
	}
	var out []string
	for f := fieldAppID; f <= fieldIsRMB; f <<= 1 {
		if rules.requires&f != 0 {
			out = append(out, f.wire())
		}
	}
	return out
}

// orderField is a place-order field that only some methods take.
type orderField uint8

const (
	fieldMerchantNo orderField = 1 << iota // merchant_no, from the client
	fieldAppID                             // appid
	fieldOpenID                            // openid
	fieldAuthCode                          // auth_code
	fieldReturnURL                         // return_url
	fieldHKWallet                          // hk_wallet=true
	fieldIsRMB                             // is_rmb=TRUE
)

// wire is the field's name on the wire.
func (f orderField) wire() string {
	switch f {
	case fieldMerchantNo:
		return "merchant_no"
	case fieldAppID:
		return "appid"
	case fieldOpenID:
		return "openid"
	case fieldAuthCode:
		return "auth_code"
	case fieldReturnURL:
		return "return_url"
	case fieldHKWallet:
		return "hk_wallet"
	default:
		return "is_rmb"
	}
}

// set reports whether the request gives the field a value; a blank string
// counts as given. merchant_no is never the request's: it is the client's.
func (f orderField) set(r *PlaceOrderRequest) bool {
	switch f {
	case fieldMerchantNo:
		return false
	case fieldAppID:
		return r.AppID != ""
	case fieldOpenID:
		return r.OpenID != ""
	case fieldAuthCode:
		return r.AuthCode != ""
	case fieldReturnURL:
		return r.ReturnURL != ""
	case fieldHKWallet:
		return r.HKWallet
	default:
		return r.IsRMB
	}
}

// methodRules is what one method takes beyond the common fields
// (out_trade_id, amount, currency, product_info, client_ip, notify_url,
// response_version).
type methodRules struct {
	takes    orderField // fields sent when set; any other is refused
	requires orderField // of those, the required ones
	hkdOnly  bool       // currency must be HKD (WeChat's HK wallet)
	// prepay makes an answer without prepay_params an *APIError: the
	// reference documents prepay_params for this method only.
	prepay bool
}

type methodRow struct {
	method PaymentMethod
	methodRules
}

// methodTable is the one table of the methods' fields (METHODS.md: the
// reference for the mini-program; HipoPay's official SDKs for the others).
// is_rmb: the SDKs send it on every WeChat method and on Alipay app and
// WAP; no source sends it on Alipay web, QR or barcode, so it is refused
// there rather than sent blind.
func methodTable() [14]methodRow {
	const (
		mch, app, open, auth, ret, hk, rmb = fieldMerchantNo, fieldAppID, fieldOpenID, fieldAuthCode, fieldReturnURL, fieldHKWallet, fieldIsRMB
	)
	return [14]methodRow{
		{WeChatMiniProgram, methodRules{takes: mch | app | open | rmb, requires: mch | app | open, prepay: true}},
		{WeChatMiniProgramHK, methodRules{takes: mch | app | open | rmb, requires: mch | app | open, hkdOnly: true}},
		{WeChatOfficialAccount, methodRules{takes: open | rmb, requires: open}},
		{WeChatOfficialAccountHK, methodRules{takes: mch | open | rmb, requires: mch | open, hkdOnly: true}},
		{WeChatApp, methodRules{takes: app | rmb, requires: app}},
		{WeChatAppHK, methodRules{takes: app | rmb, requires: app, hkdOnly: true}},
		{WeChatWebQR, methodRules{takes: rmb}},
		{WeChatDeviceQR, methodRules{takes: rmb}},
		{WeChatBarcode, methodRules{takes: auth | rmb, requires: auth}},
		{AlipayApp, methodRules{takes: rmb}},
		{AlipayWap, methodRules{takes: ret | hk | rmb, requires: ret}},
		{AlipayWeb, methodRules{takes: hk}},
		{AlipayQR, methodRules{takes: hk}},
		{AlipayBarcode, methodRules{takes: auth | hk, requires: auth}},
	}
}

// rules returns the method's row of the table; "" is WeChatMiniProgram.
func (m PaymentMethod) rules() (methodRules, bool) {
	if m == "" {
		m = WeChatMiniProgram
	}
	for _, row := range methodTable() {
		if row.method == m {
			return row.methodRules, true
		}
	}
	return methodRules{}, false
}

// validate checks the request's per-method fields against the method's
// rules: each required one given, none given that the method does not
// take (refused, not dropped: it means the wrong Method was chosen), HKD
// where the method wants it.
func (rules methodRules) validate(m PaymentMethod, r *PlaceOrderRequest) error {
	for f := fieldAppID; f <= fieldIsRMB; f <<= 1 {
		switch {
		case rules.takes&f == 0 && f.set(r):
			return invalid(f.wire(), "is not taken by %s: leave it empty (or choose another Method)", m)
		case rules.requires&f != 0 && strings.TrimSpace(f.value(r)) == "":
			return invalid(f.wire(), "is required by %s", m)
		}
	}
	if rules.hkdOnly && r.Currency != HKD {
		return invalid("currency", "%s takes HKD only (WeChat Pay's HK wallet), not %q", m, string(r.Currency))
	}
	if r.ReturnURL != "" && !absoluteHTTPURL(r.ReturnURL) {
		return invalid("return_url", "must be an absolute http or https URL")
	}
	return nil
}

// value is a string field's value ("" for the others).
func (f orderField) value(r *PlaceOrderRequest) string {
	switch f {
	case fieldAppID:
		return r.AppID
	case fieldOpenID:
		return r.OpenID
	case fieldAuthCode:
		return r.AuthCode
	case fieldReturnURL:
		return r.ReturnURL
	}
	return ""
}

// absoluteHTTPURL reports whether s is an absolute http or https URL (a
// query is fine: not parseBaseURL).
func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
