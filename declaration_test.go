package hipopay

// Tests of Declare (POST wechatpay/declaration), Redeclare (POST
// wechatpay/redeclaration) and GetDeclaration (GET wechatpay/declaration):
// the exact wire, the answers with raw_response (a JSON document sent as a
// JSON string), HipoPay's errors, the validation done before any network
// call, and that the buyer's cert_id and name never show in errors, logs
// or a printed request.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The buyer's identity in these tests: it must never leak.
const (
	testCertID = "510921199308772318"
	testName   = "Lisa Zhang"
)

// rawResponseDoc is the reference's example of raw_response, the customs'
// own answer.
const rawResponseDoc = `{
"modify_time": "20190403171704",
"state": "UNDECLARED",
"cert_check_result": "SAME",
"transaction_id": "4200xxxxxxxx665",
"return_code": "SUCCESS",
"return_msg": "成功",
"sign": "23XxXxXxXx78E",
"sub_order_id": "42000002XXXXX8166500",
"mch_id": "1517456621",
"out_trade_no": "201904xxxxxxx26156",
"err_code_des": "OK",
"appid": "wx3zzzzzzz4",
"sub_order_no": "XXXXX",
"verify_department_trade_id": "42000002XXXXX8166500",
"verify_department": "NETSUNION",
"result_code": "SUCCESS",
"err_code": "0"
}`

// jsonString is s as a JSON string literal.
func jsonString(t testing.TB, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}

// declareAnswer is a declaration answer with every documented field;
// rawResponse is the JSON value of raw_response ("" leaves it out).
func declareAnswer(rawResponse string) string {
	body := `{"is_success": true, "response": {
"out_order_no": "18051893975650968",
"payment_no": "20180518163203689",
"customs": "SHENZHEN",
"wechatpay_no": "4200000295201904031234567890",
"state": "SUBMITTED",
"modify_time": "2019-04-03 17:17:04",
"ver_dept": "NETSUNION",
"pay_transaction_id": "4200xxxxxxxx665",
"sub_order_no": "2018051716124",
"sub_order_amount": "46.44",
"transport_amount": "23.22",
"product_amount": "23.22",
"cert_check_result": "SAME"`
	if rawResponse != "" {
		body += ",\n\"raw_response\": " + rawResponse
	}
	return body + "}}"
}

// validDeclaration is a declaration with only the required fields.
func validDeclaration() *DeclarationRequest {
	return &DeclarationRequest{
		OutOrderNo:      "18051893975650968",
		PaymentNo:       "20180518163203689",
		Customs:         CustomsShenzhen,
		MchCustomsNo:    "123456789BTW",
		SubOrderNo:      "2018051716124",
		SubOrderAmount:  "46.44",
		TransportAmount: "23.22",
		ProductAmount:   "23.22",
	}
}

func requiredDeclarationParams() map[string]string {
	return map[string]string{
		"out_order_no":     "18051893975650968",
		"payment_no":       "20180518163203689",
		"customs":          "SHENZHEN",
		"mch_customs_no":   "123456789BTW",
		"sub_order_no":     "2018051716124",
		"sub_order_amount": "46.44",
		"transport_amount": "23.22",
		"product_amount":   "23.22",
	}
}

