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

// A web-shop checkout with WeChat Pay: the order's QR code is shown on the
// page, the buyer scans it and pays in WeChat, and the shop learns of it
// (here by polling; in production by the notification too). Against the
// fake HipoPay, whose qrcode_url is its own assumption: HipoPay's name for
// the field is not documented, so read Payment.Raw when QRCodeURL is empty.
func ExampleClient_PlaceOrder_qrCode() {
	fake := hipopaytest.NewServer()
	defer fake.Close()
	client := fake.Client()
	ctx := context.Background()

	p, err := client.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
		Method:      hipopay.WeChatWebQR,
		OutTradeID:  "ORD-2001",
		Amount:      "25.00",
		Currency:    hipopay.HKD,
		ProductInfo: "Matcha tasting set",
		ClientIP:    "203.0.113.9",
		NotifyURL:   "https://shop.example/hipopay/notify",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status, p.TradeType)
	fmt.Println("show as a QR code:", strings.HasPrefix(p.QRCodeURL, "weixin://wxpay/bizpayurl?pr="))

	if err := fake.Pay(p.PaymentNo); err != nil { // the buyer scans and pays
		log.Fatal(err)
	}
	paid, err := client.WaitForPayment(ctx, hipopay.PaymentQuery{OutTradeID: "ORD-2001"}, time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(paid.Status, paid.Amount, paid.Currency)
	// Output:
	// INIT NATIVE
	// show as a QR code: true
	// PAID 25.00 HKD
}

// A till scans the buyer's Alipay payment code: the payment is USERPAYING
// until the buyer confirms on the phone, so the till waits for it with
// WaitForPayment, bounded by a context.
func ExampleClient_PlaceOrder_barcode() {
	fake := hipopaytest.NewServer()
	defer fake.Close()
	client := fake.Client()

	p, err := client.PlaceOrder(context.Background(), &hipopay.PlaceOrderRequest{
		Method:      hipopay.AlipayBarcode,
		OutTradeID:  "TILL-7-0042",
		Amount:      "38.50",
		Currency:    hipopay.HKD,
		ProductInfo: "2 x Matcha latte",
		ClientIP:    "203.0.113.20",
		AuthCode:    "286801234567890123", // what the scanner read
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status)

	// The buyer confirms on the phone a moment later.
	time.AfterFunc(50*time.Millisecond, func() { _ = fake.Pay(p.PaymentNo) })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	paid, err := client.WaitForPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo}, 20*time.Millisecond)
	if err != nil {
		log.Fatal(err) // ctx ended: paid is the last payment seen, still USERPAYING
	}
	fmt.Println(paid.Status, paid.Amount, paid.Currency)
	// Output:
	// USERPAYING
	// PAID 38.50 HKD
}
