package hipopay

// Tests of the shared types: currencies, the enums' documented values,
// customs codes and the unified declaration rule, the refund result-code
// table of the reference, decimal amounts in minor units, HipoPay's UTC+8
// times, and the lenient decoding of HipoPay's answers.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCurrencies(t *testing.T) {
	// The reference's currency table, in its order.
	assert.Equal(t, []Currency{"CNY", "GBP", "HKD", "USD", "JPY", "CAD", "AUD", "EUR", "NZD", "KRW", "THB"}, Currencies())
	for _, c := range Currencies() {
		assert.True(t, c.Known(), c)
		assert.True(t, c.wellFormed(), c)
		want := 2
		if c == JPY || c == KRW {
			want = 0
		}
		assert.Equal(t, want, c.Decimals(), c)
	}
	assert.Equal(t, 0, JPY.Decimals())
	assert.Equal(t, 0, KRW.Decimals())
	assert.Equal(t, 2, HKD.Decimals())
	assert.Equal(t, 2, THB.Decimals())
	for _, c := range []Currency{"", "XYZ", "hkd", "Hkd", "HK", "HKDD", "SGD"} {
		assert.False(t, c.Known(), "%q", c)
		assert.Equal(t, 2, c.Decimals(), "an unknown currency is taken to have two decimals: %q", c)
	}
	assert.True(t, Currency("SGD").wellFormed(), "codes HipoPay may add later are not refused")
	for _, c := range []Currency{"", "hkd", "HK", "HKDD", "HK1", "H D", "ＨＫＤ"} {
		assert.False(t, c.wellFormed(), "%q", c)
	}
	// Currencies returns a fresh slice.
	cs := Currencies()
	cs[0] = "XXX"
	assert.Equal(t, CNY, Currencies()[0])
}

// The enums carry the reference's exact values.
func TestDocumentedEnumValues(t *testing.T) {
	assert.Equal(t, []string{"INIT", "PAID", "FAIL", "USERPAYING", "EXPIRED"}, []string{
		string(PaymentStatusInit), string(PaymentStatusPaid), string(PaymentStatusFail),
		string(PaymentStatusUserPaying), string(PaymentStatusExpired)})
	assert.Equal(t, []string{"SUCCESS", "PROCESSING", "FAIL"}, []string{
		string(RefundStatusSuccess), string(RefundStatusProcessing), string(RefundStatusFail)})
	assert.Equal(t, []string{"UNDECLARED", "SUBMITTED", "PROCESSING", "SUCCESS", "FAIL", "EXCEPT"}, []string{
		string(DeclarationStateUndeclared), string(DeclarationStateSubmitted), string(DeclarationStateProcessing),
		string(DeclarationStateSuccess), string(DeclarationStateFail), string(DeclarationStateExcept)})
	assert.Equal(t, []string{"UNCHECKED", "SAME", "DIFFERENT"}, []string{
		string(CertCheckUnchecked), string(CertCheckSame), string(CertCheckDifferent)})
	assert.Equal(t, []string{"UNIONPAY", "NETSUNION", "OTHERS"}, []string{
		string(VerifyDepartmentUnionPay), string(VerifyDepartmentNetsUnion), string(VerifyDepartmentOthers)})
	assert.Equal(t, []string{"ADD", "MODIFY"}, []string{string(ActionAdd), string(ActionModify)})
}

func TestPaymentStatusFinal(t *testing.T) {
	for s, final := range map[PaymentStatus]bool{
		PaymentStatusInit: false, PaymentStatusUserPaying: false,
		PaymentStatusPaid: true, PaymentStatusFail: true, PaymentStatusExpired: true,
		"": false, "UNKNOWN": false,
	} {
		assert.Equal(t, final, s.Final(), "%q", s)
	}
}

// The reference's customs code table: 14 rows, 13 distinct codes (Fuzhou
// pushes GUANGZHOU_ZS).
var referenceCustomsCodes = []CustomsCode{
	"GUANGZHOU_ZS", "GUANGZHOU_HP_GJ", "GUANGZHOU_NS_GJ", "HANGZHOU_ZS", "NINGBO", "ZHENGZHOU_BS", "CHONGQING",
	"XIAN", "SHANGHAI_ZS", "SHENZHEN", "ZHENGZHOU_ZH_ZS", "TIANJIN", "BEIJING",
}

