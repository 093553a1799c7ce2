// The records of the reconciliation file: BillRecord and its columns,
// the entry types and kinds (payment, refund, other), and BillParseError,
// the error of a file that cannot be read.

package hipopay

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// billColumnCount is the number of columns of the reconciliation file.
const billColumnCount = 18

// billColumnNames are the reconciliation file's columns in order, as the
// API reference names them; errors name a column by these.
var billColumnNames = [billColumnCount]string{
	"Transaction Type", "Transaction Time", "Order No.", "External order No.",
	"Credit", "Debit", "Balance", "Transaction Amount",
	"Exchange Rate Adopted for Settlement", "Service Fee", "Refund Amount", "Refund Order",
	"External Refund Order No.", "Fee for Withdrawal", "Converted Currency",
	"Exchange Rate Adopted for Conversion", "Amount After Conversion", "Payment Channel",
}

// BillColumns returns the reconciliation file's 18 column names in order,
// as the API reference names them: "Transaction Type" to "Payment Channel".
func BillColumns() []string { return append([]string(nil), billColumnNames[:]...) }

// The entry types of the reconciliation file that the API reference shows.
// Others exist (fees, withdrawals, conversions); a [BillReader] passes
// every type through as it is written.
const (
	BillTypeCollection = "Collection via WeChat Pay" // a payment received (the reference's example)
	BillTypeRefund     = "Refund"                    // a refund paid back
)

// BillEntryKind classifies a line of the reconciliation file for
// reconciliation: a payment, a refund, or anything else.
type BillEntryKind int

// Kinds of entries.
const (
	BillEntryOther   BillEntryKind = iota // fees, withdrawals, conversions, unknown types
	BillEntryPayment                      // a collection: the buyer paid an order
	BillEntryRefund                       // a refund of (part of) a payment
)

// String names k: "payment", "refund" or "other".
func (k BillEntryKind) String() string {
	switch k {
	case BillEntryPayment:
		return "payment"
	case BillEntryRefund:
		return "refund"
	case BillEntryOther:
		return "other"
	}
	return "BillEntryKind(" + strconv.Itoa(int(k)) + ")"
}

// BillRecord is one entry (one line) of the reconciliation file. A leading
// backtick (a number kept as text) is removed, then cells written "-" are
// empty (so "`-" is empty too), amounts are [Money] and the time is in
// UTC+8.
//
// On a Refund line, as the reference's example shows, OrderNo is the
// refund's own HipoPay number (refund_no), ExternalOrderNo the merchant's
// refund number (empty in the example), RefundOrderNo the HipoPay number of
// the payment refunded (payment_no) and ExternalRefundOrderNo the merchant's
// number of that payment (out_trade_id).
//
// The strings of a record share one allocation: keeping any of them keeps
// the text of its whole line. In JSON (`hipopay bill -format jsonl`) the
// time is "2006-01-02 15:04:05" in UTC+8 and empty cells are left out.
type BillRecord struct {
	Type                  string    `json:"type"` // "Collection via WeChat Pay", "Refund", ...
	Time                  time.Time `json:"time"`
	OrderNo               string    `json:"order_no,omitempty"`
	ExternalOrderNo       string    `json:"external_order_no,omitempty"`
	Credit                Money     `json:"credit"`
	Debit                 Money     `json:"debit"`
	Balance               Money     `json:"balance"`
	TransactionAmount     Money     `json:"transaction_amount"`
	SettlementRate        string    `json:"settlement_rate,omitempty"`
	ServiceFee            Money     `json:"service_fee"`
	RefundAmount          Money     `json:"refund_amount"`
	RefundOrderNo         string    `json:"refund_order_no,omitempty"`
	ExternalRefundOrderNo string    `json:"external_refund_order_no,omitempty"`
	WithdrawalFee         Money     `json:"withdrawal_fee"`
	ConvertedCurrency     string    `json:"converted_currency,omitempty"`
	ConversionRate        string    `json:"conversion_rate,omitempty"`
	AmountAfterConversion Money     `json:"amount_after_conversion"`
	PaymentChannel        string    `json:"payment_channel,omitempty"`
}

type billRecordAlias BillRecord

