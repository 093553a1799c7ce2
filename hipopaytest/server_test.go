package hipopaytest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLifeCycle runs a merchant's whole integration through the SDK: order,
// payment, notification, refunds, customs, reconciliation file, rates.
func TestLifeCycle(t *testing.T) {
	clock := newFakeClock(time.Date(2024, 3, 5, 10, 0, 0, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now))
	c := s.Client()
	ctx := ctxT(t)
	rec, notifyURL := newNotifyRecorder(t)

	// Place an order: INIT, with the prepay parameters of a mini-program.
	p, err := c.PlaceOrder(ctx, order("ORD-1", "100.00", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusInit, p.Status)
	assert.Equal(t, "100.00", p.Amount)
	assert.Equal(t, hipopay.HKD, p.Currency)
	assert.Equal(t, "ORD-1", p.OutTradeID)
	assert.Equal(t, "MINIPROGRA", p.TradeType) // the reference's spelling
	assert.True(t, p.TradeTime.Equal(clock.Now()), "trade_time %v", p.TradeTime)
	assert.Regexp(t, `^20240305100000\d{11}$`, p.PaymentNo)
	pp := p.PrepayParams
	require.NotNil(t, pp)
	assert.Equal(t, strconv.FormatInt(clock.Now().Unix(), 10), pp.TimeStamp)
	assert.Regexp(t, `^\d{25}$`, pp.OrderNo)
	assert.True(t, strings.HasPrefix(pp.OrderNo, "20240305100000"), "order_no %s starts with the UTC+8 time of timeStamp", pp.OrderNo)
	assert.Regexp(t, `^[0-9A-F]{32}$`, pp.PaySign)
	assert.Regexp(t, `^wx[0-9a-z]{34}$`, pp.PrepayID)
	assert.NotEmpty(t, pp.NonceStr)

	got, err := c.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: "ORD-1"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusInit, got.Status)
	assert.Equal(t, p.PaymentNo, got.PaymentNo)
	assert.True(t, got.FinishTime.IsZero())
	assert.Empty(t, got.ExchangeRate)

	// The buyer pays: PAID, and the notification reaches notify_url.
	clock.Add(17 * time.Second)
	require.NoError(t, s.Pay(p.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))
	notes := rec.received()
	require.Len(t, notes, 1)
	n := notes[0]
	require.NoError(t, hipopay.VerifyNotificationSignature(s.PublicKey(), n.form, n.timestamp, n.signature))
	assert.Equal(t, url.Values{"src": {"mini"}}, n.query, "notify_url is posted to as given")
	assert.Equal(t, url.Values{
		"status": {"PAID"}, "trade_type": {"MINIPROGRA"}, "exchange_rate": {"1.0000000000"}, "payment_no": {p.PaymentNo},
		"currency": {"HKD"}, "settle_currency": {"HKD"}, "amount": {"100.00"}, "trade_time": {"2024-03-05 10:00:00"},
		"finish_time": {"2024-03-05 10:00:17"}, "pay_currency": {"CNY"}, "pay_amount": {"88.19"}, "out_trade_id": {"ORD-1"},
	}, n.form)
	assert.Equal(t, strconv.FormatInt(clock.Now().Unix(), 10), n.timestamp)
	ds := s.Deliveries(p.PaymentNo)
	require.Len(t, ds, 1)
	assert.True(t, ds[0].Acknowledged)
	assert.Equal(t, 1, ds[0].Attempt)
	assert.Equal(t, http.StatusOK, ds[0].StatusCode)
	assert.Equal(t, "success", ds[0].Body)

	got, err = c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusPaid, got.Status)
	assert.Equal(t, "1.0000000000", got.ExchangeRate, "the notification's rate: HKD to the HKD settlement")
	assert.True(t, got.FinishTime.Equal(clock.Now()))
	require.ErrorContains(t, s.Pay(p.PaymentNo), "not INIT")

	// Refunds: partial, query, too much, the remainder, then fully refunded.
	clock.Add(time.Hour)
	r1, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "R1", RefundAmount: "30.00"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundStatusSuccess, r1.Status)
	assert.Equal(t, hipopay.RefundResultProcessing, r1.ResultCode)
	assert.Equal(t, "30.00", r1.RefundAmount)
	assert.Equal(t, "OK", r1.ReturnMessage)
	assert.Equal(t, p.PaymentNo, r1.PaymentNo)
	assert.Regexp(t, `^\d{25}$`, r1.RefundNo)
	assert.True(t, r1.FinishTime.Equal(clock.Now()))

	q, err := c.GetRefund(ctx, hipopay.RefundQuery{OutRefundID: "R1"})
	require.NoError(t, err)
	assert.Equal(t, r1.RefundNo, q.RefundNo)
	assert.Equal(t, hipopay.RefundStatusSuccess, q.Status)
	q, err = c.GetRefund(ctx, hipopay.RefundQuery{RefundNo: r1.RefundNo})
	require.NoError(t, err)
	assert.Equal(t, "R1", q.OutRefundID)
	_, err = c.GetRefund(ctx, hipopay.RefundQuery{OutRefundID: "R-none"})
	assert.ErrorIs(t, err, hipopay.ErrRefundNotFound)

	over, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "R2", RefundAmount: "70.01"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundStatusFail, over.Status)
	assert.Equal(t, hipopay.RefundResultRefundableNotEnough, over.ResultCode)
	assert.Equal(t, "Payment refundable not enough.", over.FailMessage)

	clock.Add(time.Hour)
	r3, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "R3", RefundAmount: "70"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundStatusSuccess, r3.Status)
	assert.Equal(t, "70.00", r3.RefundAmount)

	full, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "R4", RefundAmount: "0.01"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundStatusFail, full.Status)
	assert.Equal(t, hipopay.RefundResultPaymentFullyRefunded, full.ResultCode)

	// The same refund sent again (a retry after a lost answer): HipoPay says
	// 0001, the SDK resolves it to the existing refund.
	again, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "R1", RefundAmount: "30.00"})
	require.NoError(t, err)
	assert.Equal(t, r1.RefundNo, again.RefundNo)
	assert.Equal(t, hipopay.RefundStatusSuccess, again.Status)
	// ...but not when it differs.
	_, err = c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "R1", RefundAmount: "10.00"})
	var conflict *hipopay.RefundConflictError
	require.ErrorAs(t, err, &conflict)
	assert.Equal(t, r1.RefundNo, conflict.Existing.RefundNo)

	// Customs: declared SUBMITTED, SUCCESS on query, re-declared.
	decl, err := c.Declare(ctx, &hipopay.DeclarationRequest{
		OutOrderNo: "ORD-1", PaymentNo: p.PaymentNo, Customs: hipopay.CustomsShenzhen, MchCustomsNo: "123456789BTW",
		SubOrderNo: "ORD-1-A", SubOrderAmount: "46.44", TransportAmount: "23.22", ProductAmount: "23.22",
		CertID: "510921199308772318", Name: "Lisa",
	})
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateSubmitted, decl.State)
	assert.Equal(t, p.PaymentNo, decl.PaymentNo)
	assert.Equal(t, hipopay.CustomsShenzhen, decl.Customs)
	assert.Equal(t, "46.44", decl.SubOrderAmount)
	assert.Equal(t, hipopay.CertCheckSame, decl.CertCheckResult)
	assert.Regexp(t, `^4200\d{24}$`, decl.WechatpayNo)
	assert.True(t, decl.ModifyTime.Equal(clock.Now()))
	require.NotNil(t, decl.RawResponse)
	assert.Equal(t, hipopay.DeclarationStateSubmitted, decl.RawResponse.State)
	assert.True(t, decl.RawResponse.ModifyTime.Equal(clock.Now()), "raw modify_time %v", decl.RawResponse.ModifyTime)
	assert.Equal(t, p.PaymentNo, decl.RawResponse.OutTradeNo)
	assert.Equal(t, s.MerchantNo, decl.RawResponse.MchID)
	assert.Equal(t, "wx3zzzzzzz4", decl.RawResponse.AppID)
	assert.Equal(t, "ORD-1-A", decl.RawResponse.SubOrderNo)
	assert.Equal(t, "OK", decl.RawResponse.ErrCodeDes)
	assert.NotContains(t, string(decl.RawResponse.JSON), "510921199308772318")
	assert.NotContains(t, string(decl.RawResponse.JSON), "Lisa")

	dq, err := c.GetDeclaration(ctx, hipopay.DeclarationQuery{SubOrderNo: "ORD-1-A", Customs: hipopay.CustomsShenzhen})
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateSuccess, dq.State)
	dq, err = c.GetDeclaration(ctx, hipopay.DeclarationQuery{PaymentNo: p.PaymentNo, Customs: hipopay.CustomsShenzhen})
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateSuccess, dq.State, "the last state stays")

	rd, err := c.Redeclare(ctx, &hipopay.RedeclarationRequest{PaymentNo: p.PaymentNo, Customs: hipopay.CustomsShenzhen, MchCustomsNo: "123456789BTW"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateSubmitted, rd.State)
	assert.Equal(t, "ORD-1", rd.OutOrderNo)
	assert.Equal(t, decl.WechatpayNo, rd.WechatpayNo)

	require.NoError(t, s.SetDeclarationState(p.PaymentNo, hipopay.CustomsShenzhen, hipopay.DeclarationStateFail))
	dq, err = c.GetDeclaration(ctx, hipopay.DeclarationQuery{OutOrderNo: "ORD-1", Customs: hipopay.CustomsShenzhen})
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateFail, dq.State)
	assert.NotEmpty(t, dq.Explanation)

	// The reconciliation file: the collection and the two refunds, read
	// with the SDK's BillReader and reconciled with the merchant's books.
	day := time.Date(2024, 3, 5, 0, 0, 0, 0, cst)
	rc, err := c.DownloadBill(ctx, &hipopay.BillRequest{StartDate: day, EndDate: day})
	require.NoError(t, err)
	raw, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	require.Len(t, lines, 5, string(raw))
	assert.Equal(t, hipopaytest.BillHeader, lines[1])
	assert.Equal(t, "Collection via WeChat Pay,2024-03-05 10:00:17,`"+p.PaymentNo+",`ORD-1,99.00 HKD,-,99.00 HKD,100.00 HKD,1,1.00 HKD,-,-,-,-,-,-,-,WECHATPAYCN", lines[2])
	assert.Equal(t, "Refund,2024-03-05 11:00:17,`"+r1.RefundNo+",`,-,-29.70 HKD,69.30 HKD,-,-,-,30.00 HKD,`"+p.PaymentNo+",`ORD-1,-,-,-,-,WECHATPAYCN", lines[3])

	br := hipopay.NewBillReader(bytes.NewReader(raw))
	var recs []*hipopay.BillRecord
	for rec, err := range br.All() {
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	assert.Equal(t, "Test: "+s.MerchantNo+"'s reconciliation report of 20240305 to 20240305", br.Title())
	require.Len(t, recs, 3)
	col, ref1, ref3 := recs[0], recs[1], recs[2]
	assert.Equal(t, hipopay.BillEntryPayment, col.Kind())
	assert.True(t, col.Time.Equal(time.Date(2024, 3, 5, 10, 0, 17, 0, cst)))
	assert.Equal(t, p.PaymentNo, col.OrderNo)
	assert.Equal(t, "ORD-1", col.ExternalOrderNo)
	assert.Equal(t, hipopay.Money{Value: "99.00", Currency: hipopay.HKD}, col.Credit)
	assert.Equal(t, hipopay.Money{Value: "100.00", Currency: hipopay.HKD}, col.TransactionAmount)
	assert.Equal(t, hipopay.Money{Value: "1.00", Currency: hipopay.HKD}, col.ServiceFee)
	assert.Equal(t, "1", col.SettlementRate)
	assert.True(t, col.Debit.IsZero())
	assert.Equal(t, "WECHATPAYCN", col.PaymentChannel)

	assert.Equal(t, hipopay.BillEntryRefund, ref1.Kind())
	assert.Equal(t, r1.RefundNo, ref1.OrderNo)
	assert.Empty(t, ref1.ExternalOrderNo, "as in the reference's sample: the refund is named by its refund_no")
	assert.Equal(t, hipopay.Money{Value: "-29.70", Currency: hipopay.HKD}, ref1.Debit)
	assert.Equal(t, hipopay.Money{Value: "69.30", Currency: hipopay.HKD}, ref1.Balance)
	assert.Equal(t, hipopay.Money{Value: "30.00", Currency: hipopay.HKD}, ref1.RefundAmount)
	assert.Equal(t, p.PaymentNo, ref1.RefundOrderNo)
	assert.Equal(t, "ORD-1", ref1.ExternalRefundOrderNo)
	assert.Equal(t, r3.RefundNo, ref3.OrderNo)
	assert.Equal(t, hipopay.Money{Value: "0.00", Currency: hipopay.HKD}, ref3.Balance)

	recon, err := hipopay.Reconcile([]hipopay.ExpectedEntry{
		{Kind: hipopay.BillEntryPayment, HipoPayNo: p.PaymentNo, OutID: "ORD-1", Amount: "100.00", Currency: hipopay.HKD},
		{Kind: hipopay.BillEntryRefund, HipoPayNo: r1.RefundNo, OutID: "R1", Amount: "30.00", Currency: hipopay.HKD},
		{Kind: hipopay.BillEntryRefund, HipoPayNo: r3.RefundNo, OutID: "R3", Amount: "70.00", Currency: hipopay.HKD},
	}, hipopay.NewBillReader(bytes.NewReader(raw)).All())
	require.NoError(t, err)
	assert.True(t, recon.OK(), "%+v", recon)
	assert.Len(t, recon.Matched, 3)

	// Another day: nothing.
	rc, err = c.DownloadBill(ctx, &hipopay.BillRequest{StartDate: day.AddDate(0, 0, -3), EndDate: day.AddDate(0, 0, -1)})
	require.NoError(t, err)
	defer rc.Close()
	br = hipopay.NewBillReader(rc)
	_, err = br.Read()
	assert.ErrorIs(t, err, io.EOF)
	assert.Contains(t, br.Title(), "20240302 to 20240304")

	// Rates.
	fx, err := c.GetForexRate(ctx, hipopay.USD)
	require.NoError(t, err)
	assert.Equal(t, hipopay.USD, fx.Currency)
	assert.True(t, strings.HasPrefix(fx.Rate, "0.149"), fx.Rate)
	for _, cur := range hipopay.Currencies() {
		_, err := c.GetForexRate(ctx, cur)
		assert.NoError(t, err, cur)
	}
	_, err = c.GetForexRate(ctx, "XYZ")
	assert.ErrorIs(t, err, hipopay.ErrCurrencyNotSupported)
	_, err = c.PlaceOrder(ctx, order("ORD-XYZ", "1.00", "XYZ", ""))
	assert.ErrorIs(t, err, hipopay.ErrForexMerchantNotSupportThisCurrency)

	_, err = c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: "2024030510000000000000000"})
	assert.ErrorIs(t, err, hipopay.ErrPaymentNotFound)
	assert.ErrorIs(t, s.Pay("nope"), hipopay.ErrPaymentNotFound)
}