func TestCustomsCodes(t *testing.T) {
	require.Len(t, referenceCustomsCodes, 13)
	assert.ElementsMatch(t, referenceCustomsCodes, CustomsCodes())
	assert.Len(t, CustomsCodes(), 13, "no duplicates")
	for _, c := range referenceCustomsCodes {
		assert.True(t, c.Known(), c)
	}
	for _, c := range []CustomsCode{"", "FUZHOU", "shenzhen", "SHENZHEN ", "GUANGZHOU"} {
		assert.False(t, c.Known(), "%q", c)
	}
}

func TestCustomsUnifiedDeclaration(t *testing.T) {
	for _, c := range []CustomsCode{CustomsGuangzhouHPGJ, CustomsGuangzhouNSGJ} {
		other, ok := c.alsoRequires()
		assert.True(t, ok, c)
		assert.Equal(t, CustomsGuangzhouZS, other, c)
		assert.Equal(t, []CustomsCode{CustomsGuangzhouZS, c}, c.UnifiedDeclaration(), c)
	}
	assert.Equal(t, []CustomsCode{"GUANGZHOU_ZS", "GUANGZHOU_HP_GJ"}, CustomsGuangzhouHPGJ.UnifiedDeclaration())
	assert.Equal(t, []CustomsCode{"GUANGZHOU_ZS", "GUANGZHOU_NS_GJ"}, CustomsGuangzhouNSGJ.UnifiedDeclaration())
	for _, c := range append(referenceCustomsCodes, "", "FUZHOU_2") {
		if c == CustomsGuangzhouHPGJ || c == CustomsGuangzhouNSGJ {
			continue
		}
		other, ok := c.alsoRequires()
		assert.False(t, ok, "%q", c)
		assert.Empty(t, other, "%q", c)
		assert.Equal(t, []CustomsCode{c}, c.UnifiedDeclaration(), "%q", c)
	}
	other, ok := CustomsShenzhen.alsoRequires()
	assert.False(t, ok)
	assert.Equal(t, CustomsCode(""), other)
	assert.Equal(t, []CustomsCode{CustomsShenzhen}, CustomsShenzhen.UnifiedDeclaration())
}

