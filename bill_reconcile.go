// Totals and reconciliation of the reconciliation file: BillTotals and
// SummarizeBill add up records per entry type and currency; Reconciler and
// Reconcile compare them with the merchant's expected payments and refunds.
// Both work on a stream of records, without holding the file.

package hipopay

import (
	"errors"
	"fmt"
	"iter"
	"sort"
	"strconv"
)

// BillTotal sums the lines of one entry type in one currency. Every amount
// is the sum of the cells of that column in that currency (debits are
// negative, as in the file); the running Balance is not summed.
type BillTotal struct {
	Type     string   // e.g. BillTypeCollection
	Currency Currency // "" for lines without any amount
	// Count is the number of lines of Type with an amount (Balance
	// included) in Currency. A line with amounts in two currencies counts
	// in both.
	Count                 int
	Credit                Money
	Debit                 Money
	TransactionAmount     Money
	ServiceFee            Money
	RefundAmount          Money
	WithdrawalFee         Money
	AmountAfterConversion Money
}

// BillSummary is the totals of a reconciliation file.
type BillSummary struct {
	Records int         // lines read
	Totals  []BillTotal // one per entry type and currency, by type then currency
}

// BillTotals adds up records per entry type and currency, exactly, in
// minor units, as [SummarizeBill] does for a whole stream. Its zero value
// is ready; feed it with [BillTotals.Add].
type BillTotals struct {
	records int
	sums    map[billTotalKey]*billSums
}

type billTotalKey struct {
	typ string
	cur Currency
}

// billSums are the summed columns of one BillTotal, in minor units, in the
// order of billSummed.
type billSums struct {
	count int
	minor [7]int64
}

// billSummed picks the summed columns of a record, in BillTotal's order.
func billSummed(r *BillRecord) [7]Money {
	return [7]Money{r.Credit, r.Debit, r.TransactionAmount, r.ServiceFee, r.RefundAmount, r.WithdrawalFee, r.AmountAfterConversion}
}

var billSummedNames = [7]string{"Credit", "Debit", "Transaction Amount", "Service Fee", "Refund Amount", "Fee for Withdrawal", "Amount After Conversion"}

// Add adds rec to the totals. An amount that is not exact in its currency
// ("1.5 JPY") or a sum beyond int64 minor units is an error, and rec is
// then not added at all. A nil rec is an error too, and changes nothing.
func (t *BillTotals) Add(rec *BillRecord) error {
	if rec == nil {
		return errors.New("hipopay: BillTotals.Add: nil record")
	}
	cells := billSummed(rec)
	var minor [7]int64
	for i, m := range cells {
		n, err := m.minor()
		if err != nil {
			return fmt.Errorf("hipopay: %s %s, column %q: %w", rec.Type, rec.OrderNo, billSummedNames[i], err)
		}
		minor[i] = n
	}
	if t.sums == nil {
		t.sums = make(map[billTotalKey]*billSums)
	}
	// Work on copies so that an overflow leaves t unchanged.
	touched := make(map[Currency]*billSums, 2)
	get := func(c Currency) *billSums {
		if s, ok := touched[c]; ok {
			return s
		}
		s := new(billSums)
		if old, ok := t.sums[billTotalKey{rec.Type, c}]; ok {
			*s = *old
		}
		s.count++
		touched[c] = s
		return s
	}
	for i, m := range cells {
		if m.Value == "" {
			continue
		}
		s := get(m.Currency)
		sum := s.minor[i] + minor[i]
		if (minor[i] > 0 && sum < s.minor[i]) || (minor[i] < 0 && sum > s.minor[i]) {
			return fmt.Errorf("hipopay: %s %s: the %s total overflows", rec.Type, rec.OrderNo, billSummedNames[i])
		}
		s.minor[i] = sum
	}
	if rec.Balance.Value != "" {
		get(rec.Balance.Currency)
	}
	if len(touched) == 0 {
		get("")
	}
	for c, s := range touched {
		t.sums[billTotalKey{rec.Type, c}] = s
	}
	t.records++
	return nil
}

