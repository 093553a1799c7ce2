package hipopay

// Tests of Alipay's own calls: GetAlipayForexRate (GET alipay/forex_rate),
// DeclareAlipay (POST alipay/declaration), RedeclareAlipay (POST
// alipay/redeclaration) and GetAlipayDeclaration (GET alipay/declaration):
// the exact wire, validation before any network call, decoding into
// Declaration, and the buyer's identity kept out of errors, logs and
// printed requests.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validAlipayDeclaration() *AlipayDeclarationRequest {
	return &AlipayDeclarationRequest{OutOrderNo: "ORD-1", PaymentNo: "2019021911592704114199308", Customs: CustomsHangzhouZS,
		MchCustomsNo: "3301968ABC", MerchantCustomsName: "Matcha Trading Ltd", SubOrderNo: "ORD-1-A", SubOrderAmount: "46.44"}
}

func alipayDeclarationParams() map[string]string {
	return map[string]string{"out_order_no": "ORD-1", "payment_no": "2019021911592704114199308", "customs": "HANGZHOU_ZS",
		"mch_customs_no": "3301968ABC", "merchant_customs_name": "Matcha Trading Ltd", "sub_order_no": "ORD-1-A",
		"sub_order_amount": "46.44"}
}

// alipayDeclarationAnswer is the shape the SDK infers (the WeChat
// declaration's fields): no source shows Alipay's.
const alipayDeclarationAnswer = `{"is_success": true, "response": {"out_order_no": "ORD-1",
	"payment_no": "2019021911592704114199308", "customs": "HANGZHOU_ZS", "state": "SUBMITTED",
	"modify_time": "2019-04-03 17:17:04", "sub_order_no": "ORD-1-A", "sub_order_amount": "46.44",
	"cert_check_result": "UNCHECKED", "alipay_declare_no": "2019040311001"}}`

func TestGetAlipayForexRate(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodGet, "alipay/forex_rate", http.StatusOK, `{"is_success": true, "response": {"currency": "USD", "forex_rate": 0.149}}`)
	rate, err := c.GetAlipayForexRate(context.Background(), USD)
	require.NoError(t, err)
	assert.Equal(t, ForexRate{Currency: USD, Rate: "0.149"}, *rate)
	assertWire(t, w.single(t), http.MethodGet, "alipay/forex_rate", "1.0", map[string]string{"currency": "USD"})

	_, err = c.GetAlipayForexRate(context.Background(), "usd")
	assertInvalidAfter(t, err, "currency")

	w.on(http.MethodGet, "alipay/forex_rate", http.StatusOK, errorBody("CURRENCY_NOT_SUPPORT", "This currency is not supported"))
	_, err = c.GetAlipayForexRate(context.Background(), THB)
	assert.ErrorIs(t, err, ErrCurrencyNotSupported)
}

// assertInvalidAfter checks a validation error on a client that has
// already sent requests.
func assertInvalidAfter(t *testing.T, err error, field string) {
	t.Helper()
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, field, ve.Field)
}

func TestDeclareAlipayWire(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(r *AlipayDeclarationRequest)
		extra map[string]string
	}{
		{"required fields only", func(*AlipayDeclarationRequest) {}, nil},
		{"identity", func(r *AlipayDeclarationRequest) { r.CertID, r.Name = testCertID, testName },
			map[string]string{"cert_id": testCertID, "name": testName}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "alipay/declaration", http.StatusOK, alipayDeclarationAnswer)
			req := validAlipayDeclaration()
			tc.edit(req)
			d, err := c.DeclareAlipay(context.Background(), req)
			require.NoError(t, err)
			want := alipayDeclarationParams()
			for k, v := range tc.extra {
				want[k] = v
			}
			assertWire(t, w.single(t), http.MethodPost, "alipay/declaration", "1.0", want)
			assert.Equal(t, "ORD-1", d.OutOrderNo)
			assert.Equal(t, CustomsHangzhouZS, d.Customs)
			assert.Equal(t, DeclarationStateSubmitted, d.State)
			assertChinaTime(t, d.ModifyTime, "2019-04-03 17:17:04")
			assert.Equal(t, "46.44", d.SubOrderAmount)
			assert.Equal(t, CertCheckUnchecked, d.CertCheckResult)
		})
	}
}