// referenceRefundCodes is the reference's "Refund Code" table, row by row:
// code, message, description.
var referenceRefundCodes = [][3]string{
	{"0000", "Refund Processing", ""},
	{"0001", "Refund xxxxxxxx Already Exists.", ""},
	{"0002", "payment xxxxxxxxxx Not Found.", ""},
	{"0003", "Refund currency error.", ""},
	{"0004", "Payment not paid yet.", ""},
	{"0005", "Payment not credited yet.", ""},
	{"0006", "Payment full refunded.", ""},
	{"0007", "payment settle_forex rate is -0.1", ""},
	{"0008", "Payment refundable not enough.", ""},
	{"0009", "refund amount must more than zero.", ""},
	{"0010", "merchant has not HKD balance.", ""},
	{"0011", "Settled Balance not enough.", ""},
	{"0012", "Unsettled Balance not enough.", ""},
	{"0013", "Refund xxxxx Invalid", ""},
	{"0099", "SYSYTEM_ERROR", ""},
	{"0101", "NOTENOUGH", "merchant balance not enough for refunding"},
	{"0102", "USER_ACCOUNT_ABNORMAL", "User account signed out"},
	{"0103", "SYSTEMERROR", "API Errore"},
	{"0104", "BIZERR_NEED_RETRY", "Need retry"},
	{"0105", "TRADE_OVERDUE", "payment expeired"},
	{"0106", "ERROR", "Channel Error"},
	{"0107", "INVALID_REQ_TOO_MUCH", "invalid request too much"},
	{"0108", "INVALID_TRANSACTIONID", "invalid transaction_id"},
	{"0109", "PARAM_ERROR", "param error"},
	{"0110", "APPID_NOT_EXIST", "appid not exist"},
	{"0111", "MCHID_NOT_EXIST", "mchid not exist"},
	{"0112", "ORDERNOTEXIST", "payment not exist"},
	{"0113", "REQUIRE_POST_METHOD", ""},
	{"0114", "SIGNERROR", ""},
	{"0115", "XML_FORMAT_ERROR", ""},
	{"0116", "FREQUENCY_LIMITED", ""},
	{"0117", "NOAUTH", ""},
	{"0118", "CERT_ERROR", ""},
	{"0119", "REFUND_FEE_MISMATCH", "double request different amount"},
	{"0120", "INVALID_REQUEST", "param error"},
	{"0121", "ORDER_NOT_READY", "payment processing ,try later"},
	{"0199", "SYSYTEM_ERROR", "wechatpay unknown error"},
	{"0201", "MERCHANT_BALANCE_NOT_ENOUGH", ""},
	{"0202", "REFUNDMENT_VALID_DATE_EXCEED", ""},
	{"0203", "SYSTEM_EXCEPTION", ""},
	{"0204", "ILLEGAL_ARGUMENT", ""},
	{"0205", "REPEATED_REFUNDMENT_REQUEST", ""},
	{"0206", "RETURN_AMOUNT_EXCEED", ""},
	{"0207", "CURRENCY_NOT_SAME", ""},
	{"0208", "PURCHASE_TRADE_NOT_EXIST", ""},
	{"0209", "TRADE_NOT_EXIST", ""},
	{"0210", "TRADE_STATUS_ERROR", ""},
	{"0211", "REFUND_AMT_RESTRICTION", ""},
	{"0212", "BUYER_NOT_EXIST", ""},
	{"0213", "REFUND_CHARGE_ERROR", ""},
	{"0214", "INVALID_PARAMETER", ""},
	{"0215", "REASON_TRADE_BEEN_FREEZEN", ""},
	{"0216", "REQUEST_AMOUNT_EXCEED", ""},
	{"0217", "ILLEGAL_SIGN", ""},
	{"0218", "ILLEGAL_SERVICE", ""},
	{"0219", "ILLEGAL_PARTNER", ""},
	{"0220", "ILLEGAL_SIGN_TYPE", ""},
	{"0221", "ILLEGAL_PARTNER_EXTERFACE", ""},
	{"0222", "ILLEGAL_DYN_MD5_KEY", ""},
	{"0223", "ILLEGAL_ENCRYPT", ""},
	{"0224", "ILLEGAL_USER", ""},
	{"0225", "ILLEGAL_EXTERFACE", ""},
	{"0226", "ILLEGAL_AGENT", ""},
	{"0227", "HAS_NO_PRIVILEGE", ""},
	{"0228", "INVALID_CHARACTER_SET", ""},
	{"0229", "SYSTEM_ERROR", ""},
	{"0230", "SESSION_TIMEOUT", ""},
	{"0231", "ILLEGAL_TARGET_SERVICE", ""},
	{"0232", "ILLEGAL_ACCESS_SWITCH_SYSTEM", ""},
	{"0233", "EXTERFACE_IS_CLOSED", ""},
	{"0299", "SYSYTEM_ERROR", "alipay unknow error"},
}

