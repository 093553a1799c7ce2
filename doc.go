// Package hipopay is a Go client for HipoPay, the cross-border gateway
// through which overseas merchants take WeChat Pay and Alipay from Chinese
// customers: in WeChat mini-programs, official accounts and apps, on web
// pages (QR codes, Alipay's web and WAP pages) and at the till (barcodes).
//
// It places orders, checks payments, refunds, declares to customs, reads
// the reconciliation file, and verifies HipoPay's signed payment
// notifications, processing each payment exactly once. Every request is
// signed (RSA PKCS#1 v1.5 over SHA-256 of HipoPay's canonical string, values
// percent-encoded by HipoPay's documented rule); every answer is decoded
// into typed results and typed errors.
//
// # Quick start
//
//	key, err := hipopay.LoadPrivateKey("private.key") // openssl genrsa -out private.key 2048
//	if err != nil { ... }
//	client, err := hipopay.NewClient("WC8888888888888", key, hipopay.WithSandbox())
//	if err != nil { ... }
//
//	payment, err := client.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
//		OutTradeID:  "ORD-1001",
//		Amount:      "8.88",
//		Currency:    hipopay.HKD,
//		ProductInfo: "Matcha latte",
//		AppID:       "wx3zzzzzzz4",
//		OpenID:      openID,
//		ClientIP:    "203.0.113.9",
//		NotifyURL:   "https://shop.example/hipopay/notify",
//	})
//	if err != nil { ... }
//	// Give payment.PrepayParams.RequestPayment() to wx.requestPayment.
//
//	http.Handle("/hipopay/notify", client.NotificationHandler(
//		func(ctx context.Context, n *hipopay.PaymentNotification) error {
//			return orders.MarkPaid(ctx, n.OutTradeID, n.PaymentNo) // runs once per payment
//		})) // verified, then confirmed with HipoPay (GET payment) before fn runs
//
// # Payment methods
//
// PlaceOrderRequest.Method picks the endpoint ([PaymentMethods] lists the
// fourteen; the zero value is [WeChatMiniProgram]); each method takes its
// own fields, checked before sending. What an answer gives the front end
// is typed where a source attests it ([Payment] PrepayParams, JSParams,
// QRCodeURL, PayURL) and is always in Payment.Raw. [Client.WaitForPayment]
// polls a barcode payment until the buyer confirms; [Client.Call] sends
// an endpoint the SDK does not type yet.
//
// # Signing
//
// Values are percent-encoded by HipoPay's documented rule (Python 2's
// urllib.quote(v, safe="")): only A-Z a-z 0-9 _ . - are kept, so '~' is
// %7E. RFC 3986 servers (PHP's rawurlencode, Node's encodeURIComponent)
// keep '~' raw, and nobody outside HipoPay knows which its servers use, so
// a request with '~' that HipoPay refuses (ILLEGAL_SECURITY_PROFILE) is
// signed once more with '~' raw; the rule HipoPay accepts is kept for the
// client's lifetime. See SECURITY.md for the threat model.
//
// # Errors
//
// Input is validated before any network call: a bad field is a
// *ValidationError naming it (errors.Is(err, ErrInvalidRequest)). HipoPay's
// refusals are *APIError, matched by code with errors.Is against
// ErrPaymentNotFound, ErrRefundNotFound, ErrCurrencyNotSupported,
// ErrForexMerchantNotSupportThisCurrency, ErrRefundAmountInvalid and
// ErrIllegalSecurityProfile. A bad notification signature matches
// ErrInvalidSignature.
//
// # Retries
//
// Reads and refunds (idempotent through out_refund_id) are retried on
// network errors, HTTP 429 and 5xx, with exponential backoff and jitter,
// within the caller's context deadline (WithMaxRetries). Placing an order
// and the customs calls are never re-sent once they may have reached
// HipoPay.
//
// # Times and amounts
//
// HipoPay's times are China Standard Time (UTC+8); the SDK returns them as
// time.Time in that zone. Amounts stay exact decimal strings.
//
// # Testing
//
// Package [github.com/hipopay-go/hipopay/hipopaytest] is a stateful fake
// HipoPay to run an integration against, in process: it verifies request
// signatures, keeps orders, refunds and declarations, and signs and re-sends
// notifications. The examples of this package run against it.
package hipopay