func TestDeclareAlipayValidation(t *testing.T) {
	c, w := newWireMock(t)
	for _, tc := range []struct {
		name  string
		edit  func(r *AlipayDeclarationRequest)
		field string
	}{
		{"no out_order_no", func(r *AlipayDeclarationRequest) { r.OutOrderNo = "" }, "out_order_no"},
		{"no payment_no", func(r *AlipayDeclarationRequest) { r.PaymentNo = " " }, "payment_no"},
		{"no customs", func(r *AlipayDeclarationRequest) { r.Customs = "" }, "customs"},
		{"bad customs", func(r *AlipayDeclarationRequest) { r.Customs = "hangzhou" }, "customs"},
		{"no mch_customs_no", func(r *AlipayDeclarationRequest) { r.MchCustomsNo = "" }, "mch_customs_no"},
		{"no merchant_customs_name", func(r *AlipayDeclarationRequest) { r.MerchantCustomsName = "" }, "merchant_customs_name"},
		{"no sub_order_no", func(r *AlipayDeclarationRequest) { r.SubOrderNo = "" }, "sub_order_no"},
		{"no sub_order_amount", func(r *AlipayDeclarationRequest) { r.SubOrderAmount = "" }, "sub_order_amount"},
		{"three decimals", func(r *AlipayDeclarationRequest) { r.SubOrderAmount = "1.234" }, "sub_order_amount"},
		{"zero", func(r *AlipayDeclarationRequest) { r.SubOrderAmount = "0.00" }, "sub_order_amount"},
		{"cert_id without name", func(r *AlipayDeclarationRequest) { r.CertID = testCertID }, "name"},
		{"name without cert_id", func(r *AlipayDeclarationRequest) { r.Name = testName }, "cert_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := validAlipayDeclaration()
			tc.edit(req)
			d, err := c.DeclareAlipay(context.Background(), req)
			assert.Nil(t, d)
			assertInvalid(t, w, err, tc.field)
			assert.NotContains(t, err.Error(), testCertID)
			assert.NotContains(t, err.Error(), testName)
		})
	}
	_, err := c.DeclareAlipay(context.Background(), nil)
	assertInvalid(t, w, err, "request")
}

// HipoPay (or a proxy) echoing the buyer's identity: redacted from the
// error; the identity is not in the logs either, and the declaration is
// never re-sent after a failure that may have reached HipoPay.
func TestDeclareAlipayRedactsIdentity(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, w := newWireMock(t, WithLogger(logger))
	req := validAlipayDeclaration()
	req.CertID, req.Name = testCertID, testName
	w.on(http.MethodPost, "alipay/declaration", http.StatusBadGateway,
		`<html>cert_id=`+testCertID+`&name=Lisa%20Zhang `+`\u004c\u0069sa Zhang</html>`)
	_, err := c.DeclareAlipay(context.Background(), req)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadGateway, ae.StatusCode)
	assert.NotContains(t, err.Error(), testCertID)
	assert.NotContains(t, err.Error(), "Lisa")
	assert.Contains(t, err.Error(), "[REDACTED]")
	assert.Len(t, w.requests(), 1, "a declaration that reached HipoPay is not re-sent")

	w.on(http.MethodPost, "alipay/declaration", http.StatusOK, errorBody("INVALID_PARAMETER", "name "+testName+" does not match cert_id "+testCertID))
	_, err = c.DeclareAlipay(context.Background(), req)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testCertID)
	assert.NotContains(t, err.Error(), testName)
	assert.NotContains(t, logs.String(), testCertID)
	assert.NotContains(t, logs.String(), testName)
}

// Printing, marshalling or logging an AlipayDeclarationRequest never shows
// CertID or Name.
func TestAlipayDeclarationRequestRedacted(t *testing.T) {
	req := *validAlipayDeclaration()
	req.CertID, req.Name = testCertID, testName
	secrets := []string{testCertID, testName, hex.EncodeToString([]byte(testCertID)), hex.EncodeToString([]byte(testName))}
	check := func(t *testing.T, out string) {
		t.Helper()
		for _, s := range secrets {
			assert.NotContains(t, out, s)
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%10v"} {
		for name, arg := range map[string]any{"value": req, "pointer": &req, "nested": struct{ R AlipayDeclarationRequest }{req}} {
			out := fmt.Sprintf(verb, arg)
			check(t, out)
			assert.NotEmpty(t, out, verb+"/"+name)
		}
	}
	assert.Contains(t, fmt.Sprintf("%v", req), "Matcha Trading Ltd")
	assert.Contains(t, fmt.Sprintf("%v", req), "[REDACTED]")

	b, err := json.Marshal(req)
	require.NoError(t, err)
	check(t, string(b))
	assert.Contains(t, string(b), "[REDACTED]")

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("declaring", "req", req, "ptr", &req)
	check(t, buf.String())
	assert.Contains(t, buf.String(), `"cert_id":"[REDACTED]"`)
}

func validAlipayRedeclaration() *AlipayRedeclarationRequest {
	return &AlipayRedeclarationRequest{SubOrderNo: "ORD-1-A", Customs: CustomsHangzhouZS, MchCustomsNo: "3301968ABC",
		MerchantCustomsName: "Matcha Trading Ltd"}
}

func TestRedeclareAlipayWire(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodPost, "alipay/redeclaration", http.StatusOK, alipayDeclarationAnswer)
	d, err := c.RedeclareAlipay(context.Background(), validAlipayRedeclaration())
	require.NoError(t, err)
	assert.Equal(t, DeclarationStateSubmitted, d.State)
	assertWire(t, w.single(t), http.MethodPost, "alipay/redeclaration", "1.0", map[string]string{"sub_order_no": "ORD-1-A",
		"customs": "HANGZHOU_ZS", "mch_customs_no": "3301968ABC", "merchant_customs_name": "Matcha Trading Ltd"})
}

