// The dashboard's view of the fake (GET _mock/state, GET _mock/events):
// orders with their notification deliveries, refunds, customs
// declarations and the days of the reconciliation file.

package hipopaytest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	hipopay "github.com/hipopay-go/hipopay"
)

// answerPreviewBytes is how much of the merchant's answer the dashboard
// shows.
const answerPreviewBytes = 200

// dashState is what GET _mock/state answers. Orders, refunds and
// declarations are the SDK's answer types as they marshal, merged with the
// dashboard's own members (see merged).
type dashState struct {
	Today         string            `json:"today"` // YYYYMMDD in UTC+8, by the server's clock
	MerchantNo    string            `json:"merchant_no"`
	RetrySchedule []string          `json:"retry_schedule"`
	Orders        []json.RawMessage `json:"orders"`       // newest first
	Refunds       []json.RawMessage `json:"refunds"`      // newest first
	Declarations  []json.RawMessage `json:"declarations"` // newest first
	BillDays      []dashBillDay     `json:"bill_days"`    // days with lines, newest first
	Merchants     []string          `json:"merchants"`
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
		Orders:        []json.RawMessage{},
		Refunds:       []json.RawMessage{},
		Declarations:  []json.RawMessage{},
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
		var currency hipopay.Currency
		if o := s.payments[r.paymentNo]; o != nil {
			currency = o.currency
		}
		st.Refunds = append(st.Refunds, merged(r.json(), struct {
			Currency hipopay.Currency `json:"currency"`
		}{currency}))
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
		st.Declarations = append(st.Declarations, merged(d.json(), struct {
			MchCustomsNo string `json:"mch_customs_no"`
		}{d.mchCustomsNo}))
	}
	slices.SortFunc(st.BillDays, func(a, b dashBillDay) int {
		return cmp.Or(cmp.Compare(b.Date, a.Date), cmp.Compare(a.MerchantNo, b.MerchantNo))
	})
	return st
}

// dashOrderOf is an order as the dashboard shows it: the payment as GET
// payment answers it, with where it came from and its notification.
func dashOrderOf(o *order) json.RawMessage {
	j := struct {
		Method     string `json:"method"`
		MerchantNo string `json:"merchant_no"`
		NotifyURL  string `json:"notify_url,omitempty"`
		// Notification is "" (nothing to send), "sending", "waiting",
		// "acknowledged" or "gave up".
		Notification string            `json:"notification,omitempty"`
		NextRetry    string            `json:"next_retry,omitempty"`
		Deliveries   []json.RawMessage `json:"deliveries"`
	}{Method: orderMethod(o), MerchantNo: o.merchant.no, NotifyURL: o.notifyURL, Deliveries: []json.RawMessage{}}
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
	return merged(o.json(false), j)
}

// dashDeliveryOf is a delivery as the dashboard shows it: the first bytes
// of the answer, and its HTTP status or network error as text.
func dashDeliveryOf(d Delivery) json.RawMessage {
	var j struct {
		Status        string `json:"status"` // "200 OK", or the network error
		BodyTruncated bool   `json:"body_truncated,omitempty"`
	}
	switch {
	case d.Err != nil:
		j.Status = "no answer: " + d.Err.Error()
	default:
		j.Status = strconv.Itoa(d.StatusCode) + " " + http.StatusText(d.StatusCode)
	}
	d.Body, j.BodyTruncated = preview(d.Body, answerPreviewBytes)
	return merged(d, j)
}

// merged is one JSON object with the members of a's and of b's (b's win):
// an SDK answer type and the dashboard's own members. Only the server's
// own values are marshalled: it cannot fail.
func merged(a, b any) json.RawMessage {
	members := map[string]json.RawMessage{}
	for _, v := range []any{a, b} {
		raw, err := json.Marshal(v)
		if err == nil {
			err = json.Unmarshal(raw, &members)
		}
		if err != nil {
			members["error"], _ = json.Marshal(err.Error())
		}
	}
	out, _ := json.Marshal(members)
	return out
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
