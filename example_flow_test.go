package hipopay_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
)

// These examples run against hipopaytest's fake HipoPay; in production the
// client is hipopay.NewClient(merchantNo, key) (see ExampleNewClient) and
// the buyer pays in WeChat instead of fake.Pay.

// placeAndPay places an order of amount HKD and has the fake's buyer pay
// it; it returns the payment.
func placeAndPay(ctx context.Context, fake *hipopaytest.Server, client *hipopay.Client, outTradeID, amount string) *hipopay.Payment {
	p, err := client.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
		OutTradeID: outTradeID, Amount: amount, Currency: hipopay.HKD, ProductInfo: "Matcha latte",
		AppID: "wx3zzzzzzz4", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", ClientIP: "203.0.113.9",
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := fake.Pay(p.PaymentNo); err != nil {
		log.Fatal(err)
	}
	return p
}

// Place a mini-program order and hand the prepay parameters to the
// mini-program, which opens WeChat's payment sheet with them.
func ExampleClient_PlaceOrder() {
	fake := hipopaytest.NewServer()
	defer fake.Close()
	client := fake.Client()

	p, err := client.PlaceOrder(context.Background(), &hipopay.PlaceOrderRequest{
		OutTradeID:  "ORD-1001", // your order number
		Amount:      "8.88",     // decimal text; no decimals in JPY and KRW
		Currency:    hipopay.HKD,
		ProductInfo: "Matcha latte",
		AppID:       "wx3zzzzzzz4",
		OpenID:      "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", // the buyer in your mini-program
		ClientIP:    "203.0.113.9",
		NotifyURL:   "https://shop.example/hipopay/notify",
	})
	if err != nil {
		// A *hipopay.ValidationError names a bad field before anything is
		// sent; a *hipopay.APIError is HipoPay's refusal.
		log.Fatal(err)
	}
	fmt.Println(p.OutTradeID, p.Status, p.Amount, p.Currency)

	// Send this object to the mini-program, for wx.requestPayment.
	wx := p.PrepayParams.RequestPayment()
	fmt.Println(strings.HasPrefix(wx.Package, "prepay_id=wx"), wx.SignType, len(wx.PaySign))
	// Output:
	// ORD-1001 INIT 8.88 HKD
	// true MD5 32
}

// Refund part of a payment, retry with the same out_refund_id, and see a
// refund HipoPay refuses: a FAIL result with its code, not an error.
func ExampleClient_Refund() {
	fake := hipopaytest.NewServer()
	defer fake.Close()
	client := fake.Client()
	ctx := context.Background()
	p := placeAndPay(ctx, fake, client, "ORD-1003", "100.00")

	r, err := client.Refund(ctx, &hipopay.RefundRequest{
		PaymentNo:    p.PaymentNo,
		OutRefundID:  "REF-1003-1", // your idempotency key: reuse it when retrying
		RefundAmount: "30.00",      // empty: the whole payment
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.OutRefundID, r.Status, r.RefundAmount, r.ResultCode)

	// The same request again (say, after a timeout): the same refund, not
	// a second one.
	again, err := client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "REF-1003-1", RefundAmount: "30.00"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same refund:", again.RefundNo == r.RefundNo)

	// More than is left: HipoPay refuses it with a result code.
	r, err = client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "REF-1003-2", RefundAmount: "80.00"})
	if err != nil {
		log.Fatal(err)
	}
	if r.Status == hipopay.RefundStatusFail {
		fmt.Printf("refused: %s %q, retrying may help: %v\n", r.ResultCode, r.ResultCode.Message(), r.ResultCode.Retryable())
	}
	// Output:
	// REF-1003-1 SUCCESS 30.00 0000
	// same refund: true
	// refused: 0008 "Payment refundable not enough.", retrying may help: false
}

// Declare a paid order to customs, then follow the declaration's state.
func ExampleClient_Declare() {
	fake := hipopaytest.NewServer()
	defer fake.Close()
	client := fake.Client()
	ctx := context.Background()
	p := placeAndPay(ctx, fake, client, "ORD-1004", "46.44")

	d, err := client.Declare(ctx, &hipopay.DeclarationRequest{
		OutOrderNo:      "ORD-1004",
		PaymentNo:       p.PaymentNo,
		Customs:         hipopay.CustomsShenzhen,
		MchCustomsNo:    "123456789BTW",
		SubOrderNo:      "ORD-1004-A",
		SubOrderAmount:  "46.44", // must be TransportAmount + ProductAmount
		TransportAmount: "23.22",
		ProductAmount:   "23.22",
		// The buyer's identity, for the customs' check: both or neither.
		// The SDK never logs them nor puts them in an error.
		CertID: "510921199308772318",
		Name:   "Lisa",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Customs, d.State, d.CertCheckResult)

	d, err = client.GetDeclaration(ctx, hipopay.DeclarationQuery{PaymentNo: p.PaymentNo, Customs: hipopay.CustomsShenzhen})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Customs, d.State)
	// Output:
	// SHENZHEN SUBMITTED SAME
	// SHENZHEN SUCCESS
}

// Read the reconciliation file of a day, record by record, as it
// downloads. Credits are collections less HipoPay's service fee; a refund
// is debited less the part of the fee it gives back.
func ExampleClient_BillRecords() {
	// The fake's clock, so that the file's dates and times are fixed.
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, hipopay.ChinaTimeZone())
	fake := hipopaytest.NewServer(hipopaytest.WithClock(func() time.Time { return day.Add(10 * time.Hour) }))
	defer fake.Close()
	client := fake.Client()
	ctx := context.Background()
	p := placeAndPay(ctx, fake, client, "ORD-1005", "100.00")
	if _, err := client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "REF-1005-1", RefundAmount: "30.00"}); err != nil {
		log.Fatal(err)
	}

	// Days in UTC+8, both included; at most the last three months.
	req := &hipopay.BillRequest{StartDate: day, EndDate: day}
	for rec, err := range client.BillRecords(ctx, req) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %-25s credit %-10s debit %-10s fee %-9s balance %s\n",
			rec.Time.Format(time.DateTime), rec.Type, rec.Credit, rec.Debit, rec.ServiceFee, rec.Balance)
	}
	// Output:
	// 2026-03-02 10:00:00 Collection via WeChat Pay credit 99.00 HKD  debit            fee 1.00 HKD  balance 99.00 HKD
	// 2026-03-02 10:00:00 Refund                    credit            debit -29.70 HKD fee           balance 69.30 HKD
}
