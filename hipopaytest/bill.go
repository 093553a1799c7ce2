// The reconciliation file of the fake HipoPay (GET download_bill, Version
// 3.0), made from its own ledger of collections and refunds.

package hipopaytest

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// BillHeader is the header line of the reconciliation file: its 18
// columns, exactly as HipoPay writes them.
const BillHeader = "Transaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount," +
	"Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.," +
	"Fee for Withdrawal,Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel"

// entry is one line of the ledger.
type entry struct {
	kind       string
	time       time.Time
	orderNo    string // payment_no of a collection, refund_no of a refund
	extOrderNo string // out_trade_id of a collection; empty for a refund, as in the reference's sample
	currency   hipopay.Currency
	credit     int64 // collections: amount less the fee
	debit      int64 // refunds: negative, the refund less its share of the fee
	balance    int64 // running balance in currency after this line
	amount     int64 // collections: the order amount
	fee        int64 // collections: the service fee
	refund     int64 // refunds: the refund amount
	refundOf   string
	refundOfEx string
	channel    string // Payment Channel: the payment method's (methods.go)
}

// collectLocked records the collection of a paid order: credited its
// amount less the 1% service fee.
func (s *Server) collectLocked(o *order) {
	m := o.merchant
	o.fee = serviceFee(o.minor)
	m.balances[o.currency] += o.minor - o.fee
	m.ledger = append(m.ledger, &entry{
		kind: o.method.billType(), time: o.finishTime, orderNo: o.paymentNo, extOrderNo: o.outTradeID,
		currency: o.currency, credit: o.minor - o.fee, balance: m.balances[o.currency], amount: o.minor, fee: o.fee,
		channel: o.method.channel(o.hkWallet),
	})
}

// refundLedgerLocked records a successful refund of amount (already added
// to o.refunded): debited the refund less the share of the service fee it
// gives back. The fee given back so far is the fee charged in proportion
// to the amount refunded so far (rounded half up, never over the fee), so
// the refund that completes the payment gives back exactly what is left of
// the fee and the balance ends where it was before the payment.
//
// Its line leaves External order No. empty, as the reference's sample
// does: the refund is named by its refund_no (Order No.), the payment by
// Refund Order and External Refund Order No.
func (s *Server) refundLedgerLocked(o *order, r *refund, amount int64) {
	m := o.merchant
	feeBack := feeShare(o.fee, o.refunded, o.minor) - o.feeRefunded
	o.feeRefunded += feeBack
	debit := amount - feeBack
	m.balances[o.currency] -= debit
	m.ledger = append(m.ledger, &entry{
		kind: hipopay.BillTypeRefund, time: r.finishTime, orderNo: r.refundNo,
		currency: o.currency, debit: -debit, balance: m.balances[o.currency], refund: amount,
		refundOf: o.paymentNo, refundOfEx: o.outTradeID, channel: o.method.channel(o.hkWallet),
	})
}

// cells writes the entry as the 18 cells of its line, unquoted.
func (e *entry) cells() []string {
	const none = "-"
	text := func(s string) string { return "`" + s } // a number kept as text; a lone backtick is empty
	cells := make([]string, 0, 18)
	cells = append(cells, e.kind, formatTime(e.time), text(e.orderNo), text(e.extOrderNo))
	if e.kind != hipopay.BillTypeRefund {
		cells = append(cells,
			money(e.credit, e.currency), none, money(e.balance, e.currency), money(e.amount, e.currency),
			"1", money(e.fee, e.currency), none, none, none)
	} else {
		cells = append(cells,
			none, money(e.debit, e.currency), money(e.balance, e.currency), none,
			none, none, money(e.refund, e.currency), text(e.refundOf), text(e.refundOfEx))
	}
	return append(cells, none, none, none, none, e.channel)
}

// downloadBill serves GET download_bill: the merchant's collections and
// refunds whose UTC+8 day is within start_date..end_date (YYYYMMDD, both
// included). Dates that do not parse, a start after the end, a start in
// the future or more than three months ago answer INVALID_PARAMETER in the
// JSON error shape.
func (s *Server) downloadBill(m *merchant, p url.Values) answer {
	if p.Get("merchant_no") == "" {
		return invalidParam("merchant_no is required")
	}
	if p.Get("merchant_no") != m.no {
		return illegal("merchant_no is not the MerchantNO header")
	}
	cst := hipopay.ChinaTimeZone()
	start, err1 := time.ParseInLocation(dateLayout, p.Get("start_date"), cst)
	end, err2 := time.ParseInLocation(dateLayout, p.Get("end_date"), cst)
	if err1 != nil || err2 != nil || len(p.Get("start_date")) != 8 || len(p.Get("end_date")) != 8 {
		return invalidParam("start_date and end_date must be dates as YYYYMMDD")
	}
	if start.After(end) {
		return invalidParam("start_date is after end_date")
	}
	now := s.now().In(cst)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, cst)
	if start.After(today) {
		return invalidParam("start_date is in the future")
	}
	if start.Before(today.AddDate(0, -3, 0)) {
		return invalidParam("only the last three months can be queried")
	}
	endExcl := end.AddDate(0, 0, 1)

	var b strings.Builder
	b.WriteString("Test: " + m.no + "'s reconciliation report of " + p.Get("start_date") + " to " + p.Get("end_date") + "\n")
	b.WriteString(BillHeader + "\n")
	// Cells holding a comma, a double quote, a line end (the merchant's
	// own numbers may) are quoted as encoding/csv quotes them.
	cw := csv.NewWriter(&b)
	for _, e := range m.ledger {
		if e.time.Before(start) || !e.time.Before(endExcl) {
			continue
		}
		_ = cw.Write(e.cells()) // a strings.Builder never fails
	}
	cw.Flush()
	return answer{status: http.StatusOK, contentType: "text/plain; charset=utf-8", body: []byte(b.String())}
}
