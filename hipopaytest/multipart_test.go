package hipopaytest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// multipartOrder is a place-order form as HipoPay's PHP SDK posts it. Its
// product_info holds what percent-encoding changes (a space, '~', '*',
// '&', '=', non-ASCII), so the test shows the raw multipart values are
// signed as the same values of a form are.
func multipartOrder(s *hipopaytest.Server, outTradeID string) url.Values {
	return url.Values{
		"merchant_no": {s.MerchantNo}, "out_trade_id": {outTradeID}, "amount": {"8.88"}, "currency": {"HKD"},
		"product_info": {"Matcha latte ~ x2 * 50% off & more = 抹茶"}, "appid": {"wx3zzzzzzz4"},
		"openid": {"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}, "client_ip": {"203.0.113.9"},
	}
}

// signByHand signs params as HipoPay's documentation says, with the
// server's merchant key: StringToSign over the fields, then RSA SHA-256.
func signByHand(t *testing.T, s *hipopaytest.Server, params url.Values) (timestamp, signature string) {
	t.Helper()
	signer, err := hipopay.NewSigner(s.MerchantKey)
	require.NoError(t, err)
	timestamp = strconv.FormatInt(time.Now().Unix(), 10)
	signature, err = signer.SignString(hipopay.StringToSign(params, timestamp))
	require.NoError(t, err)
	return timestamp, signature
}

// multipartBody writes fields as multipart/form-data parts in name order,
// as PHP's cURL does (a Content-Disposition per part, no Content-Type),
// and, when file is set, one file part more.
func multipartBody(t *testing.T, fields url.Values, file string) (body []byte, contentType string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for name, values := range fields {
		for _, v := range values {
			require.NoError(t, w.WriteField(name, v))
		}
	}
	if file != "" {
		fw, err := w.CreateFormFile(file, "order.txt")
		require.NoError(t, err)
		_, err = io.WriteString(fw, "a file")
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return b.Bytes(), w.FormDataContentType()
}

// postSigned posts body to the place-order endpoint with the four headers
// and returns HipoPay's JSON answer.
func postSigned(t *testing.T, s *hipopaytest.Server, body []byte, contentType, timestamp, signature string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"wechatpay/mini_program/payment", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("MerchantNO", s.MerchantNo)
	req.Header.Set("Version", "1.0")
	req.Header.Set("Timestamp", timestamp)
	req.Header.Set("Signature", signature)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out), string(b))
	return out
}

func TestMultipartOrder(t *testing.T) {
	s := newServer(t)
	fields := multipartOrder(s, "ORD-MP-1")
	ts, sig := signByHand(t, s, fields)
	body, ct := multipartBody(t, fields, "")
	require.True(t, strings.HasPrefix(ct, "multipart/form-data; boundary="))

	got := postSigned(t, s, body, ct, ts, sig)
	require.Equal(t, true, got["is_success"], got)
	resp := got["response"].(map[string]any)
	paymentNo := resp["payment_no"].(string)
	assert.Equal(t, "ORD-MP-1", resp["out_trade_id"])
	assert.Equal(t, "INIT", resp["status"])
	p, ok := s.Payment(paymentNo)
	require.True(t, ok)
	assert.Equal(t, "Matcha latte ~ x2 * 50% off & more = 抹茶", p.ProductInfo, "a multipart value arrives as sent")
	assert.Equal(t, "8.88", p.Amount)

	// The same fields and signature as a form: the same order (the same
	// INIT order placed again is answered as it is).
	again := postSigned(t, s, []byte(fields.Encode()), "application/x-www-form-urlencoded", ts, sig)
	require.Equal(t, true, again["is_success"], again)
	assert.Equal(t, paymentNo, again["response"].(map[string]any)["payment_no"])

	// The client sees it like any other order.
	q, err := s.Client().GetPayment(ctxT(t), hipopay.PaymentQuery{OutTradeID: "ORD-MP-1"})
	require.NoError(t, err)
	assert.Equal(t, paymentNo, q.PaymentNo)
}

