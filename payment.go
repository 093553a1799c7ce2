// Payments: placing a mini-program order (POST wechatpay/mini_program/payment),
// querying a payment (GET payment) and the reference exchange rate
// (GET wechatpay/forex_rate).

package hipopay

import (
	"context"
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
// FinishTime and ExchangeRate are set once the payment is PAID.
type Payment struct {
	Amount       string
	Currency     Currency
	ExchangeRate string
	OutTradeID   string
	PaymentNo    string
	Status       PaymentStatus
	ProductInfo  string
	TradeTime    time.Time
	FinishTime   time.Time
	TradeType    string
	// PrepayParams is what the mini-program needs to open WeChat's payment
	// sheet; only PlaceOrder's answer has it.
	PrepayParams *PrepayParams
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
// "prepay_id=<prepay_id>" and signType is "MD5".
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

type paymentWire struct {
	Amount       flexString  `json:"amount"`
	Currency     flexString  `json:"currency"`
	ExchangeRate flexString  `json:"exchange_rate"`
	OutTradeID   flexString  `json:"out_trade_id"`
	PaymentNo    flexString  `json:"payment_no"`
	Status       flexString  `json:"status"`
	ProductInfo  flexString  `json:"product_info"`
	TradeTime    flexTime    `json:"trade_time"`
	FinishTime   flexTime    `json:"finish_time"`
	TradeType    flexString  `json:"trade_type"`
	PrepayParams *prepayWire `json:"prepay_params"`
}

type prepayWire struct {
	NonceStr  flexString `json:"nonceStr"`
	OrderNo   flexString `json:"order_no"`
	PaySign   flexString `json:"paySign"`
	PrepayID  flexString `json:"prepay_id"`
	TimeStamp flexString `json:"timeStamp"`
}

func (w *paymentWire) payment() *Payment {
	p := &Payment{
		Amount:       string(w.Amount),
		Currency:     Currency(w.Currency),
		ExchangeRate: string(w.ExchangeRate),
		OutTradeID:   string(w.OutTradeID),
		PaymentNo:    string(w.PaymentNo),
		Status:       PaymentStatus(w.Status),
		ProductInfo:  string(w.ProductInfo),
		TradeTime:    time.Time(w.TradeTime),
		FinishTime:   time.Time(w.FinishTime),
		TradeType:    string(w.TradeType),
	}
	if pp := w.PrepayParams; pp != nil {
		p.PrepayParams = &PrepayParams{
			NonceStr:  string(pp.NonceStr),
			OrderNo:   string(pp.OrderNo),
			PaySign:   string(pp.PaySign),
			PrepayID:  string(pp.PrepayID),
			TimeStamp: string(pp.TimeStamp),
		}
	}
	return p
}

// PlaceOrder places a mini-program order and returns it with the prepay
// parameters for wx.requestPayment.
//
// HipoPay endpoint: POST wechatpay/mini_program/payment.
//
// Invalid input is a *ValidationError before any network call. The order
// is never re-sent once the request may have reached HipoPay (a lost answer
// is resolved with GetPayment by OutTradeID). HipoPay's refusals are
// *APIError: ErrForexMerchantNotSupportThisCurrency,
// ErrIllegalSecurityProfile.
func (c *Client) PlaceOrder(ctx context.Context, req *PlaceOrderRequest) (*Payment, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	params := encodeParams(req)
	params.Set("merchant_no", c.merchantNo)
	if req.IsRMB {
		params.Set("is_rmb", "TRUE")
	}
	var w paymentWire
	env, err := c.do(ctx, call{method: http.MethodPost, path: "wechatpay/mini_program/payment", params: params}, &w)
	if err != nil {
		return nil, err
	}
	p := w.payment()
	if p.PrepayParams == nil || p.PrepayParams.PrepayID == "" {
		// The order exists at HipoPay, but the mini-program cannot pay it.
		return nil, &APIError{StatusCode: env.status,
			Message: "order answer has no prepay_params (payment_no " + p.PaymentNo + ", out_trade_id " + p.OutTradeID + ")"}
	}
	return p, nil
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
// A query with neither identifier is a *ValidationError. An unknown payment
// is ErrPaymentNotFound. Retried on network errors, 429 and 5xx.
func (c *Client) GetPayment(ctx context.Context, q PaymentQuery) (*Payment, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	var w paymentWire
	if _, err := c.do(ctx, call{method: http.MethodGet, path: "payment", params: encodeParams(q)}, &w); err != nil {
		return nil, err
	}
	return w.payment(), nil
}

// ForexRate is HipoPay's reference exchange rate of a currency (target
// currency per CNY); the rate of a payment is the live one when it occurs.
type ForexRate struct {
	Currency Currency
	Rate     string // exact decimal text, e.g. "0.1490046489450470854690666349"
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
// A malformed currency code is a *ValidationError; one HipoPay does not
// support is ErrCurrencyNotSupported.
func (c *Client) GetForexRate(ctx context.Context, currency Currency) (*ForexRate, error) {
	q := forexQuery{currency}
	if err := q.validate(); err != nil {
		return nil, err
	}
	var w struct {
		Currency flexString `json:"currency"`
		Rate     flexString `json:"forex_rate"`
	}
	if _, err := c.do(ctx, call{method: http.MethodGet, path: "wechatpay/forex_rate", params: encodeParams(q)}, &w); err != nil {
		return nil, err
	}
	return &ForexRate{Currency: Currency(w.Currency), Rate: string(w.Rate)}, nil
}
