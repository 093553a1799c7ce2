// Tests of BillTotals, SummarizeBill, Reconciler and Reconcile
// (bill_reconcile.go) over the reference's sample and variants of it.

package hipopay

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSummarizeBill(t *testing.T) {
	lines := billSampleLines(t)
	extra := []string{
		"Withdrawal,2019-01-05 09:00:00,`W1,`,-,-1.00 HKD,0.06 HKD,-,-,-,-,-,-,0.05 HKD,-,-,-,-",
		"Collection via WeChat Pay,2019-01-06 10:00:00,`P3,`O3,990 JPY,-,-,1000 JPY,1,10 JPY,-,-,-,-,-,-,-,WECHATPAYCN",
		"Currency conversion,2019-01-07 10:00:00,`C1,`,-,-,-,-,-,-,-,-,-,-,USD,0.1275,0.13 USD,-",
		"Note,2019-01-08 10:00:00,`N1,`,-,-,-,-,-,-,-,-,-,-,-,-,-,-",
	}
	data := strings.Join(append(lines, extra...), "\n")
	sum, err := SummarizeBill(NewBillReader(strings.NewReader(data)).All())
	require.NoError(t, err)
	assert.Equal(t, 7, sum.Records)
	hkd := func(v string) Money { return Money{v, HKD} }
	jpy := func(v string) Money { return Money{v, JPY} }
	usd := func(v string) Money { return Money{v, USD} }
	assert.Equal(t, []BillTotal{
		{Type: BillTypeCollection, Currency: HKD, Count: 2, Credit: hkd("1.98"), Debit: hkd("0.00"),
			TransactionAmount: hkd("2.00"), ServiceFee: hkd("0.01"), RefundAmount: hkd("0.00"),
			WithdrawalFee: hkd("0.00"), AmountAfterConversion: hkd("0.00")},
		{Type: BillTypeCollection, Currency: JPY, Count: 1, Credit: jpy("990"), Debit: jpy("0"),
			TransactionAmount: jpy("1000"), ServiceFee: jpy("10"), RefundAmount: jpy("0"),
			WithdrawalFee: jpy("0"), AmountAfterConversion: jpy("0")},
		{Type: "Currency conversion", Currency: USD, Count: 1, Credit: usd("0.00"), Debit: usd("0.00"),
			TransactionAmount: usd("0.00"), ServiceFee: usd("0.00"), RefundAmount: usd("0.00"),
			WithdrawalFee: usd("0.00"), AmountAfterConversion: usd("0.13")},
		{Type: "Note", Currency: "", Count: 1},
		{Type: BillTypeRefund, Currency: HKD, Count: 1, Credit: hkd("0.00"), Debit: hkd("-0.99"),
			TransactionAmount: hkd("0.00"), ServiceFee: hkd("0.00"), RefundAmount: hkd("1.00"),
			WithdrawalFee: hkd("0.00"), AmountAfterConversion: hkd("0.00")},
		{Type: "Withdrawal", Currency: HKD, Count: 1, Credit: hkd("0.00"), Debit: hkd("-1.00"),
			TransactionAmount: hkd("0.00"), ServiceFee: hkd("0.00"), RefundAmount: hkd("0.00"),
			WithdrawalFee: hkd("0.05"), AmountAfterConversion: hkd("0.00")},
	}, sum.Totals)

	empty, err := SummarizeBill(NewBillReader(strings.NewReader(lines[0] + "\n" + lines[1] + "\n")).All())
	require.NoError(t, err)
	assert.Equal(t, &BillSummary{Totals: []BillTotal{}}, empty)
}