// Summary returns the totals so far.
func (t *BillTotals) Summary() *BillSummary {
	sum := &BillSummary{Records: t.records, Totals: make([]BillTotal, 0, len(t.sums))}
	for k, s := range t.sums {
		m := func(i int) Money {
			if k.cur == "" {
				return Money{}
			}
			return moneyFromMinor(s.minor[i], k.cur)
		}
		sum.Totals = append(sum.Totals, BillTotal{
			Type: k.typ, Currency: k.cur, Count: s.count,
			Credit: m(0), Debit: m(1), TransactionAmount: m(2), ServiceFee: m(3),
			RefundAmount: m(4), WithdrawalFee: m(5), AmountAfterConversion: m(6),
		})
	}
	sort.Slice(sum.Totals, func(i, j int) bool {
		a, b := sum.Totals[i], sum.Totals[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Currency < b.Currency
	})
	return sum
}

// SummarizeBill adds up records (e.g. [BillReader.All] or
// [Client.BillRecords]) per entry type and currency.
//
// It stops at the first error of records or of [BillTotals.Add] and
// returns it.
func SummarizeBill(records iter.Seq2[*BillRecord, error]) (*BillSummary, error) {
	var t BillTotals
	for rec, err := range records {
		if err != nil {
			return nil, err
		}
		if err := t.Add(rec); err != nil {
			return nil, err
		}
	}
	return t.Summary(), nil
}

// ExpectedEntry is a payment or refund the merchant's books hold, to be
// found in the reconciliation file by [Reconcile]: by HipoPayNo in the
// Order No. column or by OutID in the External order No. column (at least
// one is required; HipoPayNo is tried first).
//
// A payment (payment_no, out_trade_id) is looked for on the Collection
// lines, its Amount compared with the Transaction Amount (the order amount;
// Credit is net of the service fee). A refund (refund_no, out_refund_id)
// is looked for on the Refund lines, its Amount compared with the Refund
// Amount; key refunds by refund_no, as the reference's example leaves the
// External order No. of a Refund line empty.
type ExpectedEntry struct {
	Kind      BillEntryKind // BillEntryPayment or BillEntryRefund
	HipoPayNo string        // payment_no of a payment, refund_no of a refund
	OutID     string        // out_trade_id of a payment, out_refund_id of a refund
	Amount    string        // decimal in Currency's major unit, e.g. "1.00"
	Currency  Currency
}

// MismatchReason says what differs between an expected entry and its line.
type MismatchReason string

// Reasons for a mismatch, checked in this order.
const (
	MismatchCurrency  MismatchReason = "currency"  // the bill's amount is in another currency
	MismatchAmount    MismatchReason = "amount"    // same currency, another amount (or one that is not exact)
	MismatchReference MismatchReason = "reference" // found by one number, the other number differs
)

// BillMismatch is an expected entry found in the file with another amount,
// currency or reference.
type BillMismatch struct {
	Expected ExpectedEntry
	Record   *BillRecord
	Bill     Money // the amount compared: Transaction Amount or Refund Amount
	Reason   MismatchReason
}

// Reconciliation is the outcome of comparing the merchant's expected
// entries with the reconciliation file.
type Reconciliation struct {
	Matched       []ExpectedEntry // found with the same amount and currency, in the file's order
	Mismatched    []BillMismatch  // found, but something differs
	MissingInBill []ExpectedEntry // expected, not in the file, in the order given
	// UnexpectedInBill are payment and refund lines that no expected
	// entry names, and lines for an entry already found (a duplicate).
	UnexpectedInBill []*BillRecord
	Ignored          int // lines of other types (fees, withdrawals, ...), not reconciled
}

// OK reports whether the file and the expected entries agree entirely.
func (r *Reconciliation) OK() bool {
	return len(r.Mismatched) == 0 && len(r.MissingInBill) == 0 && len(r.UnexpectedInBill) == 0
}

// Reconciler compares a stream of records with the merchant's expected
// entries without holding the records, as [Reconcile] does: feed it with
// [Reconciler.Add], then read [Reconciler.Result]. It holds the expected
// entries and the lines it reports.
type Reconciler struct {
	expected []ExpectedEntry
	minor    []int64
	found    []bool
	byNo     map[billEntryKey]int
	byOut    map[billEntryKey]int
	res      Reconciliation
}

type billEntryKey struct {
	kind BillEntryKind
	id   string
}

// NewReconciler returns a [Reconciler] of the records with expected.
//
// An entry without a valid kind, without either number, with an amount
// that is not a positive decimal exact in its currency, with a malformed
// currency, or with a number another entry of the same kind already has,
// is a [*ValidationError] naming it ("expected[2].amount").
func NewReconciler(expected []ExpectedEntry) (*Reconciler, error) {
	r := &Reconciler{
		expected: append([]ExpectedEntry(nil), expected...),
		minor:    make([]int64, len(expected)),
		found:    make([]bool, len(expected)),
		byNo:     make(map[billEntryKey]int, len(expected)),
		byOut:    make(map[billEntryKey]int, len(expected)),
	}
	for i, e := range r.expected {
		field := func(name string) string { return "expected[" + strconv.Itoa(i) + "]." + name }
		if e.Kind != BillEntryPayment && e.Kind != BillEntryRefund {
			return nil, invalid(field("kind"), "%v is neither a payment nor a refund", e.Kind)
		}
		if e.HipoPayNo == "" && e.OutID == "" {
			return nil, invalid(field("hipopay_no"), "is required unless out_id is given")
		}
		if err := validCurrency(field("currency"), e.Currency); err != nil {
			return nil, err
		}
		if err := validAmount(field("amount"), e.Amount, e.Currency); err != nil {
			return nil, err
		}
		r.minor[i], _ = parseMinor(e.Amount, e.Currency.Decimals())
		for _, idx := range []struct {
			m    map[billEntryKey]int
			id   string
			name string
		}{{r.byNo, e.HipoPayNo, "hipopay_no"}, {r.byOut, e.OutID, "out_id"}} {
			if idx.id == "" {
				continue
			}
			k := billEntryKey{e.Kind, idx.id}
			if j, dup := idx.m[k]; dup {
				return nil, invalid(field(idx.name), "%q is also expected[%d]'s", idx.id, j)
			}
			idx.m[k] = i
		}
	}
	return r, nil
}

// Add compares one record of the file with the expected entries. A nil
// rec is ignored: it is no line of the file.
func (r *Reconciler) Add(rec *BillRecord) {
	if rec == nil {
		return
	}
	kind := rec.Kind()
	if kind == BillEntryOther {
		r.res.Ignored++
		return
	}
	i, ok := -1, false
	if rec.OrderNo != "" {
		i, ok = r.byNo[billEntryKey{kind, rec.OrderNo}]
	}
	if !ok && rec.ExternalOrderNo != "" {
		i, ok = r.byOut[billEntryKey{kind, rec.ExternalOrderNo}]
	}
	if !ok || r.found[i] {
		r.res.UnexpectedInBill = append(r.res.UnexpectedInBill, rec)
		return
	}
	r.found[i] = true
	e := r.expected[i]
	bill := rec.TransactionAmount
	if kind == BillEntryRefund {
		bill = rec.RefundAmount
	}
	var reason MismatchReason
	switch n, err := bill.Minor(); {
	case bill.Currency != e.Currency:
		reason = MismatchCurrency
	case err != nil || n != r.minor[i]:
		reason = MismatchAmount
	case e.HipoPayNo != "" && rec.OrderNo != e.HipoPayNo,
		e.OutID != "" && rec.ExternalOrderNo != "" && rec.ExternalOrderNo != e.OutID:
		reason = MismatchReference
	}
	if reason != "" {
		r.res.Mismatched = append(r.res.Mismatched, BillMismatch{Expected: e, Record: rec, Bill: bill, Reason: reason})
		return
	}
	r.res.Matched = append(r.res.Matched, e)
}

// Result returns the reconciliation of the records added so far: every
// expected entry not found yet is missing.
func (r *Reconciler) Result() *Reconciliation {
	res := r.res
	res.Matched = append([]ExpectedEntry(nil), r.res.Matched...)
	res.Mismatched = append([]BillMismatch(nil), r.res.Mismatched...)
	res.UnexpectedInBill = append([]*BillRecord(nil), r.res.UnexpectedInBill...)
	res.MissingInBill = nil
	for i, e := range r.expected {
		if !r.found[i] {
			res.MissingInBill = append(res.MissingInBill, e)
		}
	}
	return &res
}

// Reconcile compares the merchant's expected payments and refunds with the
// records of a reconciliation file (e.g. [BillReader.All] or
// [Client.BillRecords]), streaming: see [ExpectedEntry] for what is
// compared with what.
//
// Invalid expected entries are a [*ValidationError] (see
// [NewReconciler]); an error of records stops the comparison and is
// returned.
func Reconcile(expected []ExpectedEntry, records iter.Seq2[*BillRecord, error]) (*Reconciliation, error) {
	r, err := NewReconciler(expected)
	if err != nil {
		return nil, err
	}
	for rec, err := range records {
		if err != nil {
			return nil, err
		}
		r.Add(rec)
	}
	return r.Result(), nil
}
