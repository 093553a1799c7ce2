// Payments: placing a mini-program order (POST wechatpay/mini_program/payment),
// querying a payment (GET payment) and the reference exchange rate
// (GET wechatpay/forex_rate).

package hipopay

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// PlaceOrderRequest is a mini-program order. The merchant number comes from
// the client.
type PlaceOrderRequest struct {
	OutTradeID  string   `url:"out_trade_id"`         // the merchant's order number (required)
	Amount      string   `url:"amount"`               // decimal in Currency: "8.88"; no decimals for JPY, KRW (required)
	Currency    Currency `url:"currency"`             // pricing currency (required)
	ProductInfo string   `url:"product_info"`         // product description (required)
	AppID       string   `url:"appid"`                // the mini-program's WeChat appid (required)
	OpenID      string   `url:"openid"`               // the buyer's openid in that mini-program (required)
	ClientIP    string   `url:"client_ip"`            // the buyer's IP address (required)
	NotifyURL   string   `url:"notify_url,omitempty"` // where HipoPay posts the payment notification
	// IsRMB prices the order in CNY: true sends is_rmb=TRUE; false sends
	// nothing (HipoPay's default is FALSE).
	IsRMB bool `url:"-"`
}

func (r *PlaceOrderRequest) validate() error {
	if r == nil {
		return invalid("request", "is nil")
	}
	for _, f := range []struct{ name, value string }{
		{"out_trade_id", r.OutTradeID}, {"product_info", r.ProductInfo}, {"appid", r.AppID},
		{"openid", r.OpenID}, {"client_ip", r.ClientIP},
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
	if r.NotifyURL != "" {
		// Not parseBaseURL: a notify URL may well carry a query.
		if u, err := url.Parse(r.NotifyURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("notify_url", "must be an absolute http or https URL")
		}
	}
	return nil
}

// Payment is a payment order as HipoPay reports it. Times are in UTC+8;
// FinishTime and ExchangeRate are set once the payment is PAID. It
// marshals to JSON as HipoPay writes it.
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
	// PrepayParams is what the mini-program needs to open WeChat's payment
	// sheet; only PlaceOrder's answer has it.
	PrepayParams *PrepayParams `json:"prepay_params,omitempty"`
	// Raw is the whole "response" object as received.
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
	p.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// MarshalJSON writes the payment as HipoPay does (times in UTC+8 as
// "2006-01-02 15:04:05"); Raw is not written.
func (p Payment) MarshalJSON() ([]byte, error) { return json.Marshal(p.json()) }

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

// PlaceOrder places a mini-program order and returns it with the
// [PrepayParams] for wx.requestPayment.
//
// HipoPay endpoint: POST wechatpay/mini_program/payment.
//
// Invalid input (a non-UTF-8 value included) is a [*ValidationError]
// before any network call. The order is never re-sent once it may have
// reached HipoPay: resolve a lost answer with [Client.GetPayment] by
// OutTradeID. HipoPay's refusals are [*APIError]
// ([ErrForexMerchantNotSupportThisCurrency], [ErrIllegalSecurityProfile]);
// so is a success answer without prepay_params, naming the payment.
func (c *Client) PlaceOrder(ctx context.Context, req *PlaceOrderRequest) (*Payment, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	params := encodeParams(req)
	params.Set("merchant_no", c.merchantNo)
	if req.IsRMB {
		params.Set("is_rmb", "TRUE")
	}
	var p Payment
	env, err := c.do(ctx, call{method: http.MethodPost, path: "wechatpay/mini_program/payment", params: params}, &p)
	if err != nil {
		return nil, err
	}
	if p.PrepayParams == nil || p.PrepayParams.PrepayID == "" {
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
