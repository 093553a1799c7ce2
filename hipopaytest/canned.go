// Canned answers of every endpoint, for merchants who unit-test with an
// HTTP mock (httpmock, a RoundTripper of their own) instead of a running
// fake: the reference's examples made valid JSON, and the documented
// errors.

package hipopaytest

import "net/http"

// Canned answers of POST wechatpay/mini_program/payment.
const (
	// PlaceOrderSuccessJSON is the reference's example answer (values
	// verbatim, including its "MINIPROGRA" trade type).
	PlaceOrderSuccessJSON = `{
  "is_success": true,
  "response": {
    "amount": "0.10",
    "currency": "HKD",
    "exchange_rate": "0.881890",
    "out_trade_id": "d2849e8140a6",
    "payment_no": "2018081316331654230251111",
    "status": "INIT",
    "product_info": "Wechat Mini Program Pay",
    "trade_time": "2018-08-13 16:33:16",
    "finish_time": "2018-08-13 16:33:16",
    "trade_type": "MINIPROGRA",
    "prepay_params": {
      "nonceStr": "572666791269",
      "order_no": "2019021911592704114199308",
      "paySign": "466790B2486C24F2DE0BD4C77C7D22AB",
      "prepay_id": "wx19115928908673c06a1d48960711201017",
      "timeStamp": "1550548767"
    }
  }
}`
	// PlaceOrderCurrencyNotSupportedJSON: the merchant cannot price
	// orders in that currency (hipopay.ErrForexMerchantNotSupportThisCurrency).
	PlaceOrderCurrencyNotSupportedJSON = `{
  "is_success": false,
  "error": "FOREX_MERCHANT_NOT_SUPPORT_THIS_CURRENCY",
  "error_message": "This currency is not supported"
}`
)

// IllegalSecurityProfileJSON is every endpoint's answer to a bad or
// missing signature, missing headers or an unknown merchant
// (hipopay.ErrIllegalSecurityProfile).
const IllegalSecurityProfileJSON = `{
  "is_success": false,
  "error": "ILLEGAL_SECURITY_PROFILE",
  "error_message": "This encryption method is not supported"
}`

// Canned answers of GET payment.
const (
	// PaymentPaidJSON is the reference's example answer: a PAID payment.
	PaymentPaidJSON = `{
  "is_success": true,
  "response": {
    "amount": "0.02",
    "currency": "HKD",
    "exchange_rate": "0.881890",
    "out_trade_id": "2746847384112837273872",
    "payment_no": "2018071823332342210483065",
    "status": "PAID",
    "product_info": "Alipay App Pay",
    "trade_time": "2018-07-18 23:33:23",
    "trade_type": "APP"
  }
}`
	// PaymentInitJSON is a payment not paid yet (the order of
	// PlaceOrderSuccessJSON).
	PaymentInitJSON = `{
  "is_success": true,
  "response": {
    "amount": "0.10",
    "currency": "HKD",
    "out_trade_id": "d2849e8140a6",
    "payment_no": "2018081316331654230251111",
    "status": "INIT",
    "product_info": "Wechat Mini Program Pay",
    "trade_time": "2018-08-13 16:33:16",
    "trade_type": "MINIPROGRAM"
  }
}`
	// PaymentNotFoundJSON: no such payment (hipopay.ErrPaymentNotFound).
	PaymentNotFoundJSON = `{
  "is_success": false,
  "error": "PAYMENT_NOT_FOUND",
  "error_message": "Order not found"
}`
)

// Canned answers of GET wechatpay/forex_rate.
const (
	// ForexRateSuccessJSON is the reference's example answer for USD.
	ForexRateSuccessJSON = `{
  "is_success": true,
  "response": {
    "currency": "USD",
    "forex_rate": "0.1490046489450470854690666349"
  }
}`
	// CurrencyNotSupportedJSON: HipoPay has no rate for that currency
	// (hipopay.ErrCurrencyNotSupported).
	CurrencyNotSupportedJSON = `{
  "is_success": false,
  "error": "CURRENCY_NOT_SUPPORT",
  "error_message": "This currency is not supported"
}`
)