func TestDeclareWire(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(r *DeclarationRequest)
		extra map[string]string
	}{
		{"required fields only", func(*DeclarationRequest) {}, nil},
		{"duty", func(r *DeclarationRequest) { r.Duty = 88 }, map[string]string{"duty": "88"}},
		{"duty 0 sends nothing", func(r *DeclarationRequest) { r.Duty = 0 }, nil},
		{"action ADD", func(r *DeclarationRequest) { r.ActionType = ActionAdd }, map[string]string{"action_type": "ADD"}},
		{"action MODIFY", func(r *DeclarationRequest) { r.ActionType = ActionModify }, map[string]string{"action_type": "MODIFY"}},
		{"identity", func(r *DeclarationRequest) { r.CertID, r.Name = testCertID, testName },
			map[string]string{"cert_id": testCertID, "name": testName}},
		{"everything", func(r *DeclarationRequest) {
			r.Duty, r.ActionType, r.CertID, r.Name = 1234, ActionModify, testCertID, "李莎"
		}, map[string]string{"duty": "1234", "action_type": "MODIFY", "cert_id": testCertID, "name": "李莎"}},
		{"one decimal", func(r *DeclarationRequest) {
			r.SubOrderAmount, r.TransportAmount, r.ProductAmount = "46.4", "23.2", "23.2"
		}, map[string]string{"sub_order_amount": "46.4", "transport_amount": "23.2", "product_amount": "23.2"}},
		{"free transport", func(r *DeclarationRequest) {
			r.SubOrderAmount, r.TransportAmount, r.ProductAmount = "23.22", "0.00", "23.22"
		}, map[string]string{"sub_order_amount": "23.22", "transport_amount": "0.00", "product_amount": "23.22"}},
		{"whole amounts", func(r *DeclarationRequest) {
			r.SubOrderAmount, r.TransportAmount, r.ProductAmount = "46", "23", "23.00"
		}, map[string]string{"sub_order_amount": "46", "transport_amount": "23", "product_amount": "23.00"}},
		{"unified declaration code", func(r *DeclarationRequest) { r.Customs = CustomsGuangzhouHPGJ },
			map[string]string{"customs": "GUANGZHOU_HP_GJ"}},
		{"a customs code HipoPay may add later", func(r *DeclarationRequest) { r.Customs = "FUZHOU_2" },
			map[string]string{"customs": "FUZHOU_2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "wechatpay/declaration", http.StatusOK, declareAnswer(""))
			req := validDeclaration()
			tc.edit(req)
			_, err := c.Declare(context.Background(), req)
			require.NoError(t, err)
			want := requiredDeclarationParams()
			for k, v := range tc.extra {
				want[k] = v
			}
			assertWire(t, w.single(t), http.MethodPost, "wechatpay/declaration", "1.0", want)
		})
	}
}

// assertReferenceRawResponse checks the decoded reference raw_response.
func assertReferenceRawResponse(t testing.TB, raw *DeclarationRawResponse) {
	t.Helper()
	require.NotNil(t, raw)
	assertChinaTime(t, raw.ModifyTime, "2019-04-03 17:17:04")
	assert.Equal(t, DeclarationStateUndeclared, raw.State)
	assert.Equal(t, CertCheckSame, raw.CertCheckResult)
	assert.Equal(t, "4200xxxxxxxx665", raw.TransactionID)
	assert.Equal(t, "SUCCESS", raw.ReturnCode)
	assert.Equal(t, "成功", raw.ReturnMsg)
	assert.Equal(t, "23XxXxXxXx78E", raw.Sign)
	assert.Equal(t, "42000002XXXXX8166500", raw.SubOrderID)
	assert.Equal(t, "1517456621", raw.MchID)
	assert.Equal(t, "201904xxxxxxx26156", raw.OutTradeNo)
	assert.Equal(t, "OK", raw.ErrCodeDes)
	assert.Equal(t, "wx3zzzzzzz4", raw.AppID)
	assert.Equal(t, "XXXXX", raw.SubOrderNo)
	assert.Equal(t, "42000002XXXXX8166500", raw.VerifyDepartmentTradeID)
	assert.Equal(t, VerifyDepartmentNetsUnion, raw.VerifyDepartment)
	assert.Equal(t, "SUCCESS", raw.ResultCode)
	assert.Equal(t, "0", raw.ErrCode)
	assert.JSONEq(t, rawResponseDoc, string(raw.JSON))
}