func TestBillTotalsRefuses(t *testing.T) {
	var totals BillTotals
	require.NoError(t, totals.Add(&BillRecord{Type: "X", OrderNo: "A", Credit: Money{"92233720368547758.07", HKD}}))
	before := totals.Summary()
	err := totals.Add(&BillRecord{Type: "X", OrderNo: "B", Credit: Money{"0.01", HKD}, ServiceFee: Money{"0.01", HKD}})
	assert.ErrorContains(t, err, "overflows")
	assert.Equal(t, before, totals.Summary(), "a refused record changes nothing")

	err = totals.Add(&BillRecord{Type: "X", OrderNo: "C", Credit: Money{"1.5", JPY}})
	assert.ErrorContains(t, err, `hipopay: X C, column "Credit": amount 1.5 JPY: "1.5" has decimals`)
	assert.Equal(t, before, totals.Summary())

	// Zeros beyond the currency's decimals are exact: added.
	require.NoError(t, totals.Add(&BillRecord{Type: "Y", Credit: Money{"100.00", JPY}, ServiceFee: Money{"0.010", HKD}}))

	// A nil record is an error, not a panic, and changes nothing.
	before = totals.Summary()
	assert.NotPanics(t, func() { err = totals.Add(nil) })
	assert.ErrorContains(t, err, "nil record")
	assert.Equal(t, before, totals.Summary())
	var fresh BillTotals
	assert.Error(t, fresh.Add(nil))
	assert.Equal(t, &BillSummary{Totals: []BillTotal{}}, fresh.Summary())

	lines := billSampleLines(t)
	_, err = SummarizeBill(NewBillReader(strings.NewReader(strings.Join(append(lines, "bad"), "\n"))).All())
	var pe *BillParseError
	assert.ErrorAs(t, err, &pe, "the reader's error is returned")
}

func TestReconcilerIgnoresNil(t *testing.T) {
	r, err := NewReconciler(sampleExpected())
	require.NoError(t, err)
	assert.NotPanics(t, func() { r.Add(nil) })
	for _, rec := range billSampleRecords() {
		r.Add(rec)
		r.Add(nil)
	}
	res := r.Result()
	assert.True(t, res.OK(), "%+v", res)
	assert.Len(t, res.Matched, 3)
	assert.Zero(t, res.Ignored)
}

func TestReconcileZerosBeyondTheCurrencysDecimals(t *testing.T) {
	// "1.000 HKD" is exactly 1.00 HKD: a match, not an amount mismatch.
	lines := billSampleLines(t)
	data := strings.Join(lines, "\n")
	data = strings.Replace(data, ",0.99 HKD,-,1.06 HKD,1.00 HKD,", ",0.99 HKD,-,1.06 HKD,1.000 HKD,", 1)
	require.Contains(t, data, "1.000 HKD")
	res, err := Reconcile(sampleExpected(), NewBillReader(strings.NewReader(data)).All())
	require.NoError(t, err)
	assert.True(t, res.OK(), "%+v", res)
}

// sampleExpected are the merchant's own records of the sample's entries.
func sampleExpected() []ExpectedEntry {
	return []ExpectedEntry{
		{Kind: BillEntryPayment, HipoPayNo: "2019010210551024660612990", OutID: "13260056057_wechat_1546397710000", Amount: "1.00", Currency: HKD},
		{Kind: BillEntryPayment, HipoPayNo: "2019010211070452703917004", OutID: "13260056057_wechat_1546398424000", Amount: "1.00", Currency: HKD},
		{Kind: BillEntryRefund, HipoPayNo: "2019010410503295208356067", OutID: "R-1", Amount: "1.00", Currency: HKD},
	}
}

