// Payments: placing a mini-program order (POST wechatpay/mini_program/payment),
// querying a payment (GET payment) and the reference exchange rate
// (GET wechatpay/forex_rate).

package hipopay

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"
)

// PlaceOrderRequest is an order of any [PaymentMethod]. Method picks the
// endpoint (the zero value is [WeChatMiniProgram]); each method takes its
// own fields beyond the common ones (see README.md, "Payment methods"): a
// field the method does not take is refused, not dropped. The merchant
// number comes from the client.
type PlaceOrderRequest struct {
	Method      PaymentMethod `url:"-"`                    // the endpoint; "" is WeChatMiniProgram
	OutTradeID  string        `url:"out_trade_id"`         // the merchant's order number (required)
	Amount      string        `url:"amount"`               // decimal in Currency: "8.88"; no decimals for JPY, KRW (required)
	Currency    Currency      `url:"currency"`             // pricing currency (required; HKD on WeChat's HK-wallet methods)
	ProductInfo string        `url:"product_info"`         // product description (required)
	AppID       string        `url:"appid,omitempty"`      // WeChat appid: the mini-program's, or the app's Open Platform one
	OpenID      string        `url:"openid,omitempty"`     // the buyer's openid: mini-programs and official accounts
	AuthCode    string        `url:"auth_code,omitempty"`  // the buyer's payment code, scanned: the barcode methods
	ReturnURL   string        `url:"return_url,omitempty"` // where the buyer returns after paying: AlipayWap
	ClientIP    string        `url:"client_ip"`            // the buyer's IP address (required)
	NotifyURL   string        `url:"notify_url,omitempty"` // where HipoPay posts the payment notification
	// HKWallet pays with the AlipayHK wallet (hk_wallet=true): AlipayWap,
	// AlipayWeb, AlipayQR, AlipayBarcode.
	HKWallet bool `url:"hk_wallet,omitempty"`
	// ResponseVersion, e.g. "3.0", adds pay_rate, pay_rate_reversed,
	// bank_type and promotion_detail to the notification.
	ResponseVersion string `url:"response_version,omitempty"`
	// IsRMB prices the order in CNY: true sends is_rmb=TRUE; false sends
	// nothing (HipoPay's default is FALSE). Not on Alipay web, QR, barcode.
	IsRMB bool `url:"-"`
}

func (r *PlaceOrderRequest) validate() error {
	if r == nil {
		return invalid("request", "is nil")
	}
	rules, ok := r.Method.rules()
	if !ok {
		return invalid("method", "%q is not a payment method (see PaymentMethods)", string(r.Method))
	}
	for _, f := range []struct{ name, value string }{
		{"out_trade_id", r.OutTradeID}, {"product_info", r.ProductInfo}, {"client_ip", r.ClientIP},
	} {
		if err := required(f.name, f.value); err != nil {
			return err
		}
	}
	if err := validCurrency("currency", r.Currency); err != nil {
		return err
	}
	if err := validAmount("amount", r.Amount, r.Currency); err != nil {
		return err
	}
	if r.NotifyURL != "" && !absoluteHTTPURL(r.NotifyURL) {
		return invalid("notify_url", "must be an absolute http or https URL")
	}
	if v := r.ResponseVersion; v != "" && !versionLike(v) {
		return invalid("response_version", "%q is not a version such as 3.0", v)
	}
	return rules.validate(r.Method, r)
}