func TestRefundRules(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	ctx := ctxT(t)
	p, err := c.PlaceOrder(ctx, order("ORD-JPY", "1200", hipopay.JPY, ""))
	require.NoError(t, err)

	// Not paid yet: 0004, recorded as a FAIL refund.
	r, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "J0"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundResultPaymentNotPaid, r.ResultCode)
	assert.Equal(t, hipopay.RefundStatusFail, r.Status)
	q, err := c.GetRefund(ctx, hipopay.RefundQuery{OutRefundID: "J0"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundStatusFail, q.Status)

	// Unknown payment: 0002.
	r, err = c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: "123", OutRefundID: "J1", RefundAmount: "1"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundResultPaymentNotFound, r.ResultCode)
	assert.Equal(t, "payment 123 Not Found.", r.FailMessage)

	require.NoError(t, s.Pay(p.PaymentNo))
	// JPY has no decimals: REFUND_AMOUNT_INVALID.
	_, err = c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "J2", RefundAmount: "1.50"})
	assert.ErrorIs(t, err, hipopay.ErrRefundAmountInvalid)

	// What the SDK refuses to send, sent raw.
	for _, tc := range []struct {
		amount, code string
	}{{"abc", "REFUND_AMOUNT_INVALID"}, {"1e3", "REFUND_AMOUNT_INVALID"}, {"", "REFUND_AMOUNT_INVALID"}} {
		_, body := rawCall(t, s, http.MethodPost, "payment_refund", "1.0", url.Values{"payment_no": {p.PaymentNo}, "out_refund_id": {"J3"}, "refund_amount": {tc.amount}}, nil)
		assert.Equal(t, false, body["is_success"], tc.amount)
		assert.Equal(t, tc.code, body["error"], tc.amount)
	}
	for _, amount := range []string{"0", "-5"} {
		_, body := rawCall(t, s, http.MethodPost, "payment_refund", "1.0", url.Values{"payment_no": {p.PaymentNo}, "out_refund_id": {"J4" + amount}, "refund_amount": {amount}}, nil)
		assert.Equal(t, true, body["is_success"], amount)
		resp := body["response"].(map[string]any)
		assert.Equal(t, "0009", resp["result_code"], amount)
		assert.Equal(t, "FAIL", resp["status"], amount)
		assert.Equal(t, "OK", body["return_message"])
	}

	// A full refund (no amount), then nothing is left.
	r, err = c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "J5"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundStatusSuccess, r.Status)
	assert.Equal(t, "1200", r.RefundAmount)
	r, err = c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "J6"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundResultPaymentFullyRefunded, r.ResultCode)
	// The full refund sent again resolves to itself.
	r, err = c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "J5"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundStatusSuccess, r.Status)
	assert.Equal(t, "1200", r.RefundAmount)
}