func TestReconcile(t *testing.T) {
	sample := billSample(t)
	recs := billSampleRecords()
	lines := billSampleLines(t)
	type want struct {
		matched    []int // indexes into the expected entries
		missing    []int
		mismatched map[int]MismatchReason
		unexpected []int // indexes into the bill's records
		ignored    int
	}
	cases := []struct {
		name   string
		bill   string
		change func([]ExpectedEntry) []ExpectedEntry
		want   want
	}{
		{"all match", sample, nil, want{matched: []int{0, 1, 2}}},
		{"all match by the merchant's payment numbers", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[0].HipoPayNo, e[1].HipoPayNo = "", ""
			return e
		}, want{matched: []int{0, 1, 2}}},
		{"amounts compare by value", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[0].Amount, e[2].Amount = "1", "1.0"
			return e
		}, want{matched: []int{0, 1, 2}}},
		{"missing payment", sample, func(e []ExpectedEntry) []ExpectedEntry {
			return append(e, ExpectedEntry{Kind: BillEntryPayment, OutID: "13260056057_wechat_1546399999999", Amount: "5.00", Currency: HKD})
		}, want{matched: []int{0, 1, 2}, missing: []int{3}}},
		{"missing refund", sample, func(e []ExpectedEntry) []ExpectedEntry {
			return append(e, ExpectedEntry{Kind: BillEntryRefund, HipoPayNo: "2019010510000000000000000", Amount: "0.50", Currency: HKD})
		}, want{matched: []int{0, 1, 2}, missing: []int{3}}},
		{"a payment number expected as a refund is missing", sample, func(e []ExpectedEntry) []ExpectedEntry {
			return append(e[:2], ExpectedEntry{Kind: BillEntryRefund, HipoPayNo: "2019010210551024660612990", Amount: "1.00", Currency: HKD})
		}, want{matched: []int{0, 1}, missing: []int{2}, unexpected: []int{2}}},
		{"amount off by 0.01", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[1].Amount = "1.01"
			return e
		}, want{matched: []int{0, 2}, mismatched: map[int]MismatchReason{1: MismatchAmount}}},
		{"refund amount off by 0.01", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[2].Amount = "0.99"
			return e
		}, want{matched: []int{0, 1}, mismatched: map[int]MismatchReason{2: MismatchAmount}}},
		{"currency differs", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[0].Currency = CNY
			return e
		}, want{matched: []int{1, 2}, mismatched: map[int]MismatchReason{0: MismatchCurrency}}},
		{"the other number differs", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[0].OutID = "13260056057_wechat_0"
			return e
		}, want{matched: []int{1, 2}, mismatched: map[int]MismatchReason{0: MismatchReference}}},
		{"unexpected payment in the bill", sample, func(e []ExpectedEntry) []ExpectedEntry {
			return []ExpectedEntry{e[0], e[2]}
		}, want{matched: []int{0, 1}, unexpected: []int{1}}},
		{"unexpected refund in the bill", sample, func(e []ExpectedEntry) []ExpectedEntry {
			return e[:2]
		}, want{matched: []int{0, 1}, unexpected: []int{2}}},
		{"nothing expected", sample, func([]ExpectedEntry) []ExpectedEntry { return nil }, want{unexpected: []int{0, 1, 2}}},
		{"a line twice in the bill", sample + lines[2] + "\n", nil, want{matched: []int{0, 1, 2}, unexpected: []int{0}}},
		{"other entry types are not reconciled", sample + "Withdrawal,2019-01-05 09:00:00,`W1,`,-,-1.00 HKD,0.06 HKD,-,-,-,-,-,-,-,-,-,-,-\n",
			nil, want{matched: []int{0, 1, 2}, ignored: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expected := sampleExpected()
			if c.change != nil {
				expected = c.change(expected)
			}
			res, err := Reconcile(expected, NewBillReader(strings.NewReader(c.bill)).All())
			require.NoError(t, err)

			var matched, missing []ExpectedEntry
			for _, i := range c.want.matched {
				matched = append(matched, expected[i])
			}
			for _, i := range c.want.missing {
				missing = append(missing, expected[i])
			}
			var unexpected []*BillRecord
			for _, i := range c.want.unexpected {
				unexpected = append(unexpected, recs[i])
			}
			assert.Equal(t, matched, res.Matched, "matched")
			assert.Equal(t, missing, res.MissingInBill, "missing")
			assert.Equal(t, unexpected, res.UnexpectedInBill, "unexpected")
			assert.Equal(t, c.want.ignored, res.Ignored, "ignored")
			require.Len(t, res.Mismatched, len(c.want.mismatched), "mismatched")
			for _, m := range res.Mismatched {
				i := -1
				for j, e := range expected {
					if e == m.Expected {
						i = j
					}
				}
				require.Contains(t, c.want.mismatched, i, "mismatch %+v", m)
				assert.Equal(t, c.want.mismatched[i], m.Reason)
				assert.Equal(t, Money{"1.00", HKD}, m.Bill)
				assert.NotNil(t, m.Record)
			}
			assert.Equal(t, len(missing)+len(unexpected)+len(c.want.mismatched) == 0, res.OK())
		})
	}
}