func TestDeclareDecodesAnswer(t *testing.T) {
	asString := jsonString(t, rawResponseDoc)
	// Python's True and trailing commas, as the reference prints answers.
	python := strings.Replace(declareAnswer(asString), `"is_success": true`, `"is_success": True`, 1)
	python = strings.TrimSuffix(python, "}}") + ",\n},\n}"
	answers := map[string]string{
		"raw_response as a JSON string": declareAnswer(asString),
		"python envelope":               python,
		"string-True":                   strings.Replace(declareAnswer(asString), `"is_success": true`, `"is_success": "True"`, 1),
		"string-true":                   strings.Replace(declareAnswer(asString), `"is_success": true`, `"is_success": "true"`, 1),
		"raw_response as object":        declareAnswer(rawResponseDoc),
		"raw_response string with python-ish document": declareAnswer(jsonString(t,
			strings.Replace(rawResponseDoc, `"err_code": "0"`, `"err_code": "0",`, 1))),
		"raw_response string padded with blanks": declareAnswer(jsonString(t, "\n  "+rawResponseDoc+"\n")),
	}
	for name, body := range answers {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "wechatpay/declaration", http.StatusOK, body)
			d, err := c.Declare(context.Background(), validDeclaration())
			require.NoError(t, err)
			assert.Equal(t, "18051893975650968", d.OutOrderNo)
			assert.Equal(t, "20180518163203689", d.PaymentNo)
			assert.Equal(t, CustomsShenzhen, d.Customs)
			assert.Equal(t, "4200000295201904031234567890", d.WechatpayNo)
			assert.Equal(t, DeclarationStateSubmitted, d.State)
			assertChinaTime(t, d.ModifyTime, "2019-04-03 17:17:04")
			assert.Equal(t, VerifyDepartmentNetsUnion, d.VerDept)
			assert.Equal(t, "4200xxxxxxxx665", d.PayTransactionID)
			assert.Equal(t, "2018051716124", d.SubOrderNo)
			assert.Equal(t, "46.44", d.SubOrderAmount)
			assert.Equal(t, "23.22", d.TransportAmount)
			assert.Equal(t, "23.22", d.ProductAmount)
			assert.Equal(t, CertCheckSame, d.CertCheckResult)
			assert.Empty(t, d.Explanation)
			assertReferenceRawResponse(t, d.RawResponse)
			// The result can be stored as JSON, raw_response included.
			b, err := json.Marshal(d)
			require.NoError(t, err)
			assert.Contains(t, string(b), "42000002XXXXX8166500")
		})
	}
}

func TestDeclareRawResponseAbsent(t *testing.T) {
	for name, raw := range map[string]string{"absent": "", "null": "null", "empty string": `""`, "blank string": `"  "`} {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "wechatpay/declaration", http.StatusOK, declareAnswer(raw))
			d, err := c.Declare(context.Background(), validDeclaration())
			require.NoError(t, err)
			assert.Nil(t, d.RawResponse)
			assert.Equal(t, DeclarationStateSubmitted, d.State)
		})
	}
}

func TestDeclareModifyTimeLayouts(t *testing.T) {
	// The top-level modify_time may come in either of HipoPay's layouts.
	for _, text := range []string{"2019-04-03 17:17:04", "20190403171704"} {
		t.Run(text, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "wechatpay/declaration", http.StatusOK,
				strings.Replace(declareAnswer(""), "2019-04-03 17:17:04", text, 1))
			d, err := c.Declare(context.Background(), validDeclaration())
			require.NoError(t, err)
			assertChinaTime(t, d.ModifyTime, "2019-04-03 17:17:04")
		})
	}
}

func TestDeclareMalformedRawResponse(t *testing.T) {
	c, w := newWireMock(t)
	w.on(http.MethodPost, "wechatpay/declaration", http.StatusOK, declareAnswer(`"{not json"`))
	d, err := c.Declare(context.Background(), validDeclaration())
	// HipoPay accepted the declaration: the answer is kept, the customs'
	// text too, undecoded.
	require.NoError(t, err)
	assert.Nil(t, d.RawResponse)
	assert.Equal(t, "{not json", d.RawResponseText)
	assert.Equal(t, DeclarationStateSubmitted, d.State)
}

