package hipopay_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
)

// The to-be-signed string of a request: the parameters sorted by name,
// values encoded by HipoPay's documented rule (only A-Z a-z 0-9 _ . - kept,
// so ~ is %7E), then a comma and the Timestamp header.
func ExampleStringToSign() {
	// The parameters of placing an order.
	params := url.Values{}
	params.Set("merchant_no", "WC8888888888888")
	params.Set("out_trade_id", "201901021232211023")
	params.Set("amount", "8.88")
	params.Set("currency", "HKD")
	params.Set("product_info", "Hipopay - product for test")
	params.Set("appid", "wx3zzzzzzz4")
	params.Set("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
	params.Set("client_ip", "10.129.35.61")
	params.Set("notify_url", "https://merchant.example/hipopay/notify?src=mini")

	fmt.Println(hipopay.StringToSign(params, "1550548767"))
	// Output:
	// amount=8.88&appid=wx3zzzzzzz4&client_ip=10.129.35.61&currency=HKD&merchant_no=WC8888888888888&notify_url=https%3A%2F%2Fmerchant.example%2Fhipopay%2Fnotify%3Fsrc%3Dmini&openid=oUpF8uMuAJO_M2pxb1Q9zNjWeS6o&out_trade_id=201901021232211023&product_info=Hipopay%20-%20product%20for%20test,1550548767
}

// Signing a request by hand, as the Client does for every call: the
// signature goes in the Signature header, next to MerchantNO, Version and
// Timestamp. RSA PKCS#1 v1.5 is deterministic: the same key and string
// always give the same signature.
func ExampleSigner_Sign() {
	// In production: key, err := hipopay.LoadPrivateKey("private.key").
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := hipopay.NewSigner(key)
	if err != nil {
		log.Fatal(err) // a nil key or one under 2048 bits
	}
	params := url.Values{}
	params.Set("payment_no", "2019021911592704114199308")
	params.Set("out_refund_id", "REF-1")
	params.Set("refund_amount", "1.00")

	signature, err := signer.Sign(params, "1550548767")
	if err != nil {
		log.Fatal(err)
	}
	again, _ := signer.Sign(params, "1550548767")
	fmt.Println("same signature again:", again == signature)

	// What HipoPay checks, with the public half you sent it.
	fmt.Println("verifies:", hipopay.VerifyRequestSignature(&key.PublicKey, params, "1550548767", signature) == nil)
	params.Set("refund_amount", "100.00")
	fmt.Println("verifies another amount:", hipopay.VerifyRequestSignature(&key.PublicKey, params, "1550548767", signature) == nil)
	// Output:
	// same signature again: true
	// verifies: true
	// verifies another amount: false
}

func ExampleClient_GetPayment() {
	// A stand-in for HipoPay answering with the reference's example, one
	// of hipopaytest's canned answers.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, hipopaytest.PaymentPaidJSON)
	}))
	defer srv.Close()

	// In production: key, err := hipopay.LoadPrivateKey("private.key").
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	// Without WithBaseURL the client calls HipoPay's production API.
	client, err := hipopay.NewClient("WC8888888888888", key, hipopay.WithBaseURL(srv.URL+"/"))
	if err != nil {
		log.Fatal(err)
	}

	p, err := client.GetPayment(context.Background(), hipopay.PaymentQuery{OutTradeID: "2746847384112837273872"})
	if err != nil {
		// errors.Is(err, hipopay.ErrPaymentNotFound) for an unknown payment.
		log.Fatal(err)
	}
	fmt.Println(p.PaymentNo, p.Status, p.Status == hipopay.PaymentStatusPaid)
	fmt.Println(p.Amount, p.Currency, "at", p.ExchangeRate)
	fmt.Println(p.TradeTime.Format(time.RFC3339))        // HipoPay's times are in UTC+8
	fmt.Println(p.TradeTime.UTC().Format(time.DateTime)) // the same instant in UTC
	// Output:
	// 2018071823332342210483065 PAID true
	// 0.02 HKD at 0.881890
	// 2018-07-18T23:33:23+08:00
	// 2018-07-18 15:33:23
}

// The Huangpu and Nansha inspection bureaus need the declaration pushed to
// GUANGZHOU_ZS as well: declare once per code, in this order.
func ExampleCustomsCode_UnifiedDeclaration() {
	for _, customs := range []hipopay.CustomsCode{hipopay.CustomsGuangzhouHPGJ, hipopay.CustomsGuangzhouNSGJ, hipopay.CustomsShenzhen} {
		fmt.Println(customs, "->", customs.UnifiedDeclaration())
		// for _, code := range customs.UnifiedDeclaration() {
		//	req.Customs = code
		//	decl, err := client.Declare(ctx, req)
		//	...
		// }
	}
	// Output:
	// GUANGZHOU_HP_GJ -> [GUANGZHOU_ZS GUANGZHOU_HP_GJ]
	// GUANGZHOU_NS_GJ -> [GUANGZHOU_ZS GUANGZHOU_NS_GJ]
	// SHENZHEN -> [SHENZHEN]
}

// The mini-program opens WeChat's payment sheet with wx.requestPayment and
// the object RequestPayment returns, sent to it as JSON.
func ExamplePrepayParams_RequestPayment() {
	// PlaceOrder's answer carries the prepay parameters.
	prepay := &hipopay.PrepayParams{
		NonceStr:  "572666791269",
		OrderNo:   "2019021911592704114199308",
		PaySign:   "466790B2486C24F2DE0BD4C77C7D22AB",
		PrepayID:  "wx19115928908673c06a1d48960711201017",
		TimeStamp: "1550548767",
	}
	b, err := json.MarshalIndent(prepay.RequestPayment(), "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output:
	// {
	//   "timeStamp": "1550548767",
	//   "nonceStr": "572666791269",
	//   "package": "prepay_id=wx19115928908673c06a1d48960711201017",
	//   "signType": "MD5",
	//   "paySign": "466790B2486C24F2DE0BD4C77C7D22AB"
	// }
}