func TestRefundResultTable(t *testing.T) {
	require.Len(t, referenceRefundCodes, 71, "rows of the reference's table")
	rows := RefundResultCodes()
	require.Len(t, rows, 71)
	for i, ref := range referenceRefundCodes {
		code := RefundResultCode(ref[0])
		assert.Equal(t, code, rows[i].Code, "row %d", i)
		assert.Equal(t, ref[1], rows[i].Message, "message of %s", code)
		assert.Equal(t, ref[2], rows[i].Description, "description of %s", code)
		info, ok := code.Info()
		assert.True(t, ok, code)
		assert.Equal(t, rows[i], info)
		assert.True(t, code.Known(), code)
		assert.Equal(t, ref[1], code.Message())
		assert.Equal(t, ref[2], code.Description())
	}
	seen := map[RefundResultCode]bool{}
	for _, r := range rows {
		assert.False(t, seen[r.Code], "duplicate %s", r.Code)
		seen[r.Code] = true
	}

	// A few rows by their constants.
	assert.Equal(t, "Payment full refunded.", RefundResultPaymentFullyRefunded.Message())
	assert.Equal(t, RefundResultCode("0006"), RefundResultPaymentFullyRefunded)
	assert.Equal(t, RefundResultCode("0011"), RefundResultSettledBalanceNotEnough)
	assert.Equal(t, "Settled Balance not enough.", RefundResultSettledBalanceNotEnough.Message())
	assert.Equal(t, "BIZERR_NEED_RETRY", RefundResultWeChatNeedRetry.Message())
	assert.Equal(t, "Need retry", RefundResultWeChatNeedRetry.Description())
	assert.Equal(t, "REFUND_FEE_MISMATCH", RefundResultCode("0119").Message())
	assert.Equal(t, "double request different amount", RefundResultCode("0119").Description())
	assert.Equal(t, "alipay unknow error", RefundResultAlipayUnknownError.Description())
	assert.Equal(t, RefundResultCode("0299"), RefundResultAlipayUnknownError)
	assert.Equal(t, RefundResultCode("0001"), RefundResultAlreadyExists)
	assert.Equal(t, RefundResultCode("0000"), RefundResultProcessing)

	// RefundResultCodes returns a copy.
	rows[0].Message = "changed"
	assert.Equal(t, "Refund Processing", RefundResultCodes()[0].Message)

	for _, c := range []RefundResultCode{"", "9999", "11", "0014", "0300"} {
		info, ok := c.Info()
		assert.False(t, ok, "%q", c)
		assert.Equal(t, c, info.Code)
		assert.False(t, c.Known(), "%q", c)
		assert.Empty(t, c.Message(), "%q", c)
		assert.Empty(t, c.Description(), "%q", c)
		assert.False(t, c.Retryable(), "%q", c)
	}
}

func TestRefundResultRetryable(t *testing.T) {
	for _, c := range []RefundResultCode{"0099", "0104", "0116", "0121", "0103", "0199", "0299"} {
		assert.True(t, c.Retryable(), c)
	}
	for _, c := range []RefundResultCode{"0000", "0001", "0002", "0006", "0008", "0009", "0011", "0119", "0206"} {
		assert.False(t, c.Retryable(), c)
	}
}

func TestRefundResultIsFailure(t *testing.T) {
	assert.False(t, RefundResultCode("").IsFailure())
	assert.False(t, RefundResultProcessing.IsFailure())
	for _, row := range RefundResultCodes()[1:] {
		assert.True(t, row.Code.IsFailure(), row.Code)
	}
	assert.True(t, RefundResultCode("9999").IsFailure())
}

func TestParseMinor(t *testing.T) {
	for _, tc := range []struct {
		in       string
		decimals int
		want     int64
	}{
		{"8.88", 2, 888},
		{"8.8", 2, 880},
		{"8", 2, 800},
		{"0.01", 2, 1},
		{"0", 2, 0},
		{"0.00", 2, 0},
		{"00.10", 2, 10},
		{"-0.99", 2, -99},
		{"-1", 2, -100},
		{"1200", 0, 1200},
		{"0", 0, 0},
		{"9223372036854775807", 0, math.MaxInt64},
		{"92233720368547758.07", 2, math.MaxInt64},
		{"-92233720368547758.07", 2, -math.MaxInt64},
		{"1.234", 3, 1234},
	} {
		got, err := parseMinor(tc.in, tc.decimals)
		if assert.NoError(t, err, "%q", tc.in) {
			assert.Equal(t, tc.want, got, "%q with %d decimals", tc.in, tc.decimals)
		}
	}
	for _, tc := range []struct {
		in       string
		decimals int
	}{
		{"", 2}, {"-", 2}, {".", 2}, {"1.", 2}, {".5", 2}, {"-.5", 2}, {"8.888", 2}, {"1.5", 0}, {"1.0", 0},
		{"1e3", 2}, {"+1", 2}, {" 1", 2}, {"1 ", 2}, {"1,00", 2}, {"１", 2}, {"1.2.3", 2}, {"--1", 2},
		{"0x10", 2}, {"NaN", 2}, {"9223372036854775808", 0}, {"92233720368547758.08", 2}, {"99999999999999999999", 2},
	} {
		_, err := parseMinor(tc.in, tc.decimals)
		assert.Error(t, err, "%q with %d decimals", tc.in, tc.decimals)
	}
	_, err := parseMinor("1.5", 0)
	assert.ErrorContains(t, err, "decimals")
}

