package hipopay

// What never leaves in an error, a log or a marshalled request: the
// buyer's identity however HipoPay escapes it, the request's Signature,
// and what is not valid UTF-8 is never sent.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonEscapes writes every rune of s (all in the BMP) as a \uXXXX escape,
// hex in upper or lower case.
func jsonEscapes(s string, upper bool) string {
	const lower, up = "0123456789abcdef", "0123456789ABCDEF"
	digits := lower
	if upper {
		digits = up
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteString(`\u`)
		b.Write([]byte{digits[r>>12&15], digits[r>>8&15], digits[r>>4&15], digits[r&15]})
	}
	return b.String()
}

func identityDeclaration(certID, name string) *DeclarationRequest {
	return &DeclarationRequest{OutOrderNo: "1", PaymentNo: "2", Customs: CustomsShenzhen, MchCustomsNo: "3", SubOrderNo: "4",
		SubOrderAmount: "2.00", TransportAmount: "1.00", ProductAmount: "1.00", CertID: certID, Name: name}
}

// Item 7a: an error body that echoes the name as JSON escapes (\u674e,
// any case of hex) does not keep it in APIError.Body or Error().
func TestEscapedIdentityIsRedactedFromErrorBodies(t *testing.T) {
	const certID, name = "510921199308772318", "李小龙"
	for label, body := range map[string]string{
		"lower-case escapes, not JSON": `<pre>{"name": "` + jsonEscapes(name, false) + `", "cert_id": "` + jsonEscapes(certID, false) + `"`,
		"upper-case escapes, not JSON": `<pre>{"name": "` + jsonEscapes(name, true) + `", "cert_id": "` + jsonEscapes(certID, true) + `"`,
		"mixed escapes and raw":        `<pre>name=` + `\u674E` + "小" + `\u9f99` + ` cert=` + certID[:6] + jsonEscapes(certID[6:], true),
		"percent-encoded, lower hex":   `<pre>name=` + strings.ToLower(url.QueryEscape(name)) + ` cert=` + certID,
	} {
		t.Run(label, func(t *testing.T) {
			c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(body))
			}))
			_, err := c.Declare(context.Background(), identityDeclaration(certID, name))
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, ae.Body, "[REDACTED]")
			for _, leak := range []string{certID, name, strings.ToLower(jsonEscapes(name, false)), strings.ToLower(jsonEscapes(certID, false)),
				strings.ToLower(url.QueryEscape(name))} {
				assert.NotContains(t, strings.ToLower(ae.Body), strings.ToLower(leak))
				assert.NotContains(t, strings.ToLower(err.Error()), strings.ToLower(leak))
			}
			assert.NotContains(t, strings.ToLower(err.Error()), `\u674e`)
		})
	}
}

// Item 7b: an HTML error page that echoes the request's headers does not
// put the Signature into the error, in any call.
func TestEchoedSignatureIsRedacted(t *testing.T) {
	var sigs []string
	c, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sig := r.Header.Get("Signature")
		sigs = append(sigs, sig)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("<html><h1>400</h1><pre>Signature: " + sig + "\nEscaped: " + url.QueryEscape(sig) +
			"\n</pre></html>"))
	}), WithMaxRetries(0))
	_, err := c.GetForexRate(context.Background(), USD)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	_, err2 := c.PlaceOrder(context.Background(), samplePlaceOrder())
	require.Error(t, err2)
	require.Len(t, sigs, 2)
	for i, e := range []error{err, err2} {
		assert.NotContains(t, e.Error(), sigs[i])
		assert.NotContains(t, e.Error(), url.QueryEscape(sigs[i]))
		assert.NotContains(t, e.Error(), sigs[i][:40])
		assert.Contains(t, e.Error(), "[REDACTED]")
	}

	// An error_message that echoes it is redacted too.
	c2, _ := newServerClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sigs = append(sigs, r.Header.Get("Signature"))
		b, _ := json.Marshal(map[string]any{"is_success": false, "error": "ILLEGAL_SECURITY_PROFILE",
			"error_message": "bad signature " + r.Header.Get("Signature")})
		_, _ = w.Write(b)
	}), WithMaxRetries(0))
	_, err = c2.GetForexRate(context.Background(), USD)
	require.ErrorIs(t, err, ErrIllegalSecurityProfile)
	assert.NotContains(t, err.Error(), sigs[len(sigs)-1])
}