// versionLike reports whether v looks like "3.0": digits, one dot, digits.
func versionLike(v string) bool {
	major, minor, ok := strings.Cut(v, ".")
	return ok && allDigits(major) && allDigits(minor)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Payment is a payment order as HipoPay reports it. Times are in UTC+8;
// FinishTime and ExchangeRate are set once the payment is PAID. What a
// method's order answer gives the front end is typed only where a source
// attests it (the docs say how surely); otherwise read Raw. It marshals to
// JSON as HipoPay writes it.
type Payment struct {
	Amount       string        `json:"amount"`
	Currency     Currency      `json:"currency"`
	ExchangeRate string        `json:"exchange_rate,omitempty"`
	OutTradeID   string        `json:"out_trade_id"`
	PaymentNo    string        `json:"payment_no"`
	Status       PaymentStatus `json:"status"`
	ProductInfo  string        `json:"product_info"`
	TradeTime    time.Time     `json:"trade_time"`
	FinishTime   time.Time     `json:"finish_time"`
	TradeType    string        `json:"trade_type"`
	// PrepayParams opens WeChat's payment sheet in a mini-program; only
	// PlaceOrder's answer has it. Documented for WeChatMiniProgram;
	// presumed (not documented) for WeChatMiniProgramHK.
	PrepayParams *PrepayParams `json:"prepay_params,omitempty"`
	// JSParams is the object an official-account page passes unchanged to
	// WeChat's getBrandWCPayRequest. Only an official SDK's example shows
	// it (WeChatOfficialAccountHK); for WeChatOfficialAccount read Raw.
	JSParams json.RawMessage `json:"js_params,omitempty"`
	// QRCodeURL is the content of the QR code to show (WeChatWebQR,
	// AlipayQR, perhaps WeChatDeviceQR). The name is seen only in
	// merchants' code, not in HipoPay's docs or SDKs: if empty, read Raw.
	QRCodeURL string `json:"qrcode_url,omitempty"`
	// PayURL is the page to send the buyer to (AlipayWeb, perhaps
	// AlipayWap). The name is seen only in merchants' code, not in
	// HipoPay's docs or SDKs: if empty, read Raw.
	PayURL string `json:"pay_url,omitempty"`
	// Raw is the whole "response" object as received: what the front end
	// needs where no field above is known (WeChat and Alipay apps).
	Raw json.RawMessage `json:"-"`
}

type paymentAlias Payment

// paymentJSON shadows Payment's lenient fields with leaf types: numbers
// where strings are expected, HipoPay's UTC+8 times.
type paymentJSON struct {
	*paymentAlias
	Amount       flexString `json:"amount"`
	ExchangeRate flexString `json:"exchange_rate,omitempty"`
	OutTradeID   flexString `json:"out_trade_id"`
	PaymentNo    flexString `json:"payment_no"`
	TradeTime    *flexTime  `json:"trade_time,omitempty"`
	FinishTime   *flexTime  `json:"finish_time,omitempty"`
}

func (p *Payment) json() *paymentJSON {
	return &paymentJSON{paymentAlias: (*paymentAlias)(p), Amount: flexString(p.Amount), ExchangeRate: flexString(p.ExchangeRate),
		OutTradeID: flexString(p.OutTradeID), PaymentNo: flexString(p.PaymentNo),
		TradeTime: wireTime(p.TradeTime), FinishTime: wireTime(p.FinishTime)}
}

// UnmarshalJSON decodes HipoPay's payment object leniently and keeps it
// in Raw.
func (p *Payment) UnmarshalJSON(b []byte) error {
	w := p.json()
	if err := json.Unmarshal(b, w); err != nil {
		return err
	}
	p.Amount, p.ExchangeRate = string(w.Amount), string(w.ExchangeRate)
	p.OutTradeID, p.PaymentNo = string(w.OutTradeID), string(w.PaymentNo)
	p.TradeTime, p.FinishTime = w.TradeTime.time(), w.FinishTime.time()
	if string(p.JSParams) == "null" {
		p.JSParams = nil
	}
	p.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MarshalJSON writes the payment as HipoPay does (times in UTC+8 as
// "2006-01-02 15:04:05"), then the members of Raw that no field above
// holds (a method's answer the SDK has no field for), in name order. It
// leaves '&', '<' and '>' as they are (a URL stays readable); the calling
// encoder escapes them if it is set to.
func (p Payment) MarshalJSON() ([]byte, error) {
	b, err := marshalUnescaped(p.json())
	if err != nil {
		return nil, err
	}
	if len(p.Raw) == 0 {
		return b, nil
	}
	return appendUntyped(b, p.Raw, reflect.TypeOf(p))
}

// appendUntyped appends to the JSON object b the members of the JSON
// object raw whose names are not json names of t's fields. A raw that is
// not an object adds nothing.
func appendUntyped(b []byte, raw json.RawMessage, t reflect.Type) ([]byte, error) {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return b, nil
	}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		delete(members, name)
	}
	if len(members) == 0 {
		return b, nil
	}
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	sort.Strings(names)
	out := bytes.TrimRight(b, " \t\r\n")
	out = out[:len(out)-1] // the closing brace
	for _, name := range names {
		if len(out) > 1 {
			out = append(out, ',')
		}
		key, _ := json.Marshal(name)
		out = append(append(append(out, key...), ':'), members[name]...)
	}
	return append(out, '}'), nil
}

// PrepayParams are the prepayment parameters of a placed order, as
// received.
type PrepayParams struct {
	NonceStr  string `json:"nonceStr"`
	OrderNo   string `json:"order_no"`
	PaySign   string `json:"paySign"`
	PrepayID  string `json:"prepay_id"`
	TimeStamp string `json:"timeStamp"`
}

type prepayAlias PrepayParams

// UnmarshalJSON accepts numbers for the numeric-looking parameters.
func (pp *PrepayParams) UnmarshalJSON(b []byte) error {
	w := struct {
		*prepayAlias
		NonceStr  flexString `json:"nonceStr"`
		OrderNo   flexString `json:"order_no"`
		TimeStamp flexString `json:"timeStamp"`
	}{(*prepayAlias)(pp), flexString(pp.NonceStr), flexString(pp.OrderNo), flexString(pp.TimeStamp)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	pp.NonceStr, pp.OrderNo, pp.TimeStamp = string(w.NonceStr), string(w.OrderNo), string(w.TimeStamp)
	return nil
}

// WxRequestPayment is the object a mini-program passes to
// wx.requestPayment. Marshalled to JSON it has WeChat's field names.
type WxRequestPayment struct {
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// RequestPayment maps the prepay parameters to wx.requestPayment's object
// by WeChat's classic JSAPI convention, which the reference does not spell
// out but the 32-hex-digit MD5 paySign matches: package is
// "prepay_id=<prepay_id>" and signType is "MD5". On nil parameters it
// returns the zero [WxRequestPayment].
func (p *PrepayParams) RequestPayment() WxRequestPayment {
	if p == nil {
		return WxRequestPayment{}
	}
	return WxRequestPayment{
		TimeStamp: p.TimeStamp,
		NonceStr:  p.NonceStr,
		Package:   "prepay_id=" + p.PrepayID,
		SignType:  "MD5",
		PaySign:   p.PaySign,
	}
}

// PlaceOrder places an order of req.Method (a mini-program order by
// default) and returns it with what the front end needs (see [Payment]).
//
// HipoPay endpoint: POST <req.Method>, e.g. POST wechatpay/mini_program/payment.
//
// Invalid input (a field the method requires or does not take, a currency
// other than HKD on WeChat's HK wallet, a non-UTF-8 value) is a
// [*ValidationError] before any network call. The order is never re-sent
// once it may have reached HipoPay: resolve a lost answer with
// [Client.GetPayment] by OutTradeID. HipoPay's refusals are [*APIError]
// ([ErrForexMerchantNotSupportThisCurrency], [ErrIllegalSecurityProfile]);
// so is a WeChatMiniProgram answer without prepay_params, naming the payment.
func (c *Client) PlaceOrder(ctx context.Context, req *PlaceOrderRequest) (*Payment, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	method := req.Method
	if method == "" {
		method = WeChatMiniProgram
	}
	rules, _ := method.rules()
	params := encodeParams(req)
	if rules.takes&fieldMerchantNo != 0 {
		params.Set("merchant_no", c.merchantNo)
	}
	if req.IsRMB {
		params.Set("is_rmb", "TRUE")
	}
	var p Payment
	env, err := c.do(ctx, call{method: http.MethodPost, path: string(method), params: params}, &p)
	if err != nil {
		return nil, err
	}
	if rules.prepay && (p.PrepayParams == nil || p.PrepayParams.PrepayID == "") {
		// The order exists at HipoPay, but the mini-program cannot pay it.
		return nil, &APIError{StatusCode: env.status,
			Message: "order answer has no prepay_params (payment_no " + p.PaymentNo + ", out_trade_id " + p.OutTradeID + ")"}
	}
	return &p, nil
}

// PaymentQuery identifies a payment: by HipoPay's PaymentNo or the
// merchant's OutTradeID (at least one).
type PaymentQuery struct {
	PaymentNo  string `url:"payment_no,omitempty"`
	OutTradeID string `url:"out_trade_id,omitempty"`
}

func (q PaymentQuery) validate() error {
	if blank(q.PaymentNo) && blank(q.OutTradeID) {
		return invalid("payment_no", "payment_no or out_trade_id is required")
	}
	return nil
}

// GetPayment returns a payment order.
//
// HipoPay endpoint: GET payment.
//
// A query with neither identifier is a [*ValidationError]; an unknown
// payment is [ErrPaymentNotFound]. Retried on network errors, 429 and 5xx.
func (c *Client) GetPayment(ctx context.Context, q PaymentQuery) (*Payment, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	var p Payment
	if _, err := c.do(ctx, call{method: http.MethodGet, path: "payment", params: encodeParams(q)}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ForexRate is HipoPay's reference exchange rate of a currency (target
// currency per CNY); the rate of a payment is the live one when it occurs.
type ForexRate struct {
	Currency Currency `json:"currency"`
	Rate     string   `json:"forex_rate"` // exact decimal text, e.g. "0.1490046489450470854690666349"
}

// UnmarshalJSON accepts the rate as a JSON number too, keeping its text.
func (f *ForexRate) UnmarshalJSON(b []byte) error {
	type alias ForexRate
	w := struct {
		*alias
		Rate flexString `json:"forex_rate"`
	}{(*alias)(f), flexString(f.Rate)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	f.Rate = string(w.Rate)
	return nil
}

// forexQuery is the query of GET wechatpay/forex_rate.
type forexQuery struct {
	Currency Currency `url:"currency"`
}

func (q forexQuery) validate() error { return validCurrency("currency", q.Currency) }

// GetForexRate returns HipoPay's reference exchange rate for currency.
//
// HipoPay endpoint: GET wechatpay/forex_rate.
//
// A malformed currency code is a [*ValidationError]; one HipoPay does not
// support is [ErrCurrencyNotSupported]. Retried like every read.
func (c *Client) GetForexRate(ctx context.Context, currency Currency) (*ForexRate, error) {
	q := forexQuery{currency}
	if err := q.validate(); err != nil {
		return nil, err
	}
	var f ForexRate
	if _, err := c.do(ctx, call{method: http.MethodGet, path: "wechatpay/forex_rate", params: encodeParams(q)}, &f); err != nil {
		return nil, err
	}
	return &f, nil
}
