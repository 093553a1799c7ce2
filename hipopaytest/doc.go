// Package hipopaytest is a fake HipoPay for tests, in the spirit of
// net/http/httptest: a stateful, in-process HipoPay on a local HTTP server
// that merchants (and this SDK's own tests and examples) run their
// integration against.
//
//	srv := hipopaytest.NewServer()
//	defer srv.Close()
//	client := srv.Client() // a *hipopay.Client wired to srv
//
//	p, err := client.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{..., NotifyURL: merchantServer.URL + "/notify"})
//	err = srv.Pay(p.PaymentNo)                   // the buyer pays: PAID, notification sent
//	err = srv.WaitDelivered(ctx, p.PaymentNo)    // the merchant's handler answered "success"
//
// What it does, like HipoPay:
//
//   - Every request's headers (MerchantNO, Version, Timestamp, Signature)
//     and RSA signature are verified with the merchant's registered public
//     key over exactly the parameters received (a POST body form-urlencoded
//     or multipart/form-data, as HipoPay's PHP SDK sends it). A missing
//     header, an unknown merchant, a wrong Version (1.0 everywhere, 3.0
//     for download_bill) or a signature that does not verify answers
//     ILLEGAL_SECURITY_PROFILE.
//     Then a parameter the endpoint does not document answers
//     INVALID_PARAMETER, so a client sending more than the reference
//     lists is caught.
//   - Every endpoint is served with its documented fields and errors:
//     orders of every payment method, each on its own path with its exact
//     parameter set (INIT until Pay, USERPAYING for a barcode, then PAID;
//     EXPIRED after WithOrderExpiry; the method's answer field and trade
//     type are the fake's assumption, see methods.go), payment queries,
//     reference forex rates for the 11 documented currencies (WeChat's and
//     Alipay's), refunds with the reference's result codes, refund
//     queries, WeChat and Alipay customs declarations whose state moves on
//     query (see WithDeclarationStates), re-declarations, and the
//     reconciliation file made from the server's own ledger.
//   - Pay sends the signed payment notification to the order's notify_url,
//     with the fields and formats of HipoPay's own notifications
//     (exchange_rate to the settlement currency, WithSettleCurrency;
//     pay_amount in CNY), and re-sends it on HipoPay's schedule
//     (WithRetryIntervals) until the answer is HTTP 200 with the body
//     "success". Deliveries are recorded (Deliveries, WaitDelivered). For
//     an HTTPS notify_url with a test certificate, deliver with its client
//     (WithNotifyClient).
//
// For resilience tests it injects faults: SetLatency, FailNext, DropNext
// and LoseNextAnswer. For unit tests that mock HTTP instead (httpmock), the
// *JSON constants hold realistic canned answers of every endpoint, and
// NewNotificationRequest builds a signed notification for a merchant's own
// handler.
//
// Where HipoPay's reference is silent the fake makes a documented choice
// and, for failures the reference has no code for, answers with its own
// codes (CodeInvalidParameter, CodePaymentNotPaid, ...). Business errors
// are answered with HTTP 200 and {"is_success": false, ...}, as HipoPay's
// examples show.
//
// The fake never logs; it keeps no buyer identity (a declaration's cert_id
// and name are only checked for presence) and never repeats a Signature.
package hipopaytest