func TestMultipartOrderRefused(t *testing.T) {
	s := newServer(t)
	refused := func(t *testing.T, got map[string]any, code string) {
		t.Helper()
		assert.Equal(t, false, got["is_success"], got)
		assert.Equal(t, code, got["error"], got)
	}

	t.Run("tampered", func(t *testing.T) {
		fields := multipartOrder(s, "ORD-MP-T")
		ts, sig := signByHand(t, s, fields)
		fields.Set("amount", "0.01") // changed after signing
		body, ct := multipartBody(t, fields, "")
		refused(t, postSigned(t, s, body, ct, ts, sig), hipopaytest.CodeIllegalSecurityProfile)
		_, err := s.Client().GetPayment(ctxT(t), hipopay.PaymentQuery{OutTradeID: "ORD-MP-T"})
		require.ErrorIs(t, err, hipopay.ErrPaymentNotFound, "nothing was placed")
	})

	t.Run("a field missing from the body", func(t *testing.T) {
		fields := multipartOrder(s, "ORD-MP-M")
		ts, sig := signByHand(t, s, fields)
		sent := multipartOrder(s, "ORD-MP-M")
		sent.Del("client_ip")
		body, ct := multipartBody(t, sent, "")
		refused(t, postSigned(t, s, body, ct, ts, sig), hipopaytest.CodeIllegalSecurityProfile)
	})

	t.Run("file part", func(t *testing.T) {
		fields := multipartOrder(s, "ORD-MP-F")
		ts, sig := signByHand(t, s, fields)
		body, ct := multipartBody(t, fields, "attachment")
		got := postSigned(t, s, body, ct, ts, sig)
		refused(t, got, hipopaytest.CodeInvalidParameter)
		assert.Contains(t, got["error_message"], `"attachment" is a file`)
		_, err := s.Client().GetPayment(ctxT(t), hipopay.PaymentQuery{OutTradeID: "ORD-MP-F"})
		require.ErrorIs(t, err, hipopay.ErrPaymentNotFound)
	})

	t.Run("undocumented field, signed", func(t *testing.T) {
		// The exact parameter set is checked for multipart bodies too.
		fields := multipartOrder(s, "ORD-MP-U")
		fields.Set("discount", "1")
		ts, sig := signByHand(t, s, fields)
		body, ct := multipartBody(t, fields, "")
		got := postSigned(t, s, body, ct, ts, sig)
		refused(t, got, hipopaytest.CodeInvalidParameter)
		assert.Contains(t, got["error_message"], "does not take discount")
	})

	t.Run("not multipart", func(t *testing.T) {
		fields := multipartOrder(s, "ORD-MP-B")
		ts, sig := signByHand(t, s, fields)
		for name, ct := range map[string]string{
			"no boundary":  "multipart/form-data",
			"bad boundary": "multipart/form-data; boundary=nope",
		} {
			body, _ := multipartBody(t, fields, "")
			got := postSigned(t, s, body, ct, ts, sig)
			assert.Equal(t, hipopaytest.CodeInvalidParameter, got["error"], name)
		}
		_, err := s.Client().GetPayment(ctxT(t), hipopay.PaymentQuery{OutTradeID: "ORD-MP-B"})
		require.ErrorIs(t, err, hipopay.ErrPaymentNotFound)
	})
}

// A refund posted as multipart is served like a form one: every POST
// endpoint reads the body the same way.
func TestMultipartRefund(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	ctx := ctxT(t)
	p, err := c.PlaceOrder(ctx, order("ORD-MP-R", "10.00", hipopay.HKD, ""))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))

	fields := url.Values{"payment_no": {p.PaymentNo}, "out_refund_id": {"R-MP-1"}, "refund_amount": {"2.50"}}
	ts, sig := signByHand(t, s, fields)
	body, ct := multipartBody(t, fields, "")
	req, err := http.NewRequest(http.MethodPost, s.URL+"payment_refund", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("MerchantNO", s.MerchantNo)
	req.Header.Set("Version", "1.0")
	req.Header.Set("Timestamp", ts)
	req.Header.Set("Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	r, err := c.GetRefund(ctx, hipopay.RefundQuery{OutRefundID: "R-MP-1"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.RefundStatusSuccess, r.Status)
	assert.Equal(t, "2.50", r.RefundAmount)
}
