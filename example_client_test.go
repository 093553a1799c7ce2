package hipopay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/jarcoal/httpmock"
)

// A client for one merchant: its number, its private key, and options. Here
// it calls a fake HipoPay that knows the merchant; in production, drop
// WithBaseURL and WithHipoPayPublicKey (or use WithSandbox).
func ExampleNewClient() {
	// In production: key, err := hipopay.LoadPrivateKey("private.key"),
	// the key whose public half you sent HipoPay.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	fake := hipopaytest.NewServer(hipopaytest.WithMerchant("WC8888888888888", key))
	defer fake.Close()

	client, err := hipopay.NewClient("WC8888888888888", key,
		hipopay.WithBaseURL(fake.URL),                  // default: hipopay.ProductionBaseURL
		hipopay.WithHipoPayPublicKey(fake.PublicKey()), // default: HipoPay's embedded callback key
		hipopay.WithMaxRetries(3),                      // GETs and refunds; default 2
	)
	if err != nil {
		log.Fatal(err) // a nil key, one under 2048 bits, an invalid option
	}
	rate, err := client.GetForexRate(context.Background(), hipopay.USD)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("1 CNY =", rate.Rate, rate.Currency) // exact decimal text, as HipoPay sends it
	// Output:
	// 1 CNY = 0.1490046489450470854690666349 USD
}

// Unit tests with httpmock: activate it on the *http.Client given to the
// SDK with WithHTTPClient, and answer with hipopaytest's canned bodies.
func ExampleClient_GetPayment_httpmock() {
	hc := &http.Client{}
	httpmock.ActivateNonDefault(hc)
	defer httpmock.DeactivateNonDefault(hc)
	mock := httpmock.DefaultTransport
	defer mock.Reset()
	mock.RegisterResponder(http.MethodGet, hipopay.ProductionBaseURL+"payment",
		httpmock.NewStringResponder(http.StatusOK, hipopaytest.PaymentNotFoundJSON))

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	client, err := hipopay.NewClient("WC8888888888888", key, hipopay.WithHTTPClient(hc))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.GetPayment(context.Background(), hipopay.PaymentQuery{OutTradeID: "ORDER-1"})
	fmt.Println(errors.Is(err, hipopay.ErrPaymentNotFound))
	fmt.Println(mock.GetCallCountInfo()["GET "+hipopay.ProductionBaseURL+"payment"], "call, nothing sent to HipoPay")
	// Output:
	// true
	// 1 call, nothing sent to HipoPay
}
