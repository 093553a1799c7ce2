// The dashboard's view of the fake (GET _mock/state, GET _mock/events):
// orders with their notification deliveries, refunds, customs
// declarations and the days of the reconciliation file.

package hipopaytest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	hipopay "github.com/hipopay-go/hipopay"
)

// answerPreviewBytes is how much of the merchant's answer the dashboard
// shows.
const answerPreviewBytes = 200

type dashState struct {
	Today         string         `json:"today"` // YYYYMMDD in UTC+8, by the server's clock
	MerchantNo    string         `json:"merchant_no"`
	RetrySchedule []string       `json:"retry_schedule"`
	Orders        []dashOrder    `json:"orders"`       // newest first
	Refunds       []dashRefund   `json:"refunds"`      // newest first
	Declarations  []dashDeclared `json:"declarations"` // newest first
	BillDays      []dashBillDay  `json:"bill_days"`    // days with lines, newest first
	Merchants     []string       `json:"merchants"`
}

type dashOrder struct {
	Method      string `json:"method"`
	MerchantNo  string `json:"merchant_no"`
	OutTradeID  string `json:"out_trade_id"`
	PaymentNo   string `json:"payment_no"`
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
	Status      string `json:"status"`
	ProductInfo string `json:"product_info"`
	TradeTime   string `json:"trade_time"`
	FinishTime  string `json:"finish_time,omitempty"`
	NotifyURL   string `json:"notify_url,omitempty"`
	// Notification is "" (nothing to send), "sending", "waiting",
	// "acknowledged" or "gave up".
	Notification string         `json:"notification,omitempty"`
	NextRetry    string         `json:"next_retry,omitempty"`
	Deliveries   []dashDelivery `json:"deliveries"`
}

type dashDelivery struct {
	Attempt       int    `json:"attempt"`
	Time          string `json:"time"`
	StatusCode    int    `json:"status_code"`
	Status        string `json:"status"` // "200 OK", or the network error
	Body          string `json:"body"`   // the answer's first bytes
	BodyTruncated bool   `json:"body_truncated,omitempty"`
	Acknowledged  bool   `json:"acknowledged"`
	NextRetry     string `json:"next_retry,omitempty"`
	Redelivery    bool   `json:"redelivery,omitempty"`
}

type dashRefund struct {
	RefundNo    string `json:"refund_no"`
	OutRefundID string `json:"out_refund_id"`
	PaymentNo   string `json:"payment_no"`
	Amount      string `json:"refund_amount"`
	Currency    string `json:"currency"`
	Status      string `json:"status"`
	ResultCode  string `json:"result_code"`
	Message     string `json:"fail_message"`
	FinishTime  string `json:"finish_time"`
}

type dashDeclared struct {
	PaymentNo    string `json:"payment_no"`
	OutOrderNo   string `json:"out_order_no"`
	SubOrderNo   string `json:"sub_order_no"`
	Customs      string `json:"customs"`
	MchCustomsNo string `json:"mch_customs_no"`
	State        string `json:"state"`
	ModifyTime   string `json:"modify_time"`
	Explanation  string `json:"explanation,omitempty"`
}

type dashBillDay struct {
	MerchantNo string `json:"merchant_no"`
	Date       string `json:"date"` // YYYYMMDD
	Lines      int    `json:"lines"`
}

// orderMethod is the place-order endpoint an order came through.
func orderMethod(o *order) string { return string(o.method.method) }