func TestRedeclareAlipayValidation(t *testing.T) {
	c2, w2 := newWireMock(t)
	for _, tc := range []struct {
		name  string
		edit  func(r *AlipayRedeclarationRequest)
		field string
	}{
		{"no identifier", func(r *AlipayRedeclarationRequest) { r.SubOrderNo = "" }, "payment_no"},
		{"no customs", func(r *AlipayRedeclarationRequest) { r.Customs = "" }, "customs"},
		{"no mch_customs_no", func(r *AlipayRedeclarationRequest) { r.MchCustomsNo = "" }, "mch_customs_no"},
		{"no merchant_customs_name", func(r *AlipayRedeclarationRequest) { r.MerchantCustomsName = "" }, "merchant_customs_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := validAlipayRedeclaration()
			tc.edit(r)
			_, err := c2.RedeclareAlipay(context.Background(), r)
			assertInvalid(t, w2, err, tc.field)
		})
	}
	_, err := c2.RedeclareAlipay(context.Background(), nil)
	assertInvalid(t, w2, err, "request")
}

func TestGetAlipayDeclarationWire(t *testing.T) {
	for name, tc := range map[string]struct {
		q    AlipayDeclarationQuery
		want map[string]string
	}{
		"payment_no":   {AlipayDeclarationQuery{PaymentNo: "P1"}, map[string]string{"payment_no": "P1"}},
		"out_order_no": {AlipayDeclarationQuery{OutOrderNo: "ORD-1"}, map[string]string{"out_order_no": "ORD-1"}},
		"sub_order_no": {AlipayDeclarationQuery{SubOrderNo: "ORD-1-A"}, map[string]string{"sub_order_no": "ORD-1-A"}},
	} {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodGet, "alipay/declaration", http.StatusOK, alipayDeclarationAnswer)
			d, err := c.GetAlipayDeclaration(context.Background(), tc.q)
			require.NoError(t, err)
			assert.Equal(t, "ORD-1-A", d.SubOrderNo)
			assertWire(t, w.single(t), http.MethodGet, "alipay/declaration", "1.0", tc.want)
		})
	}
}

func TestGetAlipayDeclarationValidation(t *testing.T) {
	c, w := newWireMock(t)
	for _, tc := range []struct {
		name  string
		q     AlipayDeclarationQuery
		field string
	}{
		{"none", AlipayDeclarationQuery{}, "payment_no"},
		{"blank", AlipayDeclarationQuery{OutOrderNo: "  "}, "out_order_no"},
		{"two", AlipayDeclarationQuery{PaymentNo: "P1", SubOrderNo: "S1"}, "sub_order_no"},
		{"three", AlipayDeclarationQuery{PaymentNo: "P1", OutOrderNo: "O1", SubOrderNo: "S1"}, "out_order_no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.GetAlipayDeclaration(context.Background(), tc.q)
			assertInvalid(t, w, err, tc.field)
		})
	}
}

// A read is retried after a 5xx.
func TestGetAlipayDeclarationRetried(t *testing.T) {
	c3, w3 := newWireMock(t)
	w3.on(http.MethodGet, "alipay/declaration", http.StatusServiceUnavailable, "busy")
	_, err := c3.GetAlipayDeclaration(context.Background(), AlipayDeclarationQuery{PaymentNo: "P1"})
	require.Error(t, err)
	assert.Len(t, w3.requests(), 3)
}

// The error names the Go field of the Alipay-only wire name too.
func TestAlipayValidationErrorNamesGoField(t *testing.T) {
	err := (&AlipayRedeclarationRequest{PaymentNo: "P1", Customs: CustomsNingbo, MchCustomsNo: "M"}).validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "merchant_customs_name (MerchantCustomsName)")
}