func TestSecurityProfile(t *testing.T) {
	s := newServer(t)
	ctx := ctxT(t)

	// A client signing with a key HipoPay does not know.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	wrong, err := hipopay.NewClient(s.MerchantNo, other, hipopay.WithBaseURL(s.URL))
	require.NoError(t, err)
	_, err = wrong.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: "1"})
	assert.ErrorIs(t, err, hipopay.ErrIllegalSecurityProfile)
	_, err = wrong.PlaceOrder(ctx, order("ORD-W", "1.00", hipopay.HKD, ""))
	assert.ErrorIs(t, err, hipopay.ErrIllegalSecurityProfile)
	_, err = s.Client().GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: "ORD-W"})
	assert.ErrorIs(t, err, hipopay.ErrPaymentNotFound, "a refused order is not placed")

	// An unknown merchant.
	unknown, err := hipopay.NewClient("HP-UNKNOWN", s.MerchantKey, hipopay.WithBaseURL(s.URL))
	require.NoError(t, err)
	_, err = unknown.GetForexRate(ctx, hipopay.USD)
	assert.ErrorIs(t, err, hipopay.ErrIllegalSecurityProfile)

	// Headers missing or wrong, parameters changed after signing.
	params := url.Values{"currency": {"USD"}}
	for name, mutate := range map[string]func(*http.Request){
		"no MerchantNO":  func(r *http.Request) { r.Header.Del("MerchantNO") },
		"no Version":     func(r *http.Request) { r.Header.Del("Version") },
		"no Timestamp":   func(r *http.Request) { r.Header.Del("Timestamp") },
		"no Signature":   func(r *http.Request) { r.Header.Del("Signature") },
		"other time":     func(r *http.Request) { r.Header.Set("Timestamp", "1") },
		"garbage sig":    func(r *http.Request) { r.Header.Set("Signature", "!!!") },
		"version 3.0":    func(r *http.Request) { r.Header.Set("Version", "3.0") },
		"changed params": func(r *http.Request) { r.URL.RawQuery = "currency=HKD" },
		"extra param":    func(r *http.Request) { r.URL.RawQuery += "&x=1" },
	} {
		_, body := rawCall(t, s, http.MethodGet, "wechatpay/forex_rate", "1.0", params, mutate)
		assert.Equal(t, false, body["is_success"], name)
		assert.Equal(t, "ILLEGAL_SECURITY_PROFILE", body["error"], name)
		assert.NotContains(t, body["error_message"], "!!!", name)
	}
	_, body := rawCall(t, s, http.MethodGet, "wechatpay/forex_rate", "1.0", params, nil)
	assert.Equal(t, true, body["is_success"])

	// download_bill wants Version 3.0, and merchant_no must be the caller.
	today := time.Now().In(cst).Format("20060102")
	billParams := url.Values{"merchant_no": {s.MerchantNo}, "start_date": {today}, "end_date": {today}}
	_, body = rawCall(t, s, http.MethodGet, "download_bill", "1.0", billParams, nil)
	assert.Equal(t, "ILLEGAL_SECURITY_PROFILE", body["error"])
	_, body = rawCall(t, s, http.MethodGet, "download_bill", "3.0", billParams, nil)
	assert.Contains(t, body["text"], hipopaytest.BillHeader)
	billParams.Set("merchant_no", "HP-OTHER")
	_, body = rawCall(t, s, http.MethodGet, "download_bill", "3.0", billParams, nil)
	assert.Equal(t, "ILLEGAL_SECURITY_PROFILE", body["error"])
}