func TestReconcilerStreams(t *testing.T) {
	rec, err := NewReconciler(sampleExpected())
	require.NoError(t, err)
	res := rec.Result()
	assert.Len(t, res.MissingInBill, 3, "nothing added yet: everything is missing")
	assert.False(t, res.OK())
	for r, err := range NewBillReader(strings.NewReader(billSample(t))).All() {
		require.NoError(t, err)
		rec.Add(r)
	}
	res = rec.Result()
	assert.True(t, res.OK())
	assert.Len(t, res.Matched, 3)
	assert.Empty(t, res.MissingInBill)
}

func TestReconcileReturnsTheReadersError(t *testing.T) {
	lines := billSampleLines(t)
	res, err := Reconcile(sampleExpected(), NewBillReader(strings.NewReader(strings.Join(append(lines[:3], "x"), "\n"))).All())
	assert.Nil(t, res)
	var pe *BillParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 4, pe.Line)
}

func TestNewReconcilerRefuses(t *testing.T) {
	ok := ExpectedEntry{Kind: BillEntryPayment, HipoPayNo: "P1", Amount: "1.00", Currency: HKD}
	cases := []struct {
		name  string
		entry func(e *ExpectedEntry)
		field string
	}{
		{"no kind", func(e *ExpectedEntry) { e.Kind = BillEntryOther }, "expected[1].kind"},
		{"no number", func(e *ExpectedEntry) { e.HipoPayNo = "" }, "expected[1].hipopay_no"},
		{"no currency", func(e *ExpectedEntry) { e.Currency = "" }, "expected[1].currency"},
		{"bad currency", func(e *ExpectedEntry) { e.Currency = "hk" }, "expected[1].currency"},
		{"no amount", func(e *ExpectedEntry) { e.Amount = "" }, "expected[1].amount"},
		{"zero amount", func(e *ExpectedEntry) { e.Amount = "0.00" }, "expected[1].amount"},
		{"negative amount", func(e *ExpectedEntry) { e.Amount = "-1.00" }, "expected[1].amount"},
		{"over-precise amount", func(e *ExpectedEntry) { e.Amount = "1.001" }, "expected[1].amount"},
		{"decimals in JPY", func(e *ExpectedEntry) { e.Amount, e.Currency = "1.5", JPY }, "expected[1].amount"},
		{"same HipoPay number twice", func(e *ExpectedEntry) { e.HipoPayNo = "P0" }, "expected[1].hipopay_no"},
		{"same merchant number twice", func(e *ExpectedEntry) { e.HipoPayNo, e.OutID = "P1", "O0" }, "expected[1].out_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			first := ExpectedEntry{Kind: BillEntryPayment, HipoPayNo: "P0", OutID: "O0", Amount: "1.00", Currency: HKD}
			e := ok
			c.entry(&e)
			_, err := NewReconciler([]ExpectedEntry{first, e})
			require.ErrorIs(t, err, ErrInvalidRequest)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, c.field, ve.Field)

			_, err = Reconcile([]ExpectedEntry{first, e}, NewBillReader(strings.NewReader(billSample(t))).All())
			assert.ErrorIs(t, err, ErrInvalidRequest)
		})
	}
	// The same number may be a payment's and a refund's.
	_, err := NewReconciler([]ExpectedEntry{ok, {Kind: BillEntryRefund, HipoPayNo: "P1", Amount: "1.00", Currency: HKD}})
	assert.NoError(t, err)
}
