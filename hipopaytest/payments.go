// Payments of the fake HipoPay: the order (placed in methods.go), querying
// it (GET payment), the reference forex rate (GET wechatpay/forex_rate),
// and the buyer's side (Pay, FailPayment).

package hipopaytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// order is a payment order.
type order struct {
	merchant         *merchant
	method           fakeMethod
	paymentNo        string
	outTradeID       string
	amount           string // in the currency's decimals
	minor            int64
	currency         hipopay.Currency
	productInfo      string
	appID            string
	openID           string
	authCode         string
	returnURL        string
	hkWallet         bool
	clientIP         string
	notifyURL        string
	isRMB            bool
	responseVersion3 bool
	status           hipopay.PaymentStatus
	tradeTime        time.Time
	finishTime       time.Time
	exchangeRate     string // set when PAID
	transactionID    string // WeChat Pay's number, set when PAID
	// The method's answer (the fake's assumption, see methods.go).
	prepay      *hipopay.PrepayParams
	jsParams    json.RawMessage
	qrCodeURL   string
	payURL      string
	orderString string

	refunded    int64 // minor units refunded successfully
	fee         int64 // the service fee charged on collection (minor units)
	feeRefunded int64 // the part of fee given back by refunds so far

	// notification
	fields     url.Values // the notification's fields, set when PAID
	deliveries []Delivery
	acked      bool // a delivery was acknowledged
	gaveUp     bool // every delivery failed
	delivering bool // a delivery goroutine runs

	// re-sends (Redeliver) and the dashboard
	nextRetry time.Time     // when the waiting re-send goes out; zero when none waits
	wake      chan struct{} // Redeliver: send now (see wakeLocked)
}

// refreshLocked applies expiry: an INIT (or USERPAYING) order older than
// the expiry is EXPIRED from then on.
func (s *Server) refreshLocked(o *order) {
	if o.waiting() && s.cfg.orderExpiry > 0 && !s.now().Before(o.tradeTime.Add(s.cfg.orderExpiry)) {
		o.status = hipopay.PaymentStatusExpired
	}
}

// waiting reports whether the order waits for the buyer: INIT, or
// USERPAYING (a barcode order).
func (o *order) waiting() bool {
	return o.status == hipopay.PaymentStatusInit || o.status == hipopay.PaymentStatusUserPaying
}

// json is the order as HipoPay answers it: with the method's answer
// field (prepay_params, js_params, qrcode_url...) when withAnswer, as the
// place-order call does; without, as GET payment does.
func (o *order) json(withAnswer bool) *hipopay.Payment {
	p := &hipopay.Payment{
		Amount:      o.amount,
		Currency:    o.currency,
		OutTradeID:  o.outTradeID,
		PaymentNo:   o.paymentNo,
		Status:      o.status,
		ProductInfo: o.productInfo,
		TradeTime:   o.tradeTime.In(hipopay.ChinaTimeZone()).Truncate(time.Second),
		TradeType:   o.method.tradeType,
	}
	if o.status == hipopay.PaymentStatusPaid {
		p.ExchangeRate = o.exchangeRate
		p.FinishTime = o.finishTime.In(hipopay.ChinaTimeZone()).Truncate(time.Second)
	}
	if withAnswer {
		if o.prepay != nil {
			pp := *o.prepay
			p.PrepayParams = &pp
		}
		p.JSParams = append(json.RawMessage(nil), o.jsParams...)
		p.QRCodeURL, p.PayURL = o.qrCodeURL, o.payURL
		if o.orderString != "" {
			// No field of the SDK's: the answer carries it through Raw.
			p.Raw, _ = json.Marshal(map[string]string{"order_string": o.orderString}) // a string: cannot fail
		}
	}
	return p
}

// getPayment serves GET payment.
func (s *Server) getPayment(m *merchant, p url.Values) answer {
	o := s.findPaymentLocked(m, p.Get("payment_no"), p.Get("out_trade_id"))
	if o == nil {
		if p.Get("payment_no") == "" && p.Get("out_trade_id") == "" {
			return invalidParam("payment_no or out_trade_id is required")
		}
		return failure(CodePaymentNotFound, "Order not found")
	}
	return success(o.json(false))
}