// Canned answers of POST payment_refund. A refused refund is still
// is_success true: its status is FAIL and result_code says why.
const (
	// RefundSuccessJSON is a successful refund (result code 0000) of
	// R201637473637452, the refund of RefundQuerySuccessJSON.
	RefundSuccessJSON = `{
  "is_success": true,
  "response": {
    "fail_message": "",
    "finish_time": "2021-12-23 19:22:14",
    "out_refund_id": "R201637473637452",
    "payment_no": "2637473637382",
    "refund_amount": "8.88",
    "refund_no": "2637473637452",
    "result_code": "0000",
    "status": "SUCCESS"
  },
  "return_message": "OK"
}`
	// RefundFailedJSON is the reference's example answer: a refund
	// refused with result code 0011 (settled balance not enough).
	RefundFailedJSON = `{
  "is_success": true,
  "response": {
    "fail_message": "Settled Balance Not Enough",
    "finish_time": "2021-12-23 16:42:34",
    "out_refund_id": "R201901021232213",
    "payment_no": "2637473637382",
    "refund_amount": "8.88",
    "refund_no": "2637473637452",
    "result_code": "0011",
    "status": "FAIL"
  },
  "return_message": "OK"
}`
	// RefundAlreadyExistsJSON: out_refund_id R201637473637452 was used
	// before (result code 0001). The SDK's Refund then fetches that refund
	// (GET payment_refund: register RefundQuerySuccessJSON too).
	RefundAlreadyExistsJSON = `{
  "is_success": true,
  "response": {
    "fail_message": "Refund R201637473637452 Already Exists.",
    "finish_time": "2021-12-23 19:25:40",
    "out_refund_id": "R201637473637452",
    "payment_no": "2637473637382",
    "refund_amount": "8.88",
    "refund_no": "2637473637452",
    "result_code": "0001",
    "status": "FAIL"
  },
  "return_message": "OK"
}`
	// RefundRefundableNotEnoughJSON: more than what is left to refund
	// (result code 0008).
	RefundRefundableNotEnoughJSON = `{
  "is_success": true,
  "response": {
    "fail_message": "Payment refundable not enough.",
    "finish_time": "2021-12-23 19:30:02",
    "out_refund_id": "R201637473637999",
    "payment_no": "2637473637382",
    "refund_amount": "100.00",
    "refund_no": "2637473637999",
    "result_code": "0008",
    "status": "FAIL"
  },
  "return_message": "OK"
}`
	// RefundPaymentNotFoundJSON: no payment 2637473637382 to refund
	// (result code 0002).
	RefundPaymentNotFoundJSON = `{
  "is_success": true,
  "response": {
    "fail_message": "payment 2637473637382 Not Found.",
    "finish_time": "2021-12-23 19:31:15",
    "out_refund_id": "R201637473638001",
    "payment_no": "2637473637382",
    "refund_amount": "8.88",
    "refund_no": "2637473638001",
    "result_code": "0002",
    "status": "FAIL"
  },
  "return_message": "OK"
}`
	// RefundPaymentNotPaidJSON: the payment is not paid (yet), e.g. still
	// INIT (result code 0004).
	RefundPaymentNotPaidJSON = `{
  "is_success": true,
  "response": {
    "fail_message": "Payment not paid yet.",
    "finish_time": "2021-12-23 19:32:40",
    "out_refund_id": "R201637473638002",
    "payment_no": "2637473637382",
    "refund_amount": "8.88",
    "refund_no": "2637473638002",
    "result_code": "0004",
    "status": "FAIL"
  },
  "return_message": "OK"
}`
	// RefundFullyRefundedJSON: nothing is left to refund (result code
	// 0006).
	RefundFullyRefundedJSON = `{
  "is_success": true,
  "response": {
    "fail_message": "Payment full refunded.",
    "finish_time": "2021-12-23 19:34:08",
    "out_refund_id": "R201637473638003",
    "payment_no": "2637473637382",
    "refund_amount": "8.88",
    "refund_no": "2637473638003",
    "result_code": "0006",
    "status": "FAIL"
  },
  "return_message": "OK"
}`
	// RefundAmountNotPositiveJSON: refund_amount is zero or negative
	// (result code 0009; the SDK refuses to send such an amount).
	RefundAmountNotPositiveJSON = `{
  "is_success": true,
  "response": {
    "fail_message": "refund amount must more than zero.",
    "finish_time": "2021-12-23 19:35:51",
    "out_refund_id": "R201637473638004",
    "payment_no": "2637473637382",
    "refund_amount": "0",
    "refund_no": "2637473638004",
    "result_code": "0009",
    "status": "FAIL"
  },
  "return_message": "OK"
}`
	// RefundAmountInvalidJSON: refund_amount is malformed
	// (hipopay.ErrRefundAmountInvalid).
	RefundAmountInvalidJSON = `{
  "is_success": false,
  "error": "REFUND_AMOUNT_INVALID",
  "error_message": "Refund amount is invalid"
}`
)