func TestDeclareErrors(t *testing.T) {
	for _, tc := range []struct {
		code, message string
		sentinel      *APIError
	}{
		{"ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile},
		// Codes the reference does not document still come back whole.
		{"CUSTOMS_NOT_BOUND", "customs not bound", nil},
	} {
		for _, a := range errorAnswers(tc.code, tc.message) {
			t.Run(tc.code+"/"+a.name, func(t *testing.T) {
				c, w := newWireMock(t)
				w.on(http.MethodPost, "wechatpay/declaration", a.status, a.body)
				req := validDeclaration()
				req.CertID, req.Name = testCertID, testName
				d, err := c.Declare(context.Background(), req)
				assert.Nil(t, d)
				assertAPIError(t, err, a.status, tc.code, tc.message, tc.sentinel)
				assert.NotContains(t, err.Error(), testCertID)
				assert.NotContains(t, err.Error(), testName)
				assert.Len(t, w.requests(), 1)
			})
		}
	}
}

type declarationCase struct {
	name  string
	edit  func(r *DeclarationRequest)
	field string
}

func declarationValidationCases() []declarationCase {
	tests := []declarationCase{
		{"no out_order_no", func(r *DeclarationRequest) { r.OutOrderNo = "" }, "out_order_no"},
		{"no payment_no", func(r *DeclarationRequest) { r.PaymentNo = "" }, "payment_no"},
		{"no customs", func(r *DeclarationRequest) { r.Customs = "" }, "customs"},
		{"lower-case customs", func(r *DeclarationRequest) { r.Customs = "shenzhen" }, "customs"},
		{"customs with a space", func(r *DeclarationRequest) { r.Customs = "SHEN ZHEN" }, "customs"},
		{"no mch_customs_no", func(r *DeclarationRequest) { r.MchCustomsNo = "" }, "mch_customs_no"},
		{"blank mch_customs_no", func(r *DeclarationRequest) { r.MchCustomsNo = "  " }, "mch_customs_no"},
		{"no sub_order_no", func(r *DeclarationRequest) { r.SubOrderNo = "" }, "sub_order_no"},
		{"no sub_order_amount", func(r *DeclarationRequest) { r.SubOrderAmount = "" }, "sub_order_amount"},
		{"no transport_amount", func(r *DeclarationRequest) { r.TransportAmount = "" }, "transport_amount"},
		{"no product_amount", func(r *DeclarationRequest) { r.ProductAmount = "" }, "product_amount"},
		{"sum off by a cent", func(r *DeclarationRequest) { r.ProductAmount = "23.21" }, "sub_order_amount"},
		{"sum over", func(r *DeclarationRequest) { r.SubOrderAmount = "46.45" }, "sub_order_amount"},
		{"zero sub-order", func(r *DeclarationRequest) {
			r.SubOrderAmount, r.TransportAmount, r.ProductAmount = "0.00", "0", "0"
		}, "sub_order_amount"},
		{"negative duty", func(r *DeclarationRequest) { r.Duty = -1 }, "duty"},
		{"unknown action", func(r *DeclarationRequest) { r.ActionType = "DELETE" }, "action_type"},
		{"lower-case action", func(r *DeclarationRequest) { r.ActionType = "add" }, "action_type"},
		{"cert_id without name", func(r *DeclarationRequest) { r.Name = "" }, "name"},
		{"name without cert_id", func(r *DeclarationRequest) { r.CertID = "" }, "cert_id"},
	}
	for _, a := range badAmounts {
		tests = append(tests, declarationCase{"sub_order_amount " + a, func(r *DeclarationRequest) { r.SubOrderAmount = a }, "sub_order_amount"})
		if a == "0" || a == "0.00" {
			continue // a zero part is fine; the sum then does not match
		}
		tests = append(tests,
			declarationCase{"transport_amount " + a, func(r *DeclarationRequest) { r.TransportAmount = a }, "transport_amount"},
			declarationCase{"product_amount " + a, func(r *DeclarationRequest) { r.ProductAmount = a }, "product_amount"})
	}
	return tests
}

func TestDeclareValidation(t *testing.T) {
	c, w := newWireMock(t)
	for _, tc := range declarationValidationCases() {
		t.Run(tc.name, func(t *testing.T) {
			req := validDeclaration()
			req.CertID, req.Name = testCertID, testName
			tc.edit(req)
			d, err := c.Declare(context.Background(), req)
			assert.Nil(t, d)
			assertInvalid(t, w, err, tc.field)
			// The buyer's identity never shows in an error.
			assert.NotContains(t, err.Error(), testCertID)
			assert.NotContains(t, err.Error(), testName)
			assert.NotContains(t, fmt.Sprintf("%+v %#v", err, err), testCertID)
		})
	}
	t.Run("nil request", func(t *testing.T) {
		d, err := c.Declare(context.Background(), nil)
		assert.Nil(t, d)
		assertInvalid(t, w, err, "request")
	})
}

// A log of a Declare call, and its error, never hold the buyer's identity.
func TestDeclareNeverLogsIdentity(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, w := newWireMock(t, WithLogger(logger), WithMaxRetries(0))
	req := validDeclaration()
	req.CertID, req.Name = testCertID, testName

	w.on(http.MethodPost, "wechatpay/declaration", http.StatusOK, declareAnswer(jsonString(t, rawResponseDoc)))
	_, err := c.Declare(context.Background(), req)
	require.NoError(t, err)

	w.onFunc(http.MethodPost, "wechatpay/declaration", func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection reset by peer")
	})
	_, err = c.Declare(context.Background(), req)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testCertID)
	assert.NotContains(t, err.Error(), testName)

	w.on(http.MethodPost, "wechatpay/declaration", http.StatusBadGateway, "<html>bad gateway</html>")
	_, err = c.Declare(context.Background(), req)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadGateway, ae.StatusCode)
	assert.NotContains(t, err.Error(), testCertID)

	require.NotZero(t, logs.Len(), "Debug logs each attempt")
	assert.NotContains(t, logs.String(), testCertID)
	assert.NotContains(t, logs.String(), testName)
	for _, r := range w.requests() {
		assert.NotContains(t, logs.String(), r.Request.Header.Get("Signature"))
	}
}

