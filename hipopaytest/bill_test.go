package hipopaytest_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBillQuotesCells: merchant numbers holding a comma, a double quote or
// a newline are quoted as encoding/csv quotes them, and the SDK's reader
// gets them back as they were.
func TestBillQuotesCells(t *testing.T) {
	clock := newFakeClock(time.Date(2024, 3, 5, 10, 0, 0, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now))
	c := s.Client()
	ctx := ctxT(t)

	ids := []string{"A,B", `say "hi"`, "first line\nsecond line", `"`, ",", "PLAIN-1"}
	var payments []*hipopay.Payment
	var refunds []*hipopay.Refund
	for i, id := range ids {
		p, err := c.PlaceOrder(ctx, order(id, "10.00", hipopay.HKD, ""))
		require.NoError(t, err, id)
		require.NoError(t, s.Pay(p.PaymentNo))
		r, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "R," + id, RefundAmount: "1.00"})
		require.NoError(t, err, id)
		require.Equal(t, hipopay.RefundStatusSuccess, r.Status, id)
		payments, refunds = append(payments, p), append(refunds, r)
		clock.Add(time.Duration(i+1) * time.Minute)
	}

	check := func(t *testing.T, recs []*hipopay.BillRecord) {
		t.Helper()
		require.Len(t, recs, 2*len(ids))
		for i, id := range ids {
			col, ref := recs[2*i], recs[2*i+1]
			assert.Equal(t, hipopay.BillEntryPayment, col.Kind(), id)
			assert.Equal(t, payments[i].PaymentNo, col.OrderNo, id)
			assert.Equal(t, id, col.ExternalOrderNo, id)
			assert.Equal(t, hipopay.Money{Value: "10.00", Currency: hipopay.HKD}, col.TransactionAmount, id)
			assert.Equal(t, "WECHATPAYCN", col.PaymentChannel, id)

			assert.Equal(t, hipopay.BillEntryRefund, ref.Kind(), id)
			assert.Equal(t, refunds[i].RefundNo, ref.OrderNo, id)
			assert.Empty(t, ref.ExternalOrderNo, id)
			assert.Equal(t, payments[i].PaymentNo, ref.RefundOrderNo, id)
			assert.Equal(t, id, ref.ExternalRefundOrderNo, id)
			assert.Equal(t, hipopay.Money{Value: "1.00", Currency: hipopay.HKD}, ref.RefundAmount, id)
			assert.Equal(t, "WECHATPAYCN", ref.PaymentChannel, id)
		}
	}

	day := time.Date(2024, 3, 5, 0, 0, 0, 0, cst)
	req := &hipopay.BillRequest{StartDate: day, EndDate: day}
	rc, err := c.DownloadBill(ctx, req)
	require.NoError(t, err)
	raw, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Contains(t, string(raw), "\"`A,B\"")
	assert.Contains(t, string(raw), "\"`say \"\"hi\"\"\"")

	var recs []*hipopay.BillRecord
	br := hipopay.NewBillReader(bytes.NewReader(raw))
	for rec, err := range br.All() {
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	t.Run("NewBillReader", func(t *testing.T) { check(t, recs) })

	recs = nil
	for rec, err := range c.BillRecords(ctx, req) {
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	t.Run("BillRecords", func(t *testing.T) { check(t, recs) })
}

// TestBillRefundLineLikeTheSample: a refund line leaves External order No.
// empty (a lone backtick), as the reference's sample does; the refund is
// found by its HipoPay number in Order No.
func TestBillRefundLineLikeTheSample(t *testing.T) {
	clock := newFakeClock(time.Date(2024, 3, 5, 10, 0, 0, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now))
	c := s.Client()
	ctx := ctxT(t)
	p, err := c.PlaceOrder(ctx, order("ORD-S", "1.00", hipopay.HKD, ""))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	r, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "REF-S", RefundAmount: "1.00"})
	require.NoError(t, err)

	day := time.Date(2024, 3, 5, 0, 0, 0, 0, cst)
	rc, err := c.DownloadBill(ctx, &hipopay.BillRequest{StartDate: day, EndDate: day})
	require.NoError(t, err)
	raw, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	require.Len(t, lines, 4, string(raw))
	assert.Equal(t, "Refund,2024-03-05 10:00:00,`"+r.RefundNo+",`,-,-0.99 HKD,0.00 HKD,-,-,-,1.00 HKD,`"+p.PaymentNo+",`ORD-S,-,-,-,-,WECHATPAYCN", lines[3])
	assert.NotContains(t, string(raw), "REF-S")

	// The sample's own refund line has the same shape.
	sample := strings.Split(hipopaytest.BillSampleText, "\n")[4]
	assert.Equal(t, strings.Count(sample, ","), strings.Count(lines[3], ","))
	assert.Equal(t, strings.Split(sample, ",")[3], strings.Split(lines[3], ",")[3])
}