func TestMerchantsAreSeparate(t *testing.T) {
	s := newServer(t)
	ctx := ctxT(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	s.AddMerchant("HP-SECOND", &key.PublicKey)
	second, err := hipopay.NewClient("HP-SECOND", key, hipopay.WithBaseURL(s.URL))
	require.NoError(t, err)

	p, err := second.PlaceOrder(ctx, order("ORD-2", "5.00", hipopay.USD, ""))
	require.NoError(t, err)
	_, err = s.Client().GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
	assert.ErrorIs(t, err, hipopay.ErrPaymentNotFound, "another merchant's payment")
	// The same out_trade_id is free for the first merchant.
	_, err = s.Client().PlaceOrder(ctx, order("ORD-2", "5.00", hipopay.USD, ""))
	require.NoError(t, err)

	// Placing the very same order again answers it; other terms are refused.
	again, err := second.PlaceOrder(ctx, order("ORD-2", "5.00", hipopay.USD, ""))
	require.NoError(t, err)
	assert.Equal(t, p.PaymentNo, again.PaymentNo)
	_, err = second.PlaceOrder(ctx, order("ORD-2", "6.00", hipopay.USD, ""))
	var apiErr *hipopay.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeDuplicateOutTradeID, apiErr.Code)

	// merchant_no in the body must be the MerchantNO header.
	_, body := rawCall(t, s, http.MethodPost, "wechatpay/mini_program/payment", "1.0", url.Values{
		"merchant_no": {"HP-SECOND"}, "out_trade_id": {"X"}, "amount": {"1.00"}, "currency": {"HKD"},
		"product_info": {"x"}, "appid": {"wx"}, "openid": {"o"}, "client_ip": {"127.0.0.1"},
	}, nil)
	assert.Equal(t, "ILLEGAL_SECURITY_PROFILE", body["error"])
}

// TestNotificationRetries: a handler that fails twice gets the
// notification three times, each signed afresh.
func TestNotificationRetries(t *testing.T) {
	s := newServer(t, hipopaytest.WithRetryIntervals(time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond))
	ctx := ctxT(t)
	rec, notifyURL := newNotifyRecorder(t, http.StatusInternalServerError, http.StatusInternalServerError)
	p, err := s.Client().PlaceOrder(ctx, order("ORD-R", "8.88", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))
	time.Sleep(20 * time.Millisecond) // nothing more comes
	ds := s.Deliveries(p.PaymentNo)
	require.Len(t, ds, 3)
	for i, d := range ds {
		assert.Equal(t, i+1, d.Attempt)
		assert.NoError(t, d.Err)
	}
	assert.Equal(t, http.StatusInternalServerError, ds[0].StatusCode)
	assert.False(t, ds[0].Acknowledged)
	assert.False(t, ds[1].Acknowledged)
	assert.True(t, ds[2].Acknowledged)
	got := rec.received()
	require.Len(t, got, 3)
	for _, n := range got {
		assert.NoError(t, hipopay.VerifyNotificationSignature(s.PublicKey(), n.form, n.timestamp, n.signature))
	}
}