func TestFormatMinor(t *testing.T) {
	for _, tc := range []struct {
		n        int64
		decimals int
		want     string
	}{
		{888, 2, "8.88"},
		{880, 2, "8.80"},
		{5, 2, "0.05"},
		{50, 2, "0.50"},
		{0, 2, "0.00"},
		{100, 2, "1.00"},
		{-99, 2, "-0.99"},
		{-5, 2, "-0.05"},
		{-100, 2, "-1.00"},
		{1200, 0, "1200"},
		{0, 0, "0"},
		{-1, 0, "-1"},
		{math.MaxInt64, 2, "92233720368547758.07"},
		{math.MinInt64, 2, "-92233720368547758.08"},
		{math.MinInt64, 0, "-9223372036854775808"},
	} {
		assert.Equal(t, tc.want, formatMinor(tc.n, tc.decimals), "%d with %d decimals", tc.n, tc.decimals)
	}
	// Round trip.
	for _, d := range []int{0, 2} {
		for _, n := range []int64{0, 1, 9, 10, 99, 100, 101, 888, 123456789, -1, -99, -100, -123456789, math.MaxInt64, -math.MaxInt64} {
			got, err := parseMinor(formatMinor(n, d), d)
			require.NoError(t, err)
			assert.Equal(t, n, got, "%d with %d decimals", n, d)
		}
	}
}

func TestChinaTimeZone(t *testing.T) {
	z := ChinaTimeZone()
	require.NotNil(t, z)
	for _, m := range []time.Month{time.January, time.July} { // no daylight saving
		_, off := time.Date(2019, m, 1, 12, 0, 0, 0, z).Zone()
		assert.Equal(t, 8*60*60, off, m)
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2018-08-13 16:33:16", "2018-08-13 16:33:16"},
		{"20190403171704", "2019-04-03 17:17:04"},
		{"2019-12-31 23:59:59", "2019-12-31 23:59:59"},
		{"20200229000000", "2020-02-29 00:00:00"},
	} {
		got, err := parseTime(tc.in)
		require.NoError(t, err, tc.in)
		assertChinaTime(t, got, tc.want)
	}
	got, err := parseTime("2018-08-13 16:33:16")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2018, 8, 13, 8, 33, 16, 0, time.UTC), got.UTC())
	got, err = parseTime("20190403171704")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2019, 4, 3, 9, 17, 4, 0, time.UTC), got.UTC())

	got, err = parseTime("")
	require.NoError(t, err)
	assert.True(t, got.IsZero())

	for _, bad := range []string{"2018-08-13T16:33:16Z", "2018-08-13", "20190403", "2019040317170", "201904031717044",
		"2019-02-30 00:00:00", "20191301000000", "yesterday", "2018-08-13 16:33:16 +0800", "1550548767"} {
		_, err := parseTime(bad)
		assert.Error(t, err, bad)
	}
}

func TestFlexBool(t *testing.T) {
	for in, want := range map[string]flexBool{
		`true`: {true, true}, `"True"`: {true, true}, `"true"`: {true, true}, `"TRUE"`: {true, true},
		`false`: {false, true}, `"False"`: {false, true}, `"false"`: {false, true}, `"FALSE"`: {false, true},
		`null`: {},
	} {
		var got flexBool
		require.NoError(t, json.Unmarshal([]byte(in), &got), in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{`1`, `0`, `"yes"`, `"T"`, `""`, `{}`, `[]`} {
		var got flexBool
		assert.Error(t, json.Unmarshal([]byte(in), &got), in)
	}
}

func TestFlexString(t *testing.T) {
	for in, want := range map[string]string{
		`"8.88"`: "8.88", `8.88`: "8.88", `0.1490046489450470854690666349`: "0.1490046489450470854690666349",
		`1200`: "1200", `true`: "true", `null`: "", `"成功"`: "成功", `"a\"b"`: `a"b`, `""`: "",
	} {
		var got flexString
		require.NoError(t, json.Unmarshal([]byte(in), &got), in)
		assert.Equal(t, want, string(got), in)
	}
	for _, in := range []string{`{"a": 1}`, `[1]`} {
		var got flexString
		assert.Error(t, json.Unmarshal([]byte(in), &got), in)
	}
}

func TestFlexTime(t *testing.T) {
	var v struct {
		A flexTime `json:"a"`
		B flexTime `json:"b"`
		C flexTime `json:"c"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"a": "2018-08-13 16:33:16", "b": 20190403171704, "c": null}`), &v))
	assertChinaTime(t, time.Time(v.A), "2018-08-13 16:33:16")
	assertChinaTime(t, time.Time(v.B), "2019-04-03 17:17:04")
	assert.True(t, time.Time(v.C).IsZero())
	// A time in an unknown layout is zero, not a failed answer.
	require.NoError(t, json.Unmarshal([]byte(`{"a": "13/08/2018"}`), &v))
	assert.True(t, time.Time(v.A).IsZero())
}