// billRecordJSON shadows BillRecord's time (UTC+8 text) and amounts with
// pointers, so that an empty cell is left out.
type billRecordJSON struct {
	*billRecordAlias
	Time                  *flexTime `json:"time,omitempty"`
	Credit                *Money    `json:"credit,omitempty"`
	Debit                 *Money    `json:"debit,omitempty"`
	Balance               *Money    `json:"balance,omitempty"`
	TransactionAmount     *Money    `json:"transaction_amount,omitempty"`
	ServiceFee            *Money    `json:"service_fee,omitempty"`
	RefundAmount          *Money    `json:"refund_amount,omitempty"`
	WithdrawalFee         *Money    `json:"withdrawal_fee,omitempty"`
	AmountAfterConversion *Money    `json:"amount_after_conversion,omitempty"`
}

// wireMoney is m as an optional wire field: nil (left out) when empty.
func wireMoney(m Money) *Money {
	if m.Value == "" {
		return nil
	}
	return &m
}

// money is the decoded amount, empty when the field was absent.
func money(m *Money) Money {
	if m == nil {
		return Money{}
	}
	return *m
}

// MarshalJSON writes the record as one JSON object: the time in UTC+8 as
// "2006-01-02 15:04:05", amounts as {"value": "-0.99", "currency": "HKD"},
// empty cells left out. It leaves '&', '<' and '>' as they are; the
// calling encoder escapes them if it is set to.
func (r BillRecord) MarshalJSON() ([]byte, error) {
	return marshalUnescaped(billRecordJSON{billRecordAlias: (*billRecordAlias)(&r),
		Time: wireTime(r.Time), Credit: wireMoney(r.Credit), Debit: wireMoney(r.Debit), Balance: wireMoney(r.Balance),
		TransactionAmount: wireMoney(r.TransactionAmount), ServiceFee: wireMoney(r.ServiceFee),
		RefundAmount: wireMoney(r.RefundAmount), WithdrawalFee: wireMoney(r.WithdrawalFee),
		AmountAfterConversion: wireMoney(r.AmountAfterConversion)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *BillRecord) UnmarshalJSON(b []byte) error {
	w := billRecordJSON{billRecordAlias: (*billRecordAlias)(r)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	r.Time = w.Time.time()
	r.Credit, r.Debit, r.Balance = money(w.Credit), money(w.Debit), money(w.Balance)
	r.TransactionAmount, r.ServiceFee, r.RefundAmount = money(w.TransactionAmount), money(w.ServiceFee), money(w.RefundAmount)
	r.WithdrawalFee, r.AmountAfterConversion = money(w.WithdrawalFee), money(w.AmountAfterConversion)
	return nil
}

// Kind classifies r by its Type: [BillEntryPayment] for "Collection via
// WeChat Pay" and the other "Collection via ..." types, [BillEntryRefund]
// for "Refund" (and "Refund via ..."), [BillEntryOther] for every other
// type (fees, withdrawals, conversions, types in another language).
func (r *BillRecord) Kind() BillEntryKind {
	switch {
	case strings.HasPrefix(r.Type, "Collection via "):
		return BillEntryPayment
	case r.Type == BillTypeRefund || strings.HasPrefix(r.Type, "Refund via "):
		return BillEntryRefund
	}
	return BillEntryOther
}

// BillParseError reports a reconciliation file that cannot be read: the
// line (1-based, counting the title line, blank lines and every physical
// line of a multi-line record) and, for a bad cell, the column. Err says
// what is wrong; for a failure of the underlying reader it is that
// reader's error (errors.Is sees through).
type BillParseError struct {
	Line   int    // 1-based line number; for a multi-line record, its first line
	Column string // the column's name as the API reference gives it, e.g. "Credit"; "" for a whole line
	Err    error
}

func (e *BillParseError) Error() string {
	msg := "hipopay: reconciliation file line " + strconv.Itoa(e.Line)
	if e.Column != "" {
		msg += ", column " + strconv.Quote(e.Column)
	}
	if e.Err == nil {
		return msg + ": unreadable"
	}
	return msg + ": " + e.Err.Error()
}

func (e *BillParseError) Unwrap() error { return e.Err }