func TestNotificationGivesUp(t *testing.T) {
	s := newServer(t, hipopaytest.WithRetryIntervals(time.Millisecond, 2*time.Millisecond))
	ctx := ctxT(t)
	_, notifyURL := newNotifyRecorder(t, 500, 503, 404, 500)
	p, err := s.Client().PlaceOrder(ctx, order("ORD-G", "8.88", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	assert.ErrorIs(t, s.WaitDelivered(ctx, p.PaymentNo), hipopaytest.ErrNotAcknowledged)
	assert.Len(t, s.Deliveries(p.PaymentNo), 3, "the first delivery and one per interval")

	// A payment without notify_url is never delivered.
	p2, err := s.Client().PlaceOrder(ctx, order("ORD-G2", "8.88", hipopay.HKD, ""))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p2.PaymentNo))
	assert.ErrorContains(t, s.WaitDelivered(ctx, p2.PaymentNo), "no notify_url")
}

func TestNotificationNotAcknowledgedByOtherBodies(t *testing.T) {
	s := newServer(t, hipopaytest.WithRetryIntervals(time.Millisecond))
	ctx := ctxT(t)
	target := newHandlerURL(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "OK")
	}))
	p, err := s.Client().PlaceOrder(ctx, order("ORD-OK", "1.00", hipopay.HKD, target))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	assert.ErrorIs(t, s.WaitDelivered(ctx, p.PaymentNo), hipopaytest.ErrNotAcknowledged)
	ds := s.Deliveries(p.PaymentNo)
	require.Len(t, ds, 2)
	assert.Equal(t, "OK", ds[0].Body)
}

func TestCloseStopsDeliveries(t *testing.T) {
	s := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(time.Hour))
	ctx := ctxT(t)
	_, notifyURL := newNotifyRecorder(t, 500)
	p, err := s.Client().PlaceOrder(ctx, order("ORD-C", "1.00", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	_, err = s.WaitDeliveries(ctx, p.PaymentNo, 1)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the retry schedule")
	}
	assert.Error(t, s.WaitDelivered(ctx, p.PaymentNo))
	assert.Error(t, s.Pay(p.PaymentNo))
	s.Close() // twice is fine
}

func TestFaults(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	ctx := ctxT(t)
	p, err := c.PlaceOrder(ctx, order("ORD-F", "1.00", hipopay.HKD, ""))
	require.NoError(t, err)

	// 502 twice on GET payment: the SDK retries and succeeds.
	s.FailNext("payment", http.StatusBadGateway, 2)
	before := s.Calls("GET payment")
	got, err := c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
	require.NoError(t, err)
	assert.Equal(t, p.PaymentNo, got.PaymentNo)
	assert.Equal(t, before+3, s.Calls("GET payment"))

	// A 502 on place order is not retried.
	s.FailNext("POST wechatpay/mini_program/payment", http.StatusBadGateway, 1)
	_, err = c.PlaceOrder(ctx, order("ORD-F502", "1.00", hipopay.HKD, ""))
	var apiErr *hipopay.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadGateway, apiErr.StatusCode)
	assert.Equal(t, 1, s.Calls("wechatpay/mini_program/payment")-1)

	// A dropped connection on place order: an error, not re-sent, not placed.
	calls := s.Calls("wechatpay/mini_program/payment")
	s.DropNext("wechatpay/mini_program/payment", 1)
	_, err = c.PlaceOrder(ctx, order("ORD-DROP", "1.00", hipopay.HKD, ""))
	require.Error(t, err)
	assert.Equal(t, calls+1, s.Calls("wechatpay/mini_program/payment"), "the order was sent once")
	_, err = c.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: "ORD-DROP"})
	assert.ErrorIs(t, err, hipopay.ErrPaymentNotFound)

	// A lost answer: HipoPay placed the order once; the merchant finds it.
	s.LoseNextAnswer("wechatpay/mini_program/payment", 1)
	_, err = c.PlaceOrder(ctx, order("ORD-LOST", "1.00", hipopay.HKD, ""))
	require.Error(t, err)
	assert.Equal(t, calls+2, s.Calls("wechatpay/mini_program/payment"), "the order was sent once")
	lost, err := c.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: "ORD-LOST"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusInit, lost.Status)

	// A dropped GET is retried.
	s.DropNext("GET payment", 1)
	_, err = c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
	require.NoError(t, err)

	// Latency beyond the caller's deadline.
	s.SetLatency(300 * time.Millisecond)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = c.GetPayment(short, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
	assert.Error(t, err)
	s.ClearFaults()
	_, err = c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
	require.NoError(t, err)
}

func TestOrderExpiry(t *testing.T) {
	clock := newFakeClock(time.Date(2024, 3, 5, 10, 0, 0, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now), hipopaytest.WithOrderExpiry(15*time.Minute))
	c := s.Client()
	ctx := ctxT(t)
	p, err := c.PlaceOrder(ctx, order("ORD-E", "1.00", hipopay.HKD, ""))
	require.NoError(t, err)
	clock.Add(15 * time.Minute)
	got, err := c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusExpired, got.Status)
	assert.ErrorContains(t, s.Pay(p.PaymentNo), "EXPIRED")
	r, err := c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "E1"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundResultPaymentNotPaid, r.ResultCode)

	p2, err := c.PlaceOrder(ctx, order("ORD-E2", "1.5", hipopay.HKD, ""))
	require.NoError(t, err)
	assert.Equal(t, "1.50", p2.Amount, "amounts are answered in the currency's decimals")
	require.NoError(t, s.FailPayment(p2.PaymentNo))
	got, err = c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p2.PaymentNo})
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusFail, got.Status)
}

