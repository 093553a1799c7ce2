package hipopay_test

import (
	"fmt"
	"strings"

	"github.com/hipopay-go/hipopay"
)

// sampleBill is the reconciliation file of HipoPay's API reference.
const sampleBill = "Test: company's reconciliation report of 20190101 to 20190120\n" +
	"Transaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount,Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.,Fee for Withdrawal,Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel\n" +
	"Collection via WeChat Pay,2019-01-02 10:55:10,`2019010210551024660612990,`13260056057_wechat_1546397710000,0.99 HKD,-,1.06 HKD,1.00 HKD,1,0.01 HKD,-,-,-,-,-,-,-,WECHATPAYCN\n" +
	"Collection via WeChat Pay,2019-01-02 11:07:05,`2019010211070452703917004,`13260056057_wechat_1546398424000,0.99 HKD,-,2.05 HKD,1.00 HKD,1,0.00 HKD,-,-,-,-,-,-,-,WECHATPAYCN\n" +
	"Refund,2019-01-04 10:50:34,`2019010410503295208356067,`,-,-0.99 HKD,1.06 HKD,-,-,-,1.00 HKD,`2019010211070452703917004,`13260056057_wechat_1546398424000,-,-,-,-,WECHATPAYCN\n"

func ExampleBillReader() {
	// In production: body, err := client.DownloadBill(ctx, req), or
	// client.BillRecords(ctx, req) for the records alone.
	r := hipopay.NewBillReader(strings.NewReader(sampleBill))
	fmt.Println(r.Title())
	for rec, err := range r.All() {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		moved := rec.Credit // the balance moves by Credit or Debit
		if moved.Value == "" {
			moved = rec.Debit
		}
		fmt.Println(rec.Time.Format("2006-01-02 15:04"), rec.Type, rec.OrderNo, moved)
	}
	// Output:
	// Test: company's reconciliation report of 20190101 to 20190120
	// 2019-01-02 10:55 Collection via WeChat Pay 2019010210551024660612990 0.99 HKD
	// 2019-01-02 11:07 Collection via WeChat Pay 2019010211070452703917004 0.99 HKD
	// 2019-01-04 10:50 Refund 2019010410503295208356067 -0.99 HKD
}

func ExampleReconcile() {
	// The merchant's own books: two payments and a refund, looked up by
	// HipoPay's numbers or the merchant's. One payment is not in the
	// file, one amount differs, one line of the file is not in the books.
	expected := []hipopay.ExpectedEntry{
		{Kind: hipopay.BillEntryPayment, OutID: "13260056057_wechat_1546397710000", Amount: "1.00", Currency: hipopay.HKD},
		{Kind: hipopay.BillEntryPayment, HipoPayNo: "2019010211070452703917004", Amount: "1.50", Currency: hipopay.HKD},
		{Kind: hipopay.BillEntryPayment, OutID: "13260056057_wechat_1546399999999", Amount: "8.00", Currency: hipopay.HKD},
	}
	records := hipopay.NewBillReader(strings.NewReader(sampleBill)).All()
	res, err := hipopay.Reconcile(expected, records)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("ok:", res.OK())
	for _, e := range res.Matched {
		fmt.Println("matched:", e.Kind, e.OutID, e.Amount, e.Currency)
	}
	for _, m := range res.Mismatched {
		fmt.Println("mismatched:", m.Expected.Kind, m.Expected.HipoPayNo, m.Reason, "expected", m.Expected.Amount, m.Expected.Currency, "bill", m.Bill)
	}
	for _, e := range res.MissingInBill {
		fmt.Println("missing in bill:", e.Kind, e.OutID, e.Amount, e.Currency)
	}
	for _, r := range res.UnexpectedInBill {
		fmt.Println("unexpected in bill:", r.Kind(), r.OrderNo, r.RefundAmount)
	}
	// Output:
	// ok: false
	// matched: payment 13260056057_wechat_1546397710000 1.00 HKD
	// mismatched: payment 2019010211070452703917004 amount expected 1.50 HKD bill 1.00 HKD
	// missing in bill: payment 13260056057_wechat_1546399999999 8.00 HKD
	// unexpected in bill: refund 2019010410503295208356067 1.00 HKD
}

func ExampleSummarizeBill() {
	sum, err := hipopay.SummarizeBill(hipopay.NewBillReader(strings.NewReader(sampleBill)).All())
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, t := range sum.Totals {
		fmt.Printf("%s, %s: %d lines, credit %s, debit %s, fees %s, refunded %s\n",
			t.Type, t.Currency, t.Count, t.Credit, t.Debit, t.ServiceFee, t.RefundAmount)
	}
	// Output:
	// Collection via WeChat Pay, HKD: 2 lines, credit 1.98 HKD, debit 0.00 HKD, fees 0.01 HKD, refunded 0.00 HKD
	// Refund, HKD: 1 lines, credit 0.00 HKD, debit -0.99 HKD, fees 0.00 HKD, refunded 1.00 HKD
}
