// Command quickstart runs the whole HipoPay payment life cycle against the
// SDK's built-in fake HipoPay (package hipopaytest) and narrates it: place
// an order, hand the prepay parameters to the mini-program, the buyer pays,
// the signed notification arrives and is verified, the payment reads PAID,
// a partial refund and its query, a customs declaration, and the
// reconciliation file downloaded, parsed and reconciled.
//
// It needs nothing but Go: no account, no network, no keys on disk.
//
//	go run ./examples/quickstart
//
// To run the same calls against HipoPay's sandbox, build the client with
// hipopay.NewClient(merchantNo, key, hipopay.WithSandbox()) instead of
// fake.Client().
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// 1. A fake HipoPay in this process, with a merchant and its fresh key.
	// HipoPay re-sends unacknowledged notifications after 1 s, 2 s, 4 s, ...;
	// the fake does it in milliseconds here.
	fake := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(10*time.Millisecond, 10*time.Millisecond, 10*time.Millisecond))
	defer fake.Close()
	client := fake.Client() // hipopay.NewClient(merchantNo, key, hipopay.WithBaseURL(fake.URL), ...)
	say("1. The fake HipoPay runs at %s; merchant %s signs with its own RSA-2048 key.", fake.URL, fake.MerchantNo)

	// 2. The merchant's notify_url: the SDK's handler verifies HipoPay's
	// signature and runs this function once per payment.
	paid := make(chan *hipopay.PaymentNotification, 1)
	handler := client.NotificationHandler(func(ctx context.Context, n *hipopay.PaymentNotification) error {
		paid <- n // a real shop marks the order paid in its database here
		return nil
	})
	shop := httptest.NewServer(http.StripPrefix("/hipopay", handler))
	defer shop.Close()
	notifyURL := shop.URL + "/hipopay/notify"
	say("2. The shop's notification handler listens at %s.", notifyURL)

	// 3. Place the order for the buyer in the mini-program.
	order, err := client.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
		OutTradeID:  "ORD-2026-0001",
		Amount:      "100.00",
		Currency:    hipopay.HKD,
		ProductInfo: "Matcha latte x2",
		AppID:       "wx3zzzzzzz4",
		OpenID:      "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		ClientIP:    "203.0.113.9",
		NotifyURL:   notifyURL,
	})
	if err != nil {
		return fmt.Errorf("placing the order: %w", err)
	}
	say("3. Order %s placed: HipoPay payment %s, status %s, %s %s.",
		order.OutTradeID, order.PaymentNo, order.Status, order.Amount, order.Currency)
	wx, err := json.MarshalIndent(order.PrepayParams.RequestPayment(), "   ", "  ")
	if err != nil {
		return err
	}
	say("   The mini-program opens WeChat's payment sheet with wx.requestPayment(%s)", wx)
	say("   (timeStamp is Unix seconds, as wx.requestPayment takes it; paySign is WeChat's MD5 signature of these fields.)")

	// 4. The buyer pays; HipoPay posts the signed notification.
	if err := fake.Pay(order.PaymentNo); err != nil {
		return fmt.Errorf("paying: %w", err)
	}
	var n *hipopay.PaymentNotification
	select {
	case n = <-paid:
	case <-ctx.Done():
		return fmt.Errorf("no notification arrived: %w", ctx.Err())
	}
	say("4. The buyer paid. A notification arrived, its signature verified:")
	say("   payment %s for order %s is %s: %s %s, the buyer paid %s %s at %s (UTC+8).",
		n.PaymentNo, n.OutTradeID, n.Status, n.Amount, n.Currency, n.PayAmount, n.PayCurrency,
		n.FinishTime.Format("2006-01-02 15:04:05"))
	signedAt, err := strconv.ParseInt(n.Timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("the notification's Timestamp %q is not Unix seconds: %w", n.Timestamp, err)
	}
	say("   Its Timestamp header, %s, is in Unix seconds (%s UTC+8): when HipoPay signed this",
		n.Timestamp, time.Unix(signedAt, 0).In(hipopay.ChinaTimeZone()).Format("2006-01-02 15:04:05"))
	say("   delivery (each re-sent delivery is signed afresh, so it is not the time of payment).")
	if err := fake.WaitDelivered(ctx, order.PaymentNo); err != nil {
		return err
	}
	say("   The handler answered \"success\", so HipoPay stops re-sending it.")

	// 5. Check the payment by the merchant's own order number.
	payment, err := client.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: order.OutTradeID})
	if err != nil {
		return fmt.Errorf("checking the payment: %w", err)
	}
	say("5. GET payment: %s is %s (settled at exchange rate %s).", payment.PaymentNo, payment.Status, payment.ExchangeRate)

	// 6. Refund part of it, then check the refund.
	refund, err := client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: payment.PaymentNo, OutRefundID: "REF-2026-0001", RefundAmount: "30.00"})
	if err != nil {
		return fmt.Errorf("refunding: %w", err)
	}
	say("6. Refund %s of %s: %s (result code %s).", refund.OutRefundID, refund.RefundAmount, refund.Status, refund.ResultCode)
	again, err := client.GetRefund(ctx, hipopay.RefundQuery{OutRefundID: refund.OutRefundID})
	if err != nil {
		return fmt.Errorf("checking the refund: %w", err)
	}
	say("   GET payment_refund: refund %s is %s, finished at %s.", again.RefundNo, again.Status, again.FinishTime.Format("2006-01-02 15:04:05"))

	// 7. Declare the order to customs.
	decl, err := client.Declare(ctx, &hipopay.DeclarationRequest{
		OutOrderNo: order.OutTradeID, PaymentNo: payment.PaymentNo,
		Customs: hipopay.CustomsShenzhen, MchCustomsNo: "123456789BTW",
		SubOrderNo: "ORD-2026-0001-A", SubOrderAmount: "100.00", TransportAmount: "10.00", ProductAmount: "90.00",
	})
	if err != nil {
		return fmt.Errorf("declaring to customs: %w", err)
	}
	say("7. Declared to customs %s: %s.", decl.Customs, decl.State)
	decl, err = client.GetDeclaration(ctx, hipopay.DeclarationQuery{PaymentNo: payment.PaymentNo, Customs: hipopay.CustomsShenzhen})
	if err != nil {
		return fmt.Errorf("checking the declaration: %w", err)
	}
	say("   GET wechatpay/declaration: %s.", decl.State)

	// 8. Download, parse and reconcile today's reconciliation file.
	// From the day of the payment to now, both as days in UTC+8 (the
	// quick start may run across midnight in China).
	bill := &hipopay.BillRequest{StartDate: payment.TradeTime, EndDate: time.Now()}
	summary, err := hipopay.SummarizeBill(client.BillRecords(ctx, bill))
	if err != nil {
		return fmt.Errorf("reading the reconciliation file: %w", err)
	}
	say("8. The reconciliation file from %s:", payment.TradeTime.Format("2006-01-02"))
	for _, t := range summary.Totals {
		say("   %-26s %s: %d line(s), credit %s, debit %s, fees %s", t.Type, t.Currency, t.Count, t.Credit.Value, t.Debit.Value, t.ServiceFee.Value)
	}
	if err := explainLedger(say, summary); err != nil {
		return err
	}
	result, err := hipopay.Reconcile([]hipopay.ExpectedEntry{
		{Kind: hipopay.BillEntryPayment, HipoPayNo: payment.PaymentNo, OutID: payment.OutTradeID, Amount: "100.00", Currency: hipopay.HKD},
		{Kind: hipopay.BillEntryRefund, HipoPayNo: refund.RefundNo, Amount: "30.00", Currency: hipopay.HKD},
	}, client.BillRecords(ctx, bill))
	if err != nil {
		return fmt.Errorf("reconciling: %w", err)
	}
	say("   Reconciled with the shop's books: %d matched, %d missing, %d unexpected, %d differing: all agree = %v.",
		len(result.Matched), len(result.MissingInBill), len(result.UnexpectedInBill), len(result.Mismatched), result.OK())
	if !result.OK() {
		return fmt.Errorf("the reconciliation file does not match the shop's books")
	}
	say("\nDone. Point the same code at HipoPay's sandbox with hipopay.NewClient(merchantNo, key, hipopay.WithSandbox()).")
	return nil
}

// explainLedger says why the file's credit and debit are not the order's
// and the refund's amounts: HipoPay keeps a service fee on each collection
// (the fake: 1%), and a refund gives back the part of that fee it covers,
// so the balance moves by the refund less that part.
func explainLedger(say func(string, ...any), summary *hipopay.BillSummary) error {
	for _, t := range summary.Totals {
		switch t.Type {
		case hipopay.BillTypeCollection:
			say("   The collection of %s is credited less HipoPay's service fee of %s: %s.",
				t.TransactionAmount.Value, t.ServiceFee.Value, t.Credit.Value)
		case hipopay.BillTypeRefund:
			refunded, err := t.RefundAmount.Minor()
			if err != nil {
				return err
			}
			debited, err := t.Debit.Minor()
			if err != nil {
				return err
			}
			say("   The refund of %s is debited %s: HipoPay gives back the part of the service fee it covers (%s).",
				t.RefundAmount.Value, t.Debit.Value, minorText(refunded+debited))
		}
	}
	return nil
}

// minorText writes an amount of minor units with two decimals.
func minorText(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}