func TestDeclarationRules(t *testing.T) {
	s := newServer(t, hipopaytest.WithDeclarationStates(hipopay.DeclarationStateSubmitted, hipopay.DeclarationStateProcessing, hipopay.DeclarationStateSuccess))
	c := s.Client()
	ctx := ctxT(t)
	p, err := c.PlaceOrder(ctx, order("ORD-D", "46.44", hipopay.CNY, ""))
	require.NoError(t, err)
	req := &hipopay.DeclarationRequest{
		OutOrderNo: "ORD-D", PaymentNo: p.PaymentNo, Customs: hipopay.CustomsBeijing, MchCustomsNo: "123456789BTW",
		SubOrderNo: "D-1", SubOrderAmount: "46.44", TransportAmount: "23.22", ProductAmount: "23.22",
	}
	_, err = c.Declare(ctx, req)
	var apiErr *hipopay.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodePaymentNotPaid, apiErr.Code)

	require.NoError(t, s.Pay(p.PaymentNo))
	d, err := c.Declare(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateSubmitted, d.State)
	assert.Equal(t, hipopay.CertCheckUnchecked, d.CertCheckResult)
	q := hipopay.DeclarationQuery{SubOrderNo: "D-1", Customs: hipopay.CustomsBeijing}
	for _, want := range []hipopay.DeclarationState{hipopay.DeclarationStateProcessing, hipopay.DeclarationStateSuccess, hipopay.DeclarationStateSuccess} {
		d, err = c.GetDeclaration(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, want, d.State)
	}
	// Declared at another customs: a separate declaration.
	_, err = c.GetDeclaration(ctx, hipopay.DeclarationQuery{SubOrderNo: "D-1", Customs: hipopay.CustomsShenzhen})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeDeclarationNotFound, apiErr.Code)
	// ADD again answers it as it is; MODIFY submits it again.
	d, err = c.Declare(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateSuccess, d.State)
	req.ActionType = hipopay.ActionModify
	d, err = c.Declare(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateSubmitted, d.State)
	// MODIFY of nothing.
	req.SubOrderNo = "D-2"
	_, err = c.Declare(ctx, req)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeDeclarationNotFound, apiErr.Code)
	_, err = c.Redeclare(ctx, &hipopay.RedeclarationRequest{SubOrderNo: "D-2", Customs: hipopay.CustomsBeijing, MchCustomsNo: "X"})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeDeclarationNotFound, apiErr.Code)
	assert.Error(t, s.SetDeclarationState("nope", hipopay.CustomsBeijing, hipopay.DeclarationStateFail))

	// What the SDK refuses to send, sent raw.
	base := url.Values{
		"out_order_no": {"ORD-D"}, "payment_no": {p.PaymentNo}, "customs": {"BEIJING"}, "mch_customs_no": {"1"},
		"sub_order_no": {"D-3"}, "sub_order_amount": {"46.44"}, "transport_amount": {"23.22"}, "product_amount": {"23.22"},
	}
	for name, change := range map[string]func(url.Values){
		"sum":          func(v url.Values) { v.Set("sub_order_amount", "46.45") },
		"customs":      func(v url.Values) { v.Set("customs", "ATLANTIS") },
		"cert alone":   func(v url.Values) { v.Set("cert_id", "510921199308772318") },
		"action":       func(v url.Values) { v.Set("action_type", "DELETE") },
		"duty":         func(v url.Values) { v.Set("duty", "0.5") },
		"missing":      func(v url.Values) { v.Del("mch_customs_no") },
		"amount":       func(v url.Values) { v.Set("product_amount", "x") },
		"unknown paid": func(v url.Values) { v.Set("payment_no", "1") },
	} {
		v := url.Values{}
		for k, vs := range base {
			v[k] = append([]string(nil), vs...)
		}
		change(v)
		_, body := rawCall(t, s, http.MethodPost, "wechatpay/declaration", "1.0", v, nil)
		assert.Equal(t, false, body["is_success"], name)
		assert.NotContains(t, body["error_message"], "510921199308772318", name)
	}
}

func TestBillDates(t *testing.T) {
	clock := newFakeClock(time.Date(2024, 3, 5, 10, 0, 0, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now))
	for name, dates := range map[string][2]string{
		"malformed":     {"2024-03-01", "20240305"},
		"not a date":    {"20240231", "20240305"},
		"start > end":   {"20240305", "20240301"},
		"future":        {"20240306", "20240307"},
		"too old":       {"20231204", "20231210"},
		"missing start": {"", "20240305"},
	} {
		_, body := rawCall(t, s, http.MethodGet, "download_bill", "3.0", url.Values{"merchant_no": {s.MerchantNo}, "start_date": {dates[0]}, "end_date": {dates[1]}}, nil)
		assert.Equal(t, false, body["is_success"], name)
		assert.Equal(t, hipopaytest.CodeInvalidParameter, body["error"], name)
	}
	// Through the SDK: a JSON error is an *APIError.
	_, err := s.Client().DownloadBill(ctxT(t), &hipopay.BillRequest{StartDate: time.Date(2023, 1, 1, 0, 0, 0, 0, cst), EndDate: time.Date(2023, 1, 2, 0, 0, 0, 0, cst)})
	var apiErr *hipopay.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeInvalidParameter, apiErr.Code)
	// Exactly three months back is fine.
	_, body := rawCall(t, s, http.MethodGet, "download_bill", "3.0", url.Values{"merchant_no": {s.MerchantNo}, "start_date": {"20231205"}, "end_date": {"20240305"}}, nil)
	assert.Contains(t, body["text"], hipopaytest.BillHeader)
}

// TestNothingPanics sends what a fake may receive from a broken client.
func TestNothingPanics(t *testing.T) {
	s := newServer(t)
	paths := []string{"", "payment", "wechatpay/mini_program/payment", "wechatpay/forex_rate", "payment_refund",
		"download_bill", "wechatpay/declaration", "wechatpay/redeclaration", "nope", "_mock/pay", "_mock/fail",
		"_mock/deliveries", "_mock/hipopay_public.pem", "_mock/nope"}
	bodies := []string{"", "%zz", "a=1&a=2", strings.Repeat("x", 2<<20), "payment_no=&refund_amount=-", "currency=%00"}
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
		for _, path := range paths {
			for _, body := range bodies {
				req, err := http.NewRequest(method, s.URL+path+"?"+"%zz=1", strings.NewReader(body))
				require.NoError(t, err)
				req.Header.Set("MerchantNO", s.MerchantNo)
				req.Header.Set("Version", "1.0")
				req.Header.Set("Timestamp", "1")
				req.Header.Set("Signature", "AAAA")
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err, "%s %s", method, path)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.Less(t, resp.StatusCode, 500, "%s %s %.20q", method, path, body)
			}
		}
	}
	// Signed requests with every parameter missing or odd.
	for _, path := range []string{"payment", "wechatpay/forex_rate", "payment_refund", "wechatpay/declaration"} {
		for _, params := range []url.Values{{}, {"payment_no": {""}}, {"refund_no": {"x"}, "customs": {""}}} {
			code, body := rawCall(t, s, http.MethodGet, path, "1.0", params, nil)
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, false, body["is_success"], path)
		}
	}
	for _, path := range []string{"wechatpay/mini_program/payment", "payment_refund", "wechatpay/declaration", "wechatpay/redeclaration"} {
		code, body := rawCall(t, s, http.MethodPost, path, "1.0", url.Values{"x": {"y"}}, nil)
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, false, body["is_success"], path)
	}
}