// Canned answers of GET payment_refund.
const (
	// RefundQuerySuccessJSON is the reference's example answer.
	RefundQuerySuccessJSON = `{
  "is_success": true,
  "response": {
    "finish_time": "2021-12-23 19:22:14",
    "out_refund_id": "R201637473637452",
    "payment_no": "2637473637382",
    "refund_amount": "8.88",
    "refund_no": "2637473637452",
    "result_code": "0000",
    "status": "SUCCESS"
  },
  "return_message": "OK"
}`
	// RefundNotFoundJSON: no such refund (hipopay.ErrRefundNotFound).
	RefundNotFoundJSON = `{
  "is_success": false,
  "error": "REFUND_NOT_FOUND",
  "error_message": "Refund order not found"
}`
)

// Canned answers of the customs calls, built around the reference's
// raw_response example (a JSON document inside a string).
const (
	// DeclarationSuccessJSON answers POST wechatpay/declaration.
	DeclarationSuccessJSON = `{
  "is_success": true,
  "response": {
    "out_order_no": "18051893975650968",
    "payment_no": "201904xxxxxxx26156",
    "customs": "SHENZHEN",
    "wechatpay_no": "4200xxxxxxxx665",
    "state": "UNDECLARED",
    "modify_time": "2019-04-03 17:17:04",
    "ver_dept": "NETSUNION",
    "pay_transaction_id": "4200xxxxxxxx665",
    "sub_order_no": "XXXXX",
    "sub_order_amount": "46.44",
    "transport_amount": "23.22",
    "product_amount": "23.22",
    "cert_check_result": "SAME",
    "raw_response": "{\"modify_time\": \"20190403171704\", \"state\": \"UNDECLARED\", \"cert_check_result\": \"SAME\", \"transaction_id\": \"4200xxxxxxxx665\", \"return_code\": \"SUCCESS\", \"return_msg\": \"成功\", \"sign\": \"23XxXxXxXx78E\", \"sub_order_id\": \"42000002XXXXX8166500\", \"mch_id\": \"1517456621\", \"out_trade_no\": \"201904xxxxxxx26156\", \"err_code_des\": \"OK\", \"appid\": \"wx3zzzzzzz4\", \"sub_order_no\": \"XXXXX\", \"verify_department_trade_id\": \"42000002XXXXX8166500\", \"verify_department\": \"NETSUNION\", \"result_code\": \"SUCCESS\", \"err_code\": \"0\"}"
  }
}`
	// RedeclarationSuccessJSON answers POST wechatpay/redeclaration.
	RedeclarationSuccessJSON = `{
  "is_success": true,
  "response": {
    "out_order_no": "18051893975650968",
    "payment_no": "201904xxxxxxx26156",
    "customs": "SHENZHEN",
    "wechatpay_no": "4200xxxxxxxx665",
    "state": "SUBMITTED",
    "modify_time": "2019-04-04 09:12:45",
    "explanation": ""
  }
}`
	// DeclarationQuerySuccessJSON answers GET wechatpay/declaration: the
	// declaration succeeded.
	DeclarationQuerySuccessJSON = `{
  "is_success": true,
  "response": {
    "out_order_no": "18051893975650968",
    "payment_no": "201904xxxxxxx26156",
    "customs": "SHENZHEN",
    "wechatpay_no": "4200xxxxxxxx665",
    "state": "SUCCESS",
    "modify_time": "2019-04-04 10:02:11",
    "sub_order_no": "XXXXX",
    "sub_order_amount": "46.44",
    "transport_amount": "23.22",
    "product_amount": "23.22",
    "cert_check_result": "SAME"
  }
}`
)

