// Payments of the fake HipoPay: placing an order (POST
// wechatpay/mini_program/payment), querying it (GET payment), the reference
// forex rate (GET wechatpay/forex_rate), and the buyer's side (Pay,
// FailPayment).

package hipopaytest

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// order is a payment order.
type order struct {
	merchant         *merchant
	paymentNo        string
	outTradeID       string
	amount           string // in the currency's decimals
	minor            int64
	currency         hipopay.Currency
	productInfo      string
	appID            string
	openID           string
	clientIP         string
	notifyURL        string
	isRMB            bool
	responseVersion3 bool
	status           hipopay.PaymentStatus
	tradeTime        time.Time
	finishTime       time.Time
	exchangeRate     string // set when PAID
	transactionID    string // WeChat Pay's number, set when PAID
	prepay           prepayJSON
	refunded         int64 // minor units refunded successfully
	fee              int64 // the service fee charged on collection (minor units)
	feeRefunded      int64 // the part of fee given back by refunds so far

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

type paymentJSON struct {
	Amount       string      `json:"amount"`
	Currency     string      `json:"currency"`
	ExchangeRate string      `json:"exchange_rate,omitempty"`
	OutTradeID   string      `json:"out_trade_id"`
	PaymentNo    string      `json:"payment_no"`
	Status       string      `json:"status"`
	ProductInfo  string      `json:"product_info"`
	TradeTime    string      `json:"trade_time"`
	FinishTime   string      `json:"finish_time,omitempty"`
	TradeType    string      `json:"trade_type"`
	PrepayParams *prepayJSON `json:"prepay_params,omitempty"`
}

type prepayJSON struct {
	NonceStr  string `json:"nonceStr"`
	OrderNo   string `json:"order_no"`
	PaySign   string `json:"paySign"`
	PrepayID  string `json:"prepay_id"`
	TimeStamp string `json:"timeStamp"`
}

// refreshLocked applies expiry: an INIT order older than the expiry is
// EXPIRED from then on.
func (s *Server) refreshLocked(o *order) {
	if o.status == hipopay.PaymentStatusInit && s.cfg.orderExpiry > 0 && !s.now().Before(o.tradeTime.Add(s.cfg.orderExpiry)) {
		o.status = hipopay.PaymentStatusExpired
	}
}

func (o *order) json(withPrepay bool) paymentJSON {
	p := paymentJSON{
		Amount:      o.amount,
		Currency:    string(o.currency),
		OutTradeID:  o.outTradeID,
		PaymentNo:   o.paymentNo,
		Status:      string(o.status),
		ProductInfo: o.productInfo,
		TradeTime:   formatTime(o.tradeTime),
		TradeType:   tradeType,
	}
	if o.status == hipopay.PaymentStatusPaid {
		p.ExchangeRate = o.exchangeRate
		p.FinishTime = formatTime(o.finishTime)
	}
	if withPrepay {
		pp := o.prepay
		p.PrepayParams = &pp
	}
	return p
}

// placeOrder serves POST wechatpay/mini_program/payment.
func (s *Server) placeOrder(m *merchant, p url.Values) answer {
	for _, name := range []string{"merchant_no", "out_trade_id", "amount", "currency", "product_info", "appid", "openid", "client_ip"} {
		if strings.TrimSpace(p.Get(name)) == "" {
			return invalidParam("%s is required", name)
		}
	}
	if p.Get("merchant_no") != m.no {
		return illegal("merchant_no is not the MerchantNO header")
	}
	currency := hipopay.Currency(p.Get("currency"))
	if _, ok := ExchangeRate(currency); !ok {
		return failure(CodeForexMerchantNotSupportThisCurrency, "This currency is not supported")
	}
	minor, err := hipopay.ParseAmount(p.Get("amount"), currency)
	if err != nil || minor <= 0 || strings.HasPrefix(p.Get("amount"), "-") {
		return invalidParam("amount %q is not a positive amount in %s", p.Get("amount"), currency)
	}
	amount := hipopay.FormatAmount(minor, currency) // "8.8" is answered "8.80"
	isRMB := false
	switch v := p.Get("is_rmb"); v {
	case "", "FALSE":
	case "TRUE":
		isRMB = true
	default:
		return invalidParam("is_rmb must be TRUE or FALSE")
	}
	notifyURL := p.Get("notify_url")
	if notifyURL != "" {
		if u, err := url.Parse(notifyURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalidParam("notify_url is not an absolute http or https URL")
		}
	}

	outTradeID := p.Get("out_trade_id")
	if o := m.byOutTradeID[outTradeID]; o != nil {
		s.refreshLocked(o)
		if o.status == hipopay.PaymentStatusInit && o.amount == amount && o.currency == currency && o.appID == p.Get("appid") && o.openID == p.Get("openid") {
			return success(o.json(true)) // the same order again: as WeChat Pay, answer it
		}
		return failure(CodeDuplicateOutTradeID, "out_trade_id "+outTradeID+" is already used by payment "+o.paymentNo)
	}

	now := s.now()
	o := &order{
		merchant:         m,
		paymentNo:        s.nextNumberLocked(now),
		outTradeID:       outTradeID,
		amount:           amount,
		minor:            minor,
		currency:         currency,
		productInfo:      p.Get("product_info"),
		appID:            p.Get("appid"),
		openID:           p.Get("openid"),
		clientIP:         p.Get("client_ip"),
		notifyURL:        notifyURL,
		isRMB:            isRMB,
		responseVersion3: p.Get("response_version") == "3.0",
		status:           hipopay.PaymentStatusInit,
		tradeTime:        now,
	}
	o.prepay = s.prepayLocked(o.appID, now)
	m.byOutTradeID[outTradeID] = o
	s.payments[o.paymentNo] = o
	return success(o.json(true))
}

// prepayLocked makes the prepay parameters of an order: the order number
// starts with the UTC+8 time of timeStamp, and paySign is the upper-case
// MD5 of WeChat's classic JSAPI string with the fake's own API key.
func (s *Server) prepayLocked(appID string, now time.Time) prepayJSON {
	unix := now.Unix()
	stamp := time.Unix(unix, 0)
	pp := prepayJSON{
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
	return success(struct {
		Currency string `json:"currency"`
		Rate     string `json:"forex_rate"`
	}{string(c), rate})
}

// Pay plays the buyer paying an INIT order: it becomes PAID (finish_time
// and exchange_rate set, a collection in the reconciliation file), then its
// notification is sent to its notify_url, if any, in the background and
// re-sent on the retry schedule until acknowledged (see Deliveries,
// WaitDelivered). It fails for an unknown payment (errors.Is(err,
// hipopay.ErrPaymentNotFound)), one that is not INIT (paid, failed,
// expired), and after Close.
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
	if o.status != hipopay.PaymentStatusInit {
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

// FailPayment plays the buyer's payment failing: an INIT order becomes
// FAIL, and no notification is sent (HipoPay notifies only PAID). It fails
// like Pay.
func (s *Server) FailPayment(paymentNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.payments[paymentNo]
	if o == nil {
		return fmt.Errorf("hipopaytest: FailPayment %s: %w", paymentNo, hipopay.ErrPaymentNotFound)
	}
	s.refreshLocked(o)
	if o.status != hipopay.PaymentStatusInit {
		return fmt.Errorf("hipopaytest: FailPayment %s: payment is %s, not INIT", paymentNo, o.status)
	}
	o.status = hipopay.PaymentStatusFail
	return nil
}

// Payment returns the server's view of a payment of any merchant, as the
// SDK's type (PrepayParams included), and false for an unknown one.
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

func (s *Server) paymentLocked(o *order) *hipopay.Payment {
	p := &hipopay.Payment{
		Amount:      o.amount,
		Currency:    o.currency,
		OutTradeID:  o.outTradeID,
		PaymentNo:   o.paymentNo,
		Status:      o.status,
		ProductInfo: o.productInfo,
		TradeTime:   o.tradeTime.In(hipopay.ChinaTimeZone()).Truncate(time.Second),
		TradeType:   tradeType,
		PrepayParams: &hipopay.PrepayParams{
			NonceStr: o.prepay.NonceStr, OrderNo: o.prepay.OrderNo, PaySign: o.prepay.PaySign,
			PrepayID: o.prepay.PrepayID, TimeStamp: o.prepay.TimeStamp,
		},
	}
	if o.status == hipopay.PaymentStatusPaid {
		p.ExchangeRate = o.exchangeRate
		p.FinishTime = o.finishTime.In(hipopay.ChinaTimeZone()).Truncate(time.Second)
	}
	return p
}

func copyValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