func TestUnmarshalLenient(t *testing.T) {
	type doc struct {
		OK    flexBool   `json:"ok"`
		A     flexString `json:"a"`
		B     flexString `json:"b"`
		N     *int       `json:"n"`
		Items []int      `json:"items"`
	}
	for name, tc := range map[string]struct {
		in   string
		want doc
	}{
		"json":            {`{"ok": true, "a": "x", "items": [1, 2]}`, doc{OK: flexBool{true, true}, A: "x", Items: []int{1, 2}}},
		"python booleans": {`{"ok": True, "a": "x"}`, doc{OK: flexBool{true, true}, A: "x"}},
		"python false":    {`{"ok": False}`, doc{OK: flexBool{false, true}}},
		"python None":     {`{"ok": True, "n": None}`, doc{OK: flexBool{true, true}}},
		"trailing commas": {"{\n\"ok\": True,\n\"items\": [1, 2,\n],\n}", doc{OK: flexBool{true, true}, Items: []int{1, 2}}},
		"words inside strings are kept": {`{"ok": True, "a": "True, False, None,}", "b": "say \"True\",]",}`,
			doc{OK: flexBool{true, true}, A: "True, False, None,}", B: `say "True",]`}},
		"utf-8 BOM":          {"\xef\xbb\xbf{\"ok\": true}", doc{OK: flexBool{true, true}}},
		"BOM and python":     {"\xef\xbb\xbf{\"ok\": True,}", doc{OK: flexBool{true, true}}},
		"unknown fields":     {`{"ok": true, "new": {"deep": [True, None]}}`, doc{OK: flexBool{true, true}}},
		"non-ASCII strings":  {`{"ok": True, "a": "成功",}`, doc{OK: flexBool{true, true}, A: "成功"}},
		"escaped backslash":  {`{"a": "C:\\", "ok": True}`, doc{OK: flexBool{true, true}, A: `C:\`}},
		"string ending in a": {`{"a": "\\\"", "ok": False,}`, doc{OK: flexBool{false, true}, A: `\"`}},
	} {
		t.Run(name, func(t *testing.T) {
			var got doc
			require.NoError(t, unmarshalLenient([]byte(tc.in), &got))
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{``, `{`, `{"ok": Truthy}`, `{"ok": true`, `not json`, `{"a": {"x": 1}}`, `{"ok": "maybe"}`} {
		var got doc
		assert.Error(t, unmarshalLenient([]byte(bad), &got), bad)
	}
	// The error of text that is neither JSON nor Python-flavoured JSON is
	// the JSON decoder's own.
	var got doc
	err := unmarshalLenient([]byte(`{"ok": true,, }`), &got)
	var syn *json.SyntaxError
	assert.True(t, errors.As(err, &syn), "%v", err)
}

func TestAPIErrorSentinels(t *testing.T) {
	for code, sentinel := range map[string]*APIError{
		"PAYMENT_NOT_FOUND":                        ErrPaymentNotFound,
		"REFUND_NOT_FOUND":                         ErrRefundNotFound,
		"CURRENCY_NOT_SUPPORT":                     ErrCurrencyNotSupported,
		"FOREX_MERCHANT_NOT_SUPPORT_THIS_CURRENCY": ErrForexMerchantNotSupportThisCurrency,
		"REFUND_AMOUNT_INVALID":                    ErrRefundAmountInvalid,
		"ILLEGAL_SECURITY_PROFILE":                 ErrIllegalSecurityProfile,
	} {
		assert.Equal(t, code, sentinel.Code)
		err := fmt.Errorf("wrapped: %w", &APIError{StatusCode: 400, Code: code, Message: "m"})
		assert.ErrorIs(t, err, sentinel, code)
		for _, other := range documentedSentinels {
			if other != sentinel {
				assert.NotErrorIs(t, err, other, code)
			}
		}
	}
	// An error without a code matches no sentinel, not even one without a code.
	noCode := &APIError{StatusCode: 502, Message: "Bad Gateway"}
	for _, s := range documentedSentinels {
		assert.NotErrorIs(t, noCode, s)
	}
	assert.NotErrorIs(t, noCode, &APIError{})
	assert.Equal(t, "hipopay: PAYMENT_NOT_FOUND: Order not found (HTTP 404)",
		(&APIError{StatusCode: 404, Code: "PAYMENT_NOT_FOUND", Message: "Order not found"}).Error())

	ve := fmt.Errorf("ctx: %w", invalid("amount", "%q is not a plain decimal", "1e3"))
	assert.ErrorIs(t, ve, ErrInvalidRequest)
	var v *ValidationError
	require.ErrorAs(t, ve, &v)
	assert.Equal(t, "amount", v.Field)
	assert.Equal(t, `hipopay: invalid amount (Amount): "1e3" is not a plain decimal`, v.Error())
}

func TestLeadingZerosAndBlankIdentifiersAreRefused(t *testing.T) {
	assert.Error(t, validAmount("amount", "00.10", HKD))
	assert.Error(t, validAmount("amount", "012", JPY))
	assert.NoError(t, validAmount("amount", "0.10", HKD))
	assert.NoError(t, validAmount("amount", "10", JPY))

	c, mock := newMockClient(t)
	_, err := c.GetPayment(context.Background(), PaymentQuery{PaymentNo: " "})
	assert.ErrorIs(t, err, ErrInvalidRequest)
	_, err = c.GetRefund(context.Background(), RefundQuery{OutRefundID: "\t"})
	assert.ErrorIs(t, err, ErrInvalidRequest)
	_, err = c.GetDeclaration(context.Background(), DeclarationQuery{SubOrderNo: " ", Customs: CustomsShenzhen})
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.Zero(t, mock.GetTotalCallCount())
}

func TestParseAndFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		text  string
		c     Currency
		minor int64
		back  string
	}{
		{"8.88", HKD, 888, "8.88"}, {"8.8", HKD, 880, "8.80"}, {"1200", JPY, 1200, "1200"},
		{"-0.99", HKD, -99, "-0.99"}, {"0", KRW, 0, "0"}, {"0.05", USD, 5, "0.05"},
	} {
		n, err := ParseAmount(tc.text, tc.c)
		require.NoError(t, err, tc.text)
		assert.Equal(t, tc.minor, n, tc.text)
		assert.Equal(t, tc.back, FormatAmount(n, tc.c), tc.text)
	}
	for _, bad := range []struct {
		text string
		c    Currency
	}{{"1.5", JPY}, {"8.888", HKD}, {"1e3", HKD}, {"+1", HKD}, {" 1", HKD}, {"", HKD}, {"99999999999999999999", HKD}} {
		_, err := ParseAmount(bad.text, bad.c)
		assert.Error(t, err, bad.text)
	}
}

func TestValidationErrorNamesBothSpellings(t *testing.T) {
	for wire, goName := range map[string]string{
		"out_trade_id": "OutTradeID", "appid": "AppID", "openid": "OpenID", "client_ip": "ClientIP",
		"notify_url": "NotifyURL", "mch_customs_no": "MchCustomsNo", "cert_id": "CertID", "amount": "Amount",
		"sub_order_amount": "SubOrderAmount", "start_date": "StartDate",
	} {
		err := invalid(wire, "is required")
		assert.Equal(t, "hipopay: invalid "+wire+" ("+goName+"): is required", err.Error())
		assert.Equal(t, wire, err.Field)
	}
	assert.Equal(t, "hipopay: invalid request: is nil", invalid("request", "is nil").Error())
}