// findPaymentLocked finds a payment of m by either identifier (both must
// match when both are given); nil when there is none.
func (s *Server) findPaymentLocked(m *merchant, paymentNo, outTradeID string) *order {
	var o *order
	switch {
	case paymentNo != "":
		o = s.payments[paymentNo]
		if o != nil && (o.merchant != m || (outTradeID != "" && o.outTradeID != outTradeID)) {
			o = nil
		}
	case outTradeID != "":
		o = m.byOutTradeID[outTradeID]
	}
	if o != nil {
		s.refreshLocked(o)
	}
	return o
}

// forexRate serves GET wechatpay/forex_rate.
func (s *Server) forexRate(_ *merchant, p url.Values) answer {
	c := hipopay.Currency(p.Get("currency"))
	if c == "" {
		return invalidParam("currency is required")
	}
	rate, ok := forexRate(c)
	if !ok {
		return failure(CodeCurrencyNotSupport, "This currency is not supported")
	}
	return success(hipopay.ForexRate{Currency: c, Rate: rate})
}

// Pay plays the buyer paying an INIT order (or confirming a USERPAYING
// barcode order): it becomes PAID (finish_time
// and exchange_rate set, a collection in the reconciliation file), then its
// notification is sent to its notify_url, if any, in the background and
// re-sent on the retry schedule until acknowledged (see Deliveries,
// WaitDelivered). It fails for an unknown payment (errors.Is(err,
// hipopay.ErrPaymentNotFound)), one that is not INIT or USERPAYING (paid,
// failed, expired), and after Close.
func (s *Server) Pay(paymentNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("hipopaytest: Pay: server closed")
	}
	o := s.payments[paymentNo]
	if o == nil {
		return fmt.Errorf("hipopaytest: Pay %s: %w", paymentNo, hipopay.ErrPaymentNotFound)
	}
	s.refreshLocked(o)
	if !o.waiting() {
		return fmt.Errorf("hipopaytest: Pay %s: payment is %s, not INIT", paymentNo, o.status)
	}
	now := s.now()
	rate, _ := SettlementRate(o.currency, s.settleCurrency())
	o.status = hipopay.PaymentStatusPaid
	o.finishTime = now
	o.exchangeRate = rate
	o.transactionID = "4200" + now.In(hipopay.ChinaTimeZone()).Format(dateLayout) + randomDigits(16)
	s.collectLocked(o)

	o.fields = paidNotificationFields(s.paymentLocked(o), s.settleCurrency())
	if o.responseVersion3 || s.cfg.responseVersion3 {
		addVersion3Fields(o.fields)
	}
	if o.notifyURL != "" {
		o.delivering = true
		s.wg.Add(1)
		go s.deliver(o, copyValues(o.fields), o.notifyURL)
	}
	s.broadcastLocked()
	return nil
}

// FailPayment plays the buyer's payment failing: an INIT or USERPAYING
// order becomes FAIL, and no notification is sent (HipoPay notifies only PAID). It fails
// like Pay.
func (s *Server) FailPayment(paymentNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.payments[paymentNo]
	if o == nil {
		return fmt.Errorf("hipopaytest: FailPayment %s: %w", paymentNo, hipopay.ErrPaymentNotFound)
	}
	s.refreshLocked(o)
	if !o.waiting() {
		return fmt.Errorf("hipopaytest: FailPayment %s: payment is %s, not INIT", paymentNo, o.status)
	}
	o.status = hipopay.PaymentStatusFail
	return nil
}

// Payment returns the server's view of a payment of any merchant, as the
// SDK's type (with its place-order answer: PrepayParams, JSParams,
// QRCodeURL, PayURL, Raw), and false for an unknown one.
func (s *Server) Payment(paymentNo string) (*hipopay.Payment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.payments[paymentNo]
	if o == nil {
		return nil, false
	}
	s.refreshLocked(o)
	return s.paymentLocked(o), true
}

func (s *Server) paymentLocked(o *order) *hipopay.Payment { return o.json(true) }

func copyValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