// Printing or logging a DeclarationRequest never shows CertID or Name.
func TestDeclarationRequestRedacted(t *testing.T) {
	req := *validDeclaration()
	req.CertID, req.Name = testCertID, testName
	secrets := []string{testCertID, testName, hex.EncodeToString([]byte(testCertID)), hex.EncodeToString([]byte(testName))}
	check := func(t *testing.T, out string) {
		t.Helper()
		for _, s := range secrets {
			assert.NotContains(t, out, s)
		}
	}

	s := req.String()
	check(t, s)
	assert.Contains(t, s, "18051893975650968", "other fields still print")
	assert.Contains(t, s, "[REDACTED]")
	check(t, req.GoString())

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%10v", "%-30s"} {
		for name, arg := range map[string]any{
			"value":   req,
			"pointer": &req,
			"nested":  struct{ Req DeclarationRequest }{req},
			"slice":   []DeclarationRequest{req},
			"map":     map[string]*DeclarationRequest{"r": &req},
		} {
			t.Run(verb+"/"+name, func(t *testing.T) {
				check(t, fmt.Sprintf(verb, arg))
			})
		}
	}
	assert.Contains(t, fmt.Sprintf("%v", req), "[REDACTED]")
	assert.Contains(t, fmt.Sprintf("%#v", &req), "[REDACTED]")

	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		t.Run("slog/"+name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(h(&buf))
			logger.Info("declaring", "req", req)
			logger.Info("declaring", "req", &req)
			logger.Info("declaring", slog.Any("req", req))
			check(t, buf.String())
			assert.Contains(t, buf.String(), "18051893975650968")
			assert.Contains(t, buf.String(), "[REDACTED]")
		})
	}

	// The JSON handler writes a group with the request's identifiers.
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("declaring", "req", req)
	var line struct {
		Req map[string]string `json:"req"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "18051893975650968", line.Req["out_order_no"])
	assert.Equal(t, "SHENZHEN", line.Req["customs"])
	assert.Equal(t, "[REDACTED]", line.Req["cert_id"])
	assert.Equal(t, "[REDACTED]", line.Req["name"])

	// An unset identity prints as empty, not as "[REDACTED]".
	plain := *validDeclaration()
	assert.NotContains(t, plain.String(), "[REDACTED]")
}

// redeclareAnswer is a re-declaration answer with every documented field.
const redeclareAnswer = `{"is_success": true, "response": {
"out_order_no": "20180518939756968",
"payment_no": "2018051716124",
"customs": "SHENZHEN",
"wechatpay_no": "4200000295201904031234567890",
"state": "FAIL",
"modify_time": "2019-04-03 17:17:04",
"explanation": "merchant customs registration No. is incorrect"
}}`

func TestRedeclareWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  RedeclarationRequest
		want map[string]string
	}{
		{"by payment_no", RedeclarationRequest{PaymentNo: "2018051716124", Customs: CustomsShenzhen, MchCustomsNo: "123456789BTW"},
			map[string]string{"payment_no": "2018051716124", "customs": "SHENZHEN", "mch_customs_no": "123456789BTW"}},
		{"by out_order_no", RedeclarationRequest{OutOrderNo: "20180518939756968", Customs: CustomsShenzhen, MchCustomsNo: "123456789BTW"},
			map[string]string{"out_order_no": "20180518939756968", "customs": "SHENZHEN", "mch_customs_no": "123456789BTW"}},
		{"by sub_order_no", RedeclarationRequest{SubOrderNo: "20180518939756968", Customs: CustomsGuangzhouZS, MchCustomsNo: "123456789BTW"},
			map[string]string{"sub_order_no": "20180518939756968", "customs": "GUANGZHOU_ZS", "mch_customs_no": "123456789BTW"}},
		{"by all three", RedeclarationRequest{PaymentNo: "P", OutOrderNo: "O", SubOrderNo: "S", Customs: CustomsBeijing, MchCustomsNo: "M"},
			map[string]string{"payment_no": "P", "out_order_no": "O", "sub_order_no": "S", "customs": "BEIJING", "mch_customs_no": "M"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "wechatpay/redeclaration", http.StatusOK, redeclareAnswer)
			req := tc.req
			_, err := c.Redeclare(context.Background(), &req)
			require.NoError(t, err)
			assertWire(t, w.single(t), http.MethodPost, "wechatpay/redeclaration", "1.0", tc.want)
		})
	}
}

func TestRedeclareDecodesAnswer(t *testing.T) {
	for name, body := range map[string]string{
		"json":   redeclareAnswer,
		"python": strings.Replace(strings.Replace(redeclareAnswer, "true", "True", 1), `incorrect"`, `incorrect",`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "wechatpay/redeclaration", http.StatusOK, body)
			d, err := c.Redeclare(context.Background(), &RedeclarationRequest{PaymentNo: "2018051716124", Customs: CustomsShenzhen, MchCustomsNo: "123456789BTW"})
			require.NoError(t, err)
			assertChinaTime(t, d.ModifyTime, "2019-04-03 17:17:04")
			assert.Equal(t, &Declaration{
				OutOrderNo:  "20180518939756968",
				PaymentNo:   "2018051716124",
				Customs:     CustomsShenzhen,
				WechatpayNo: "4200000295201904031234567890",
				State:       DeclarationStateFail,
				ModifyTime:  d.ModifyTime,
				Explanation: "merchant customs registration No. is incorrect",
			}, d)
		})
	}
}

func TestRedeclareErrors(t *testing.T) {
	for _, a := range errorAnswers("ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported") {
		t.Run(a.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodPost, "wechatpay/redeclaration", a.status, a.body)
			d, err := c.Redeclare(context.Background(), &RedeclarationRequest{PaymentNo: "P", Customs: CustomsShenzhen, MchCustomsNo: "M"})
			assert.Nil(t, d)
			assertAPIError(t, err, a.status, "ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile)
			assert.Len(t, w.requests(), 1)
		})
	}
}

func TestRedeclareValidation(t *testing.T) {
	c, w := newWireMock(t)
	for _, tc := range []struct {
		name  string
		req   *RedeclarationRequest
		field string
	}{
		{"nil", nil, "request"},
		{"no identifier", &RedeclarationRequest{Customs: CustomsShenzhen, MchCustomsNo: "M"}, "payment_no"},
		{"no customs", &RedeclarationRequest{PaymentNo: "P", MchCustomsNo: "M"}, "customs"},
		{"malformed customs", &RedeclarationRequest{PaymentNo: "P", Customs: "Shenzhen", MchCustomsNo: "M"}, "customs"},
		{"no mch_customs_no", &RedeclarationRequest{PaymentNo: "P", Customs: CustomsShenzhen}, "mch_customs_no"},
		{"blank mch_customs_no", &RedeclarationRequest{PaymentNo: "P", Customs: CustomsShenzhen, MchCustomsNo: " "}, "mch_customs_no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := c.Redeclare(context.Background(), tc.req)
			assert.Nil(t, d)
			assertInvalid(t, w, err, tc.field)
		})
	}
}

// getDeclarationAnswer is a declaration query's answer with every
// documented field.
const getDeclarationAnswer = `{"is_success": true, "response": {
"out_order_no": "1805123918160384498567689",
"payment_no": "2018051816320384498567689",
"customs": "BEIJING",
"wechatpay_no": "4200000295201904031234567890",
"state": "PROCESSING",
"modify_time": "2019-04-03 17:17:04",
"sub_order_no": "18051816320384338567689",
"sub_order_amount": "46.44",
"transport_amount": "23.22",
"product_amount": "23.22",
"cert_check_result": "DIFFERENT"
}}`

func TestGetDeclarationWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    DeclarationQuery
		want map[string]string
	}{
		{"by payment_no", DeclarationQuery{PaymentNo: "2018051816320384498567689", Customs: CustomsBeijing},
			map[string]string{"payment_no": "2018051816320384498567689", "customs": "BEIJING"}},
		{"by out_order_no", DeclarationQuery{OutOrderNo: "1805123918160384498567689", Customs: CustomsBeijing},
			map[string]string{"out_order_no": "1805123918160384498567689", "customs": "BEIJING"}},
		{"by sub_order_no", DeclarationQuery{SubOrderNo: "18051816320384338567689", Customs: CustomsGuangzhouNSGJ},
			map[string]string{"sub_order_no": "18051816320384338567689", "customs": "GUANGZHOU_NS_GJ"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodGet, "wechatpay/declaration", http.StatusOK, getDeclarationAnswer)
			_, err := c.GetDeclaration(context.Background(), tc.q)
			require.NoError(t, err)
			assertWire(t, w.single(t), http.MethodGet, "wechatpay/declaration", "1.0", tc.want)
		})
	}
}

func TestGetDeclarationDecodesAnswer(t *testing.T) {
	withRaw := strings.Replace(getDeclarationAnswer, `"DIFFERENT"`, `"DIFFERENT", "raw_response": `+jsonString(t, rawResponseDoc), 1)
	for name, body := range map[string]string{
		"json":          getDeclarationAnswer,
		"python":        strings.Replace(strings.Replace(getDeclarationAnswer, "true", "True", 1), `"DIFFERENT"`, `"DIFFERENT",`, 1),
		"string-True":   strings.Replace(getDeclarationAnswer, "true", `"True"`, 1),
		"string-true":   strings.Replace(getDeclarationAnswer, "true", `"true"`, 1),
		"with raw json": withRaw,
	} {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodGet, "wechatpay/declaration", http.StatusOK, body)
			d, err := c.GetDeclaration(context.Background(), DeclarationQuery{PaymentNo: "2018051816320384498567689", Customs: CustomsBeijing})
			require.NoError(t, err)
			assertChinaTime(t, d.ModifyTime, "2019-04-03 17:17:04")
			if body == withRaw {
				assertReferenceRawResponse(t, d.RawResponse)
			} else {
				assert.Nil(t, d.RawResponse)
			}
			d.RawResponse, d.RawResponseText = nil, ""
			assert.Equal(t, &Declaration{
				OutOrderNo:      "1805123918160384498567689",
				PaymentNo:       "2018051816320384498567689",
				Customs:         CustomsBeijing,
				WechatpayNo:     "4200000295201904031234567890",
				State:           DeclarationStateProcessing,
				ModifyTime:      d.ModifyTime,
				SubOrderNo:      "18051816320384338567689",
				SubOrderAmount:  "46.44",
				TransportAmount: "23.22",
				ProductAmount:   "23.22",
				CertCheckResult: CertCheckDifferent,
			}, d)
		})
	}
}

func TestGetDeclarationErrors(t *testing.T) {
	for _, a := range errorAnswers("ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported") {
		t.Run(a.name, func(t *testing.T) {
			c, w := newWireMock(t)
			w.on(http.MethodGet, "wechatpay/declaration", a.status, a.body)
			d, err := c.GetDeclaration(context.Background(), DeclarationQuery{PaymentNo: "P", Customs: CustomsBeijing})
			assert.Nil(t, d)
			assertAPIError(t, err, a.status, "ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile)
			assert.Len(t, w.requests(), 1)
		})
	}
}

func TestGetDeclarationValidation(t *testing.T) {
	c, w := newWireMock(t)
	for _, tc := range []struct {
		name  string
		q     DeclarationQuery
		field string
	}{
		{"empty", DeclarationQuery{}, "payment_no"},
		{"no identifier", DeclarationQuery{Customs: CustomsBeijing}, "payment_no"},
		{"no customs", DeclarationQuery{PaymentNo: "P"}, "customs"},
		{"malformed customs", DeclarationQuery{SubOrderNo: "S", Customs: "beijing"}, "customs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := c.GetDeclaration(context.Background(), tc.q)
			assert.Nil(t, d)
			assertInvalid(t, w, err, tc.field)
		})
	}
}