// Canned answers of GET download_bill.
const (
	// BillSampleText is the reference's example reconciliation file.
	BillSampleText = "Test: company's reconciliation report of 20190101 to 20190120\n" +
		BillHeader + "\n" +
		"Collection via WeChat Pay,2019-01-02 10:55:10,`2019010210551024660612990,`13260056057_wechat_1546397710000,0.99 HKD,-,1.06 HKD,1.00 HKD,1,0.01 HKD,-,-,-,-,-,-,-,WECHATPAYCN\n" +
		"Collection via WeChat Pay,2019-01-02 11:07:05,`2019010211070452703917004,`13260056057_wechat_1546398424000,0.99 HKD,-,2.05 HKD,1.00 HKD,1,0.00 HKD,-,-,-,-,-,-,-,WECHATPAYCN\n" +
		"Refund,2019-01-04 10:50:34,`2019010410503295208356067,`,-,-0.99 HKD,1.06 HKD,-,-,-,1.00 HKD,`2019010211070452703917004,`13260056057_wechat_1546398424000,-,-,-,-,WECHATPAYCN\n"
	// BillInvalidDateJSON: dates that do not parse or are outside the last
	// three months (the fake's own code; HipoPay documents none).
	BillInvalidDateJSON = `{
  "is_success": false,
  "error": "INVALID_PARAMETER",
  "error_message": "only the last three months can be queried"
}`
)

// Canned is one canned answer: what an endpoint answers in one case.
type Canned struct {
	Method string // "GET" or "POST"
	Path   string // relative to the base URL, e.g. "payment"
	Case   string // e.g. "success", "PAYMENT_NOT_FOUND", "0001"
	Status int    // HTTP status
	Body   string
}

// CannedAnswers lists every canned answer, endpoint by endpoint, for table
// tests: register each with your HTTP mock and check your code's handling.
func CannedAnswers() []Canned {
	const get, post, ok = http.MethodGet, http.MethodPost, http.StatusOK
	out := []Canned{
		{post, "wechatpay/mini_program/payment", "success", ok, PlaceOrderSuccessJSON},
		{post, "wechatpay/mini_program/payment", "FOREX_MERCHANT_NOT_SUPPORT_THIS_CURRENCY", ok, PlaceOrderCurrencyNotSupportedJSON},
		{get, "payment", "PAID", ok, PaymentPaidJSON},
		{get, "payment", "INIT", ok, PaymentInitJSON},
		{get, "payment", "PAYMENT_NOT_FOUND", ok, PaymentNotFoundJSON},
		{get, "wechatpay/forex_rate", "success", ok, ForexRateSuccessJSON},
		{get, "wechatpay/forex_rate", "CURRENCY_NOT_SUPPORT", ok, CurrencyNotSupportedJSON},
		{post, "payment_refund", "success", ok, RefundSuccessJSON},
		{post, "payment_refund", "0011", ok, RefundFailedJSON},
		{post, "payment_refund", "0001", ok, RefundAlreadyExistsJSON},
		{post, "payment_refund", "0002", ok, RefundPaymentNotFoundJSON},
		{post, "payment_refund", "0004", ok, RefundPaymentNotPaidJSON},
		{post, "payment_refund", "0006", ok, RefundFullyRefundedJSON},
		{post, "payment_refund", "0008", ok, RefundRefundableNotEnoughJSON},
		{post, "payment_refund", "0009", ok, RefundAmountNotPositiveJSON},
		{post, "payment_refund", "REFUND_AMOUNT_INVALID", ok, RefundAmountInvalidJSON},
		{get, "payment_refund", "success", ok, RefundQuerySuccessJSON},
		{get, "payment_refund", "REFUND_NOT_FOUND", ok, RefundNotFoundJSON},
		{get, "download_bill", "success", ok, BillSampleText},
		{get, "download_bill", "INVALID_PARAMETER", ok, BillInvalidDateJSON},
		{post, "wechatpay/declaration", "success", ok, DeclarationSuccessJSON},
		{post, "wechatpay/redeclaration", "success", ok, RedeclarationSuccessJSON},
		{get, "wechatpay/declaration", "success", ok, DeclarationQuerySuccessJSON},
	}
	for _, ep := range []struct{ method, path string }{
		{post, "wechatpay/mini_program/payment"}, {get, "payment"}, {get, "wechatpay/forex_rate"},
		{post, "payment_refund"}, {get, "payment_refund"}, {get, "download_bill"},
		{post, "wechatpay/declaration"}, {post, "wechatpay/redeclaration"}, {get, "wechatpay/declaration"},
	} {
		out = append(out, Canned{ep.method, ep.path, "ILLEGAL_SECURITY_PROFILE", ok, IllegalSecurityProfileJSON})
	}
	return out
}