// TestRefundsGiveBackTheFeeInProportion: partial refunds give back the
// service fee in proportion, never more than was charged; once the payment
// is refunded in full the balance is exactly what it was before it.
func TestRefundsGiveBackTheFeeInProportion(t *testing.T) {
	for _, tc := range []struct {
		name     string
		amount   string
		currency hipopay.Currency
		refunds  []string
	}{
		{"three thirds of 1.50 HKD", "1.50", hipopay.HKD, []string{"0.50", "0.50", "0.50"}},
		{"uneven parts", "100.00", hipopay.HKD, []string{"33.33", "33.33", "33.34"}},
		{"many cents", "0.50", hipopay.USD, []string{"0.01", "0.01", "0.01", "0.01", "0.01", "0.45"}},
		{"one refund", "8.88", hipopay.HKD, []string{"8.88"}},
		{"JPY", "1250", hipopay.JPY, []string{"1", "624", "625"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock(time.Date(2024, 3, 5, 10, 0, 0, 0, cst))
			s := newServer(t, hipopaytest.WithClock(clock.Now))
			c := s.Client()
			ctx := ctxT(t)

			// An earlier payment: the balance before is not zero.
			earlier, err := c.PlaceOrder(ctx, order("ORD-EARLIER", tc.amount, tc.currency, ""))
			require.NoError(t, err)
			require.NoError(t, s.Pay(earlier.PaymentNo))
			p, err := c.PlaceOrder(ctx, order("ORD-FEE", tc.amount, tc.currency, ""))
			require.NoError(t, err)
			require.NoError(t, s.Pay(p.PaymentNo))
			for i, amount := range tc.refunds {
				r, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "RF-" + amount + "-" + string(rune('a'+i)), RefundAmount: amount})
				require.NoError(t, err)
				require.Equal(t, hipopay.RefundStatusSuccess, r.Status, amount)
			}
			r, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "RF-MORE", RefundAmount: "1"})
			require.NoError(t, err)
			assert.Equal(t, hipopay.RefundResultPaymentFullyRefunded, r.ResultCode)

			day := time.Date(2024, 3, 5, 0, 0, 0, 0, cst)
			var recs []*hipopay.BillRecord
			for rec, err := range c.BillRecords(ctx, &hipopay.BillRequest{StartDate: day, EndDate: day}) {
				require.NoError(t, err)
				recs = append(recs, rec)
			}
			require.Len(t, recs, 2+len(tc.refunds))
			before, col := recs[0], recs[1]
			assert.Equal(t, p.PaymentNo, col.OrderNo)
			var debits int64
			for _, rec := range recs[2:] {
				n, err := rec.Debit.Minor()
				require.NoError(t, err)
				refunded, err := rec.RefundAmount.Minor()
				require.NoError(t, err)
				assert.LessOrEqual(t, -n, refunded, "a refund never debits more than it refunds")
				debits += n
			}
			credit, err := col.Credit.Minor()
			require.NoError(t, err)
			assert.Equal(t, -credit, debits, "the refunds debit exactly what the payment credited")
			assert.Equal(t, before.Balance, recs[len(recs)-1].Balance, "the balance is back to its value before the payment")
		})
	}
}