// dashboardState snapshots everything the dashboard shows.
func (s *Server) dashboardState() dashState {
	s.mu.Lock()
	defer s.mu.Unlock()
	cst := hipopay.ChinaTimeZone()
	st := dashState{
		Today:         s.now().In(cst).Format(dateLayout),
		MerchantNo:    s.MerchantNo,
		RetrySchedule: []string{},
		Orders:        []dashOrder{},
		Refunds:       []dashRefund{},
		Declarations:  []dashDeclared{},
		BillDays:      []dashBillDay{},
		Merchants:     []string{},
	}
	for _, d := range s.cfg.retryIntervals {
		st.RetrySchedule = append(st.RetrySchedule, d.String())
	}

	orders := make([]*order, 0, len(s.payments))
	for _, o := range s.payments {
		s.refreshLocked(o)
		orders = append(orders, o)
	}
	slices.SortFunc(orders, func(a, b *order) int {
		return cmp.Or(b.tradeTime.Compare(a.tradeTime), cmp.Compare(b.paymentNo, a.paymentNo))
	})
	for _, o := range orders {
		st.Orders = append(st.Orders, dashOrderOf(o))
	}

	refunds := make([]*refund, 0, len(s.refunds))
	for _, r := range s.refunds {
		refunds = append(refunds, r)
	}
	slices.SortFunc(refunds, func(a, b *refund) int {
		return cmp.Or(b.finishTime.Compare(a.finishTime), cmp.Compare(b.refundNo, a.refundNo))
	})
	for _, r := range refunds {
		j := dashRefund{RefundNo: r.refundNo, OutRefundID: r.outRefundID, PaymentNo: r.paymentNo, Amount: r.amount,
			Status: string(r.status), ResultCode: string(r.resultCode), Message: r.failMessage, FinishTime: formatTime(r.finishTime)}
		if o := s.payments[r.paymentNo]; o != nil {
			j.Currency = string(o.currency)
		}
		st.Refunds = append(st.Refunds, j)
	}

	merchants := make([]*merchant, 0, len(s.merchants))
	for _, m := range s.merchants {
		merchants = append(merchants, m)
	}
	slices.SortFunc(merchants, func(a, b *merchant) int { return cmp.Compare(a.no, b.no) })
	var declared []*declaration
	for _, m := range merchants {
		st.Merchants = append(st.Merchants, m.no)
		declared = append(declared, m.declarations...)
		days := map[string]int{}
		for _, e := range m.ledger {
			days[e.time.In(cst).Format(dateLayout)]++
		}
		for day, n := range days {
			st.BillDays = append(st.BillDays, dashBillDay{MerchantNo: m.no, Date: day, Lines: n})
		}
	}
	slices.SortStableFunc(declared, func(a, b *declaration) int { return b.modifyTime.Compare(a.modifyTime) })
	for _, d := range declared {
		st.Declarations = append(st.Declarations, dashDeclared{
			PaymentNo: d.order.paymentNo, OutOrderNo: d.outOrderNo, SubOrderNo: d.subOrderNo, Customs: string(d.customs),
			MchCustomsNo: d.mchCustomsNo, State: string(d.state()), ModifyTime: formatTime(d.modifyTime), Explanation: d.explanation,
		})
	}
	slices.SortFunc(st.BillDays, func(a, b dashBillDay) int {
		return cmp.Or(cmp.Compare(b.Date, a.Date), cmp.Compare(a.MerchantNo, b.MerchantNo))
	})
	return st
}

func dashOrderOf(o *order) dashOrder {
	j := dashOrder{
		Method: orderMethod(o), MerchantNo: o.merchant.no, OutTradeID: o.outTradeID, PaymentNo: o.paymentNo,
		Amount: o.amount, Currency: string(o.currency), Status: string(o.status), ProductInfo: o.productInfo,
		TradeTime: formatTime(o.tradeTime), NotifyURL: o.notifyURL, Deliveries: []dashDelivery{},
	}
	if o.status == hipopay.PaymentStatusPaid {
		j.FinishTime = formatTime(o.finishTime)
	}
	switch {
	case o.delivering && !o.nextRetry.IsZero():
		j.Notification, j.NextRetry = "waiting", formatTime(o.nextRetry)
	case o.delivering:
		j.Notification = "sending"
	case o.acked:
		j.Notification = "acknowledged"
	case o.gaveUp:
		j.Notification = "gave up"
	}
	for _, d := range o.deliveries {
		j.Deliveries = append(j.Deliveries, dashDeliveryOf(d))
	}
	return j
}

func dashDeliveryOf(d Delivery) dashDelivery {
	j := dashDelivery{Attempt: d.Attempt, Time: formatTime(d.Time), StatusCode: d.StatusCode,
		Acknowledged: d.Acknowledged, NextRetry: formatTime(d.NextRetry), Redelivery: d.Redelivery}
	switch {
	case d.Err != nil:
		j.Status = "no answer: " + d.Err.Error()
	default:
		j.Status = strconv.Itoa(d.StatusCode) + " " + http.StatusText(d.StatusCode)
	}
	j.Body, j.BodyTruncated = preview(d.Body, answerPreviewBytes)
	return j
}

// preview returns at most n bytes of s, cut on a character boundary, and
// whether it was cut.
func preview(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}
