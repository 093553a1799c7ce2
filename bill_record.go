// The records of the reconciliation file: BillRecord and its columns,
// the entry types and kinds (payment, refund, other), and BillParseError,
// the error of a file that cannot be read.

package hipopay

import (
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
// the text of its whole line.
type BillRecord struct {
	Type                  string // "Collection via WeChat Pay", "Refund", ...
	Time                  time.Time
	OrderNo               string
	ExternalOrderNo       string
	Credit, Debit         Money
	Balance               Money
	TransactionAmount     Money
	SettlementRate        string
	ServiceFee            Money
	RefundAmount          Money
	RefundOrderNo         string
	ExternalRefundOrderNo string
	WithdrawalFee         Money
	ConvertedCurrency     string
	ConversionRate        string
	AmountAfterConversion Money
	PaymentChannel        string
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