func TestMockEndpoints(t *testing.T) {
	s := newServer(t, hipopaytest.WithRetryIntervals())
	ctx := ctxT(t)
	_, notifyURL := newNotifyRecorder(t, 500)
	p, err := s.Client().PlaceOrder(ctx, order("ORD-M", "2.00", hipopay.HKD, notifyURL))
	require.NoError(t, err)

	post := func(path string) string {
		resp, err := http.Post(s.URL+path, "text/plain", nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	assert.Contains(t, post("_mock/pay?payment_no="+p.PaymentNo), `"status":"PAID"`)
	assert.Contains(t, post("_mock/pay?payment_no="+p.PaymentNo), `"is_success":false`)
	assert.Contains(t, post("_mock/pay?payment_no=nope"), "PAYMENT_NOT_FOUND")
	_, err = s.WaitDeliveries(ctx, p.PaymentNo, 1)
	require.NoError(t, err)

	resp, err := http.Get(s.URL + "_mock/deliveries?payment_no=" + p.PaymentNo)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(b), `"status_code":500`)

	resp, err = http.Get(s.URL + "_mock/hipopay_public.pem")
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	pub, err := hipopay.ParsePublicKey(b)
	require.NoError(t, err)
	assert.True(t, pub.Equal(s.PublicKey()))
}

func TestNewNotificationRequest(t *testing.T) {
	key := mustKey(t, "../testdata/fake_hipopay_private.pem")
	fields := hipopaytest.PaidNotificationFields(&hipopay.Payment{
		PaymentNo: "2023111418154204114199308", OutTradeID: "201901021232211023", Amount: "8.88", Currency: hipopay.HKD,
		// As the shared vector has them (made before exchange_rate meant the
		// settlement rate, and with the trade type spelt out).
		ExchangeRate: "0.881890", TradeType: "MINIPROGRAM",
		TradeTime:  time.Date(2023, 11, 14, 18, 15, 42, 0, cst),
		FinishTime: time.Date(2023, 11, 14, 18, 15, 59, 0, cst),
	})
	req, err := hipopaytest.NewNotificationRequest(key, "http://merchant.example/notify", fields, "1700000123")
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "1700000123", req.Header.Get("Timestamp"))
	// The first of the shared vectors, signed with the same stand-in key.
	assert.Equal(t, "hj4LnDuYTh8ietSCODtI+x/1CTgiD06ykw966rQ5Fhoun5ktrQQqMsDdCwyriRqXLys1d+LMijgKyJoNVvIX8wNqsb+9R7LjBK16I4fnMdkbYg+OoR1PIutZdFTYiIjftsobXlRRBwCgosOLjzf3Y6rVFVgxGYEvgqpvz/lqkGdxz1vhmMNkBo1pZg0d9FF+IRiEY/e/o5wJuJPS3WMuovBPb1k2jh3jY0Xdo2PRDMiia+tjfdwuvPGHaS7q6b64uEkZ3Tj/L6d4sgLf4m1KgUgbRGYVN9/AVQ6D+j4RYOBf8BgmnGJVnNVieOKr8lF+xIH4/f9hWw2bR8jXZRU9hQ==",
		req.Header.Get("Signature"))
	body, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	form, err := url.ParseQuery(string(body))
	require.NoError(t, err)
	assert.Equal(t, fields, form)
	pub := &key.PublicKey
	require.NoError(t, hipopay.VerifyNotificationSignature(pub, form, req.Header.Get("Timestamp"), req.Header.Get("Signature")))

	// An empty timestamp is now.
	req, err = hipopaytest.NewNotificationRequest(key, "http://merchant.example/notify", fields, "")
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^\d{10}$`), req.Header.Get("Timestamp"))
	_, err = hipopaytest.NewNotificationRequest(nil, "http://x/", fields, "")
	assert.Error(t, err)
}

func TestWithHipoPayKeyAndVersion3(t *testing.T) {
	key := mustKey(t, "../testdata/fake_hipopay_private.pem")
	s := newServer(t, hipopaytest.WithHipoPayKey(key), hipopaytest.WithResponseVersion3())
	assert.True(t, s.PublicKey().Equal(&key.PublicKey))
	ctx := ctxT(t)
	rec, notifyURL := newNotifyRecorder(t)
	p, err := s.Client().PlaceOrder(ctx, order("ORD-V3", "100.00", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))
	n := rec.received()[0]
	require.NoError(t, hipopay.VerifyNotificationSignature(&key.PublicKey, n.form, n.timestamp, n.signature))
	assert.Equal(t, "0.8819", n.form.Get("pay_rate"))
	assert.Equal(t, "1.1339", n.form.Get("pay_rate_reversed"))
	assert.Equal(t, "[]", n.form.Get("promotion_detail"))
	assert.NotEmpty(t, n.form.Get("bank_type"))
}

func TestWithAddrAndMerchant(t *testing.T) {
	key := mustKey(t, "../testdata/merchant_private_pkcs8.pem")
	s := newServer(t, hipopaytest.WithAddr("127.0.0.1:0"), hipopaytest.WithMerchant("WC8888888888888", key))
	assert.Equal(t, "WC8888888888888", s.MerchantNo)
	assert.True(t, strings.HasPrefix(s.URL, "http://127.0.0.1:"))
	assert.True(t, strings.HasSuffix(s.URL, "/"))
	_, err := s.Client().GetForexRate(ctxT(t), hipopay.HKD)
	require.NoError(t, err)
	assert.Panics(t, func() { hipopaytest.NewServer(hipopaytest.WithOrderExpiry(-1)) })
	assert.Panics(t, func() { s.AddMerchant("", nil) })
	assert.Panics(t, func() { s.AddMerchant("HP 1", &key.PublicKey) }, "what NewClient refuses")
	assert.Panics(t, func() { hipopaytest.NewServer(hipopaytest.WithMerchant("HP 1", key)) }, "what NewClient refuses")
}

func mustKey(t *testing.T, path string) *rsa.PrivateKey {
	t.Helper()
	k, err := hipopay.LoadPrivateKey(path)
	require.NoError(t, err)
	return k
}

func newHandlerURL(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// TestUndocumentedParameters: a parameter an endpoint does not document is
// INVALID_PARAMETER, after the signature is checked.
func TestUndocumentedParameters(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	ctx := ctxT(t)
	p, err := c.PlaceOrder(ctx, order("ORD-P", "1.00", hipopay.HKD, ""))
	require.NoError(t, err)

	// merchant_no goes only to place order and download_bill.
	_, body := rawCall(t, s, http.MethodGet, "payment", "1.0", url.Values{"payment_no": {p.PaymentNo}, "merchant_no": {s.MerchantNo}}, nil)
	assert.Equal(t, false, body["is_success"])
	assert.Equal(t, hipopaytest.CodeInvalidParameter, body["error"])
	assert.Contains(t, body["error_message"], "merchant_no")
	_, body = rawCall(t, s, http.MethodGet, "payment", "1.0", url.Values{"payment_no": {p.PaymentNo}}, nil)
	assert.Equal(t, true, body["is_success"])

	for _, tc := range []struct {
		method, path, version string
		params                url.Values
	}{
		{http.MethodPost, "wechatpay/mini_program/payment", "1.0", url.Values{
			"merchant_no": {s.MerchantNo}, "out_trade_id": {"X"}, "amount": {"1.00"}, "currency": {"HKD"},
			"product_info": {"x"}, "appid": {"wx"}, "openid": {"o"}, "client_ip": {"127.0.0.1"}, "sign_type": {"MD5"},
		}},
		{http.MethodGet, "wechatpay/forex_rate", "1.0", url.Values{"currency": {"USD"}, "merchant_no": {s.MerchantNo}}},
		{http.MethodPost, "payment_refund", "1.0", url.Values{"payment_no": {p.PaymentNo}, "out_refund_id": {"R"}, "currency": {"HKD"}}},
		{http.MethodGet, "payment_refund", "1.0", url.Values{"refund_no": {"1"}, "payment_no": {p.PaymentNo}}},
		{http.MethodGet, "download_bill", "3.0", url.Values{"merchant_no": {s.MerchantNo}, "start_date": {"20240101"}, "end_date": {"20240101"}, "format": {"csv"}}},
		{http.MethodPost, "wechatpay/declaration", "1.0", url.Values{"payment_no": {p.PaymentNo}, "customs": {"BEIJING"}, "merchant_no": {s.MerchantNo}}},
		{http.MethodPost, "wechatpay/redeclaration", "1.0", url.Values{"payment_no": {p.PaymentNo}, "customs": {"BEIJING"}, "duty": {"1"}}},
		{http.MethodGet, "wechatpay/declaration", "1.0", url.Values{"payment_no": {p.PaymentNo}, "customs": {"BEIJING"}, "mch_customs_no": {"1"}}},
	} {
		_, body := rawCall(t, s, tc.method, tc.path, tc.version, tc.params, nil)
		assert.Equal(t, false, body["is_success"], tc.path)
		assert.Equal(t, hipopaytest.CodeInvalidParameter, body["error"], "%s %s", tc.method, tc.path)
	}
	_, err = c.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: "X"})
	assert.ErrorIs(t, err, hipopay.ErrPaymentNotFound, "the refused order was not placed")

	// response_version is place order's (the fake honours it per order).
	_, body = rawCall(t, s, http.MethodPost, "wechatpay/mini_program/payment", "1.0", url.Values{
		"merchant_no": {s.MerchantNo}, "out_trade_id": {"V3"}, "amount": {"1.00"}, "currency": {"HKD"},
		"product_info": {"x"}, "appid": {"wx"}, "openid": {"o"}, "client_ip": {"127.0.0.1"}, "response_version": {"3.0"},
	}, nil)
	assert.Equal(t, true, body["is_success"], body)

	// The signature first: a bad signature is ILLEGAL_SECURITY_PROFILE
	// whatever the parameters.
	_, body = rawCall(t, s, http.MethodGet, "payment", "1.0", url.Values{"payment_no": {p.PaymentNo}, "merchant_no": {s.MerchantNo}},
		func(r *http.Request) { r.Header.Set("Signature", "AAAA") })
	assert.Equal(t, "ILLEGAL_SECURITY_PROFILE", body["error"])
	_, body = rawCall(t, s, http.MethodGet, "payment", "1.0", url.Values{"payment_no": {p.PaymentNo}},
		func(r *http.Request) { r.URL.RawQuery += "&merchant_no=" + s.MerchantNo })
	assert.Equal(t, "ILLEGAL_SECURITY_PROFILE", body["error"], "a parameter added after signing")

	// Parameters that do not parse cannot be verified.
	_, body = rawCall(t, s, http.MethodGet, "payment", "1.0", url.Values{"payment_no": {p.PaymentNo}},
		func(r *http.Request) { r.URL.RawQuery += "&x=%zz" })
	assert.Equal(t, "ILLEGAL_SECURITY_PROFILE", body["error"])
	_, body = rawCall(t, s, http.MethodPost, "payment_refund", "1.0", url.Values{"payment_no": {p.PaymentNo}, "out_refund_id": {"R"}},
		func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader("payment_no=%zz"))
			r.ContentLength = 14
		})
	assert.Equal(t, "ILLEGAL_SECURITY_PROFILE", body["error"])
}

// TestFailNextStatuses: only error statuses can be injected.
func TestFailNextStatuses(t *testing.T) {
	s := newServer(t)
	for _, status := range []int{0, 100, 101, 200, 204, 302, 399, 600, 999, -1} {
		assert.PanicsWithValue(t, "hipopaytest: FailNext: status "+strconv.Itoa(status)+" is not an HTTP error status (400-599)",
			func() { s.FailNext("payment", status, 1) }, status)
	}
	s.FailNext("GET wechatpay/forex_rate", 400, 1)
	s.FailNext("GET wechatpay/forex_rate", 599, 1)
	for _, want := range []int{400, 599} {
		code, _ := rawCall(t, s, http.MethodGet, "wechatpay/forex_rate", "1.0", url.Values{"currency": {"USD"}}, nil)
		assert.Equal(t, want, code)
	}
	code, body := rawCall(t, s, http.MethodGet, "wechatpay/forex_rate", "1.0", url.Values{"currency": {"USD"}}, nil)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, true, body["is_success"])
}
