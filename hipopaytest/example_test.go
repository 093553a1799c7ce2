package hipopaytest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
)

// A merchant's integration test: place an order, let the buyer pay, and
// receive the signed notification.
func ExampleNewServer() {
	srv := hipopaytest.NewServer()
	defer srv.Close()
	client := srv.Client()

	// The merchant's notify_url: verify, then acknowledge with "success".
	notify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := parseForm(body)
		if err := hipopay.VerifyNotificationSignature(srv.PublicKey(), form, r.Header.Get("Timestamp"), r.Header.Get("Signature")); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("notified:", form.Get("out_trade_id"), form.Get("status"))
		_, _ = io.WriteString(w, "success")
	}))
	defer notify.Close()

	ctx := context.Background()
	p, err := client.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
		OutTradeID: "ORDER-1", Amount: "8.88", Currency: hipopay.HKD, ProductInfo: "Matcha latte",
		AppID: "wx3zzzzzzz4", OpenID: "o-abc", ClientIP: "203.0.113.9", NotifyURL: notify.URL,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("placed:", p.Status)

	if err := srv.Pay(p.PaymentNo); err != nil {
		panic(err)
	}
	if err := srv.WaitDelivered(ctx, p.PaymentNo); err != nil {
		panic(err)
	}
	p, err = client.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: "ORDER-1"})
	if err != nil {
		panic(err)
	}
	fmt.Println("queried:", p.Status, p.ExchangeRate)
	// Output:
	// placed: INIT
	// notified: ORDER-1 PAID
	// queried: PAID 1.0000000000
}

// A resilience test: HipoPay's gateway fails twice, the SDK retries.
func ExampleServer_FailNext() {
	srv := hipopaytest.NewServer()
	defer srv.Close()
	srv.FailNext("GET wechatpay/forex_rate", http.StatusServiceUnavailable, 2)

	rate, err := srv.Client().GetForexRate(context.Background(), hipopay.HKD)
	fmt.Println(rate.Currency, err, srv.Calls("GET wechatpay/forex_rate"))
	// Output: HKD <nil> 3
}

// A notify_url served over HTTPS with a test certificate: the fake
// delivers with the TLS server's client, which trusts it.
func ExampleWithNotifyClient() {
	// The handler verifies with the key the fake signs with: choose it
	// before the fake exists.
	hipopayKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	notify := httptest.NewTLSServer(hipopay.NewNotificationHandler(&hipopayKey.PublicKey,
		func(_ context.Context, n *hipopay.PaymentNotification) error {
			fmt.Println("notified over HTTPS:", n.OutTradeID, n.Status)
			return nil
		}))
	defer notify.Close()

	srv := hipopaytest.NewServer(hipopaytest.WithHipoPayKey(hipopayKey), hipopaytest.WithNotifyClient(notify.Client()))
	defer srv.Close()
	ctx := context.Background()
	p, err := srv.Client().PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
		OutTradeID: "ORDER-TLS", Amount: "8.88", Currency: hipopay.HKD, ProductInfo: "Matcha latte",
		AppID: "wx3zzzzzzz4", OpenID: "o-abc", ClientIP: "203.0.113.9", NotifyURL: notify.URL + "/notify",
	})
	if err != nil {
		panic(err)
	}
	if err := srv.Pay(p.PaymentNo); err != nil {
		panic(err)
	}
	fmt.Println(srv.WaitDelivered(ctx, p.PaymentNo))
	// Output:
	// notified over HTTPS: ORDER-TLS PAID
	// <nil>
}

func parseForm(body []byte) (url.Values, error) { return url.ParseQuery(string(body)) }
