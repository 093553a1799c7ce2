package hipopay_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/hipopay-go/hipopay"
)

func ExampleNewNotificationHandler() {
	// HipoPay's callback public key. A Client embeds HipoPay's real keys
	// (see Client.NotificationHandler); this example uses a test key.
	pub, err := hipopay.LoadPublicKey("testdata/fake_hipopay_public.pem")
	if err != nil {
		log.Fatal(err)
	}
	handler := hipopay.NewNotificationHandler(pub, func(ctx context.Context, n *hipopay.PaymentNotification) error {
		// Mark the order n.OutTradeID paid and commit. Return an error
		// only when a later delivery can succeed (the database is down):
		// HipoPay then delivers it again. When n.Amount or n.Currency do
		// not match the order, retries cannot help: record it, alert
		// someone, and return nil.
		fmt.Println("paid:", n.OutTradeID, n.Amount, n.Currency, "at", n.FinishTime.Format(time.DateTime))
		return nil
	})
	// In a server: mux.Handle("/hipopay/notify", handler)

	// A notification as HipoPay sends it, signed with the test key.
	form := url.Values{
		"status": {"PAID"}, "trade_type": {"MINIPROGRAM"}, "exchange_rate": {"0.881890"},
		"payment_no": {"2023111418154204114199308"}, "out_trade_id": {"201901021232211023"},
		"currency": {"HKD"}, "settle_currency": {"HKD"}, "amount": {"8.88"},
		"pay_currency": {"CNY"}, "pay_amount": {"7.83"},
		"trade_time": {"2023-11-14 18:15:42"}, "finish_time": {"2023-11-14 18:15:59"},
	}
	const signature = "hj4LnDuYTh8ietSCODtI+x/1CTgiD06ykw966rQ5Fhoun5ktrQQqMsDdCwyriRqXLys1d+LMijgKyJoNVvIX8wNqsb+9R7LjBK16I4fnMdkbYg+OoR1PIutZdFTYiIjftsobXlRRBwCgosOLjzf3Y6rVFVgxGYEvgqpvz/lqkGdxz1vhmMNkBo1pZg0d9FF+IRiEY/e/o5wJuJPS3WMuovBPb1k2jh3jY0Xdo2PRDMiia+tjfdwuvPGHaS7q6b64uEkZ3Tj/L6d4sgLf4m1KgUgbRGYVN9/AVQ6D+j4RYOBf8BgmnGJVnNVieOKr8lF+xIH4/f9hWw2bR8jXZRU9hQ=="

	// HipoPay may deliver the same notification twice: the function runs
	// once, both deliveries are acknowledged. A forged one is refused.
	for _, sig := range []string{signature, signature, "Zm9yZ2Vk"} {
		r := httptest.NewRequest(http.MethodPost, "/hipopay/notify", strings.NewReader(form.Encode()))
		r.Header.Set("Timestamp", "1700000123")
		r.Header.Set("Signature", sig)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// paid: 201901021232211023 8.88 HKD at 2023-11-14 18:15:59
	// 200 success
	// 200 success
	// 401 Unauthorized
}

func ExampleClient_NotificationHandler() {
	key, err := hipopay.LoadPrivateKey("testdata/merchant_private_pkcs8.pem")
	if err != nil {
		log.Fatal(err)
	}
	// The client verifies notifications with HipoPay's embedded callback
	// key (the sandbox one with WithSandbox).
	client, err := hipopay.NewClient("1000001", key, hipopay.WithSandbox())
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/hipopay/notify", client.NotificationHandler(
		func(ctx context.Context, n *hipopay.PaymentNotification) error {
			// Mark the order paid; return nil only once committed.
			return nil
		},
		hipopay.WithMaxBodyBytes(64<<10),
	))
	_ = http.ListenAndServe // srv := &http.Server{Addr: ":8080", Handler: mux}; srv.ListenAndServe()
}