// Item 7c: json.Marshal of a DeclarationRequest, what JSON loggers do,
// writes CertID and Name redacted.
func TestDeclarationRequestMarshalJSONRedacts(t *testing.T) {
	req := identityDeclaration(testCertID, testName)
	for name, v := range map[string]any{"value": *req, "pointer": req, "nested": struct{ R DeclarationRequest }{*req}} {
		b, err := json.Marshal(v)
		require.NoError(t, err, name)
		assert.NotContains(t, string(b), testCertID, name)
		assert.NotContains(t, string(b), testName, name)
		assert.Contains(t, string(b), "[REDACTED]", name)
		assert.Contains(t, string(b), `"SHENZHEN"`, name)
	}
	b, err := json.Marshal(identityDeclaration("", ""))
	require.NoError(t, err)
	assert.NotContains(t, string(b), "[REDACTED]", "an unset identity is empty")
}

// Item 7d: a value that is not valid UTF-8 (GBK product_info) is a
// *ValidationError naming the field, and nothing is sent.
func TestNonUTF8ValuesAreRefused(t *testing.T) {
	gbk := "\xb2\xe8\xd2\xb6" // 茶叶 in GBK
	c, w := newWireMock(t)
	order := validOrder()
	order.ProductInfo = gbk
	_, err := c.PlaceOrder(context.Background(), order)
	assertInvalid(t, w, err, "product_info")

	_, err = c.Refund(context.Background(), &RefundRequest{PaymentNo: "P1", OutRefundID: "R" + gbk})
	assertInvalid(t, w, err, "out_refund_id")

	_, err = c.Declare(context.Background(), identityDeclaration("510921199308772318", gbk))
	assertInvalid(t, w, err, "name")
	assert.NotContains(t, err.Error(), gbk)

	_, err = c.GetPayment(context.Background(), PaymentQuery{OutTradeID: gbk})
	assertInvalid(t, w, err, "out_trade_id")
	assert.Zero(t, w.calls())
}

// Item 7e: a success answer to a mini-program order without prepay_params
// is an *APIError, and RequestPayment on nil parameters does not panic.
func TestPlaceOrderWithoutPrepayParamsIsAnAPIError(t *testing.T) {
	for name, body := range map[string]string{
		"absent": `{"is_success": true, "response": {"amount": "8.88", "currency": "HKD", "out_trade_id": "T1",
			"payment_no": "P1", "status": "INIT", "trade_time": "2019-02-19 11:59:27", "trade_type": "MINIPROGRA"}}`,
		"null": `{"is_success": true, "response": {"amount": "8.88", "currency": "HKD", "out_trade_id": "T1",
			"payment_no": "P1", "status": "INIT", "prepay_params": null}}`,
		"empty": `{"is_success": true, "response": {"amount": "8.88", "currency": "HKD", "out_trade_id": "T1",
			"payment_no": "P1", "status": "INIT", "prepay_params": {}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "wechatpay/mini_program/payment", http.StatusOK, body)
			p, err := c.PlaceOrder(context.Background(), validOrder())
			assert.Nil(t, p)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, http.StatusOK, ae.StatusCode)
			assert.Contains(t, ae.Error(), "prepay_params")
			assert.Contains(t, ae.Error(), "P1", "the payment number, to find the order")
		})
	}
	var pp *PrepayParams
	assert.NotPanics(t, func() { assert.Equal(t, WxRequestPayment{}, pp.RequestPayment()) })
}
