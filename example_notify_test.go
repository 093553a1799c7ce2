package hipopay_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
)

func ExampleNewNotificationHandler() {
	// HipoPay's callback public key; a fake HipoPay's here, so that the
	// example can sign notifications. A Client embeds HipoPay's real keys
	// and asks HipoPay to confirm each payment (see
	// Client.NotificationHandler): prefer it.
	fake := hipopaytest.NewServer()
	defer fake.Close()
	handler := hipopay.NewNotificationHandler(fake.PublicKey(), func(ctx context.Context, n *hipopay.PaymentNotification) error {
		// Mark the order n.OutTradeID paid and commit. Return an error
		// only when a later delivery can succeed (the database is down):
		// HipoPay then delivers it again. When the order is unknown or
		// n.Amount or n.Currency do not match it, retries cannot help:
		// record it, alert someone, and return nil.
		fmt.Println("paid:", n.OutTradeID, n.Amount, n.Currency, "at", n.FinishTime.Format(time.DateTime))
		return nil
	})
	// In a server: mux.Handle("/hipopay/notify", handler)

	// A notification as HipoPay sends it.
	form := url.Values{
		"status": {"PAID"}, "trade_type": {"MINIPROGRA"}, "exchange_rate": {"1.0000000000"},
		"payment_no": {"2023111418154204114199308"}, "out_trade_id": {"201901021232211023"},
		"currency": {"HKD"}, "settle_currency": {"HKD"}, "amount": {"8.88"},
		"pay_currency": {"CNY"}, "pay_amount": {"7.83"},
		"trade_time": {"2023-11-14 18:15:42"}, "finish_time": {"2023-11-14 18:15:59"},
	}
	deliver := func(r *http.Request) {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	signed := func() *http.Request {
		r, err := hipopaytest.NewNotificationRequest(fake.PrivateKey(), "/hipopay/notify", form, "1700000123")
		if err != nil {
			log.Fatal(err)
		}
		return r
	}
	// HipoPay may deliver the same notification twice: the function runs
	// once, both deliveries are acknowledged.
	deliver(signed())
	deliver(signed())

	// A forged one is refused.
	forged := signed()
	form.Set("amount", "0.01")
	forged.Body = io.NopCloser(strings.NewReader(form.Encode()))
	deliver(forged)
	// Output:
	// paid: 201901021232211023 8.88 HKD at 2023-11-14 18:15:59
	// 200 success
	// 200 success
	// 401 Unauthorized
}

func ExampleClient_NotificationHandler() {
	// A fake HipoPay stands in for HipoPay; in production the client is
	// hipopay.NewClient(merchantNo, key), which verifies notifications
	// with HipoPay's embedded callback key.
	fake := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(10 * time.Millisecond))
	defer fake.Close()
	client := fake.Client()
	ctx := context.Background()

	paid := make(chan string, 1)
	handler := client.NotificationHandler(func(ctx context.Context, n *hipopay.PaymentNotification) error {
		// HipoPay confirmed the payment (GET payment) before this runs.
		// Look the order up by n.OutTradeID: when it is unknown or
		// n.Amount or n.Currency differ, record it, alert, return nil.
		// Otherwise mark it paid and commit; return an error only when a
		// later delivery can succeed (HipoPay then delivers again).
		paid <- fmt.Sprint(n.OutTradeID, " paid ", n.Amount, " ", n.Currency)
		return nil
	}, hipopay.WithMaxBodyBytes(64<<10))
	shop := httptest.NewServer(handler) // in a server: mux.Handle("/hipopay/notify", handler)
	defer shop.Close()

	order, err := client.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
		OutTradeID: "ORD-2026-0001", Amount: "100.00", Currency: hipopay.HKD, ProductInfo: "Matcha latte x2",
		AppID: "wx3zzzzzzz4", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", ClientIP: "203.0.113.9",
		NotifyURL: shop.URL + "/hipopay/notify",
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := fake.Pay(order.PaymentNo); err != nil { // the buyer pays
		log.Fatal(err)
	}
	fmt.Println(<-paid)
	if err := fake.WaitDelivered(ctx, order.PaymentNo); err != nil {
		log.Fatal(err)
	}
	d := fake.Deliveries(order.PaymentNo)[0]
	fmt.Println("HipoPay got:", d.StatusCode, d.Body)
	// Output:
	// ORD-2026-0001 paid 100.00 HKD
	// HipoPay got: 200 success
}
