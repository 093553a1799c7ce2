// Shared types of the HipoPay API: currencies, payment, refund and
// declaration states, customs codes, the refund result-code table, and the
// UTC+8 times and decimal amounts every endpoint uses.

package hipopay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Currency is a three-letter ISO 4217 code as HipoPay writes it.
type Currency string

// The currencies HipoPay documents for pricing an order.
const (
	CNY Currency = "CNY" // Chinese Yuan
	GBP Currency = "GBP" // Great Britain Pound
	HKD Currency = "HKD" // Hong Kong Dollar
	USD Currency = "USD" // US Dollar
	JPY Currency = "JPY" // Japanese Yen (no decimals)
	CAD Currency = "CAD" // Canadian Dollar
	AUD Currency = "AUD" // Australian Dollar
	EUR Currency = "EUR" // Euro
	NZD Currency = "NZD" // New Zealand Dollar
	KRW Currency = "KRW" // Korean Won (no decimals)
	THB Currency = "THB" // Thai Baht
)

// Currencies lists every currency HipoPay documents, in the reference's order.
func Currencies() []Currency {
	return []Currency{CNY, GBP, HKD, USD, JPY, CAD, AUD, EUR, NZD, KRW, THB}
}

// Known reports whether c is one of the currencies HipoPay documents.
func (c Currency) Known() bool {
	switch c {
	case CNY, GBP, HKD, USD, JPY, CAD, AUD, EUR, NZD, KRW, THB:
		return true
	}
	return false
}

// Decimals is the number of decimal places of an amount in c: none for JPY
// and KRW, two for every other currency.
func (c Currency) Decimals() int {
	if c == JPY || c == KRW {
		return 0
	}
	return 2
}

// wellFormed reports whether c looks like a currency code (three upper-case
// ASCII letters). The SDK does not refuse codes HipoPay may add later.
func (c Currency) wellFormed() bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// PaymentStatus is the state of a payment order.
type PaymentStatus string

// Payment order states.
const (
	PaymentStatusInit       PaymentStatus = "INIT"       // created
	PaymentStatusPaid       PaymentStatus = "PAID"       // paid
	PaymentStatusFail       PaymentStatus = "FAIL"       // failed
	PaymentStatusUserPaying PaymentStatus = "USERPAYING" // waiting for the buyer
	PaymentStatusExpired    PaymentStatus = "EXPIRED"    // timed out
)

// Final reports whether the payment can no longer change state by itself
// (PAID, FAIL or EXPIRED).
func (s PaymentStatus) Final() bool {
	return s == PaymentStatusPaid || s == PaymentStatusFail || s == PaymentStatusExpired
}

// RefundStatus is the state of a refund order.
type RefundStatus string

// Refund order states.
const (
	RefundStatusSuccess    RefundStatus = "SUCCESS"
	RefundStatusProcessing RefundStatus = "PROCESSING"
	RefundStatusFail       RefundStatus = "FAIL"
)

// DeclarationState is the state of a customs declaration.
type DeclarationState string

// Customs declaration states.
const (
	DeclarationStateUndeclared DeclarationState = "UNDECLARED" // not declared
	DeclarationStateSubmitted  DeclarationState = "SUBMITTED"  // submitted (also after a re-submission)
	DeclarationStateProcessing DeclarationState = "PROCESSING" // being declared
	DeclarationStateSuccess    DeclarationState = "SUCCESS"    // declared
	DeclarationStateFail       DeclarationState = "FAIL"       // declaration failed
	DeclarationStateExcept     DeclarationState = "EXCEPT"     // customs interface exception
)

// CertCheckResult is the outcome of checking the buyer's identity.
type CertCheckResult string

// Identity check results.
const (
	CertCheckUnchecked CertCheckResult = "UNCHECKED" // the merchant sent no identity
	CertCheckSame      CertCheckResult = "SAME"      // the identity matches the payer's
	CertCheckDifferent CertCheckResult = "DIFFERENT" // the identity differs from the payer's
)

// VerifyDepartment is the department that verified the payment for customs.
type VerifyDepartment string

// Verification departments.
const (
	VerifyDepartmentUnionPay  VerifyDepartment = "UNIONPAY"
	VerifyDepartmentNetsUnion VerifyDepartment = "NETSUNION"
	VerifyDepartmentOthers    VerifyDepartment = "OTHERS" // e.g. Balance, Mini Fund
)

// ActionType says whether a declaration adds or modifies one.
type ActionType string

// Declaration actions.
const (
	ActionAdd    ActionType = "ADD"    // the default
	ActionModify ActionType = "MODIFY" // parameters must match the first declaration
)

// CustomsCode names the customs office a declaration goes to.
type CustomsCode string

// The customs codes HipoPay documents.
const (
	CustomsGuangzhouZS   CustomsCode = "GUANGZHOU_ZS"    // Guangzhou (general administration); also Fuzhou
	CustomsGuangzhouHPGJ CustomsCode = "GUANGZHOU_HP_GJ" // Huangpu inspection and quarantine
	CustomsGuangzhouNSGJ CustomsCode = "GUANGZHOU_NS_GJ" // Nansha inspection and quarantine
	CustomsHangzhouZS    CustomsCode = "HANGZHOU_ZS"     // Hangzhou (general administration)
	CustomsNingbo        CustomsCode = "NINGBO"          // Ningbo
	CustomsZhengzhouBS   CustomsCode = "ZHENGZHOU_BS"    // Zhengzhou bonded logistics center
	CustomsChongqing     CustomsCode = "CHONGQING"       // Chongqing
	CustomsXian          CustomsCode = "XIAN"            // Xi'an
	CustomsShanghaiZS    CustomsCode = "SHANGHAI_ZS"     // Shanghai (general administration)
	CustomsShenzhen      CustomsCode = "SHENZHEN"        // Shenzhen
	CustomsZhengzhouZHZS CustomsCode = "ZHENGZHOU_ZH_ZS" // Zhengzhou comprehensive bonded zone
	CustomsTianjin       CustomsCode = "TIANJIN"         // Tianjin
	CustomsBeijing       CustomsCode = "BEIJING"         // Beijing
)

// CustomsCodes lists every customs code HipoPay documents.
func CustomsCodes() []CustomsCode {
	return []CustomsCode{CustomsGuangzhouZS, CustomsGuangzhouHPGJ, CustomsGuangzhouNSGJ, CustomsHangzhouZS,
		CustomsNingbo, CustomsZhengzhouBS, CustomsChongqing, CustomsXian, CustomsShanghaiZS, CustomsShenzhen,
		CustomsZhengzhouZHZS, CustomsTianjin, CustomsBeijing}
}

// Known reports whether c is one of the customs codes HipoPay documents.
func (c CustomsCode) Known() bool {
	for _, k := range CustomsCodes() {
		if c == k {
			return true
		}
	}
	return false
}

// AlsoRequires returns the customs code that must be declared as well under
// the "unified declaration" rule: the Huangpu and Nansha inspection bureaus
// (GUANGZHOU_HP_GJ, GUANGZHOU_NS_GJ) need the declaration pushed a second
// time to GUANGZHOU_ZS. It returns "", false for every other code.
func (c CustomsCode) AlsoRequires() (CustomsCode, bool) {
	if c == CustomsGuangzhouHPGJ || c == CustomsGuangzhouNSGJ {
		return CustomsGuangzhouZS, true
	}
	return "", false
}

// UnifiedDeclaration returns every customs code a declaration for c must be
// pushed to, in order: GUANGZHOU_ZS then c for the Huangpu and Nansha
// bureaus, c alone otherwise.
func (c CustomsCode) UnifiedDeclaration() []CustomsCode {
	if other, ok := c.AlsoRequires(); ok {
		return []CustomsCode{other, c}
	}
	return []CustomsCode{c}
}

// RefundResultCode is the result_code of a refund answer: "0000" while the
// refund is processing, another code of the reference's table when it fails.
type RefundResultCode string

// The refund result codes of the reference's table.
const (
	RefundResultProcessing                    RefundResultCode = "0000"
	RefundResultAlreadyExists                 RefundResultCode = "0001"
	RefundResultPaymentNotFound               RefundResultCode = "0002"
	RefundResultCurrencyError                 RefundResultCode = "0003"
	RefundResultPaymentNotPaid                RefundResultCode = "0004"
	RefundResultPaymentNotCredited            RefundResultCode = "0005"
	RefundResultPaymentFullyRefunded          RefundResultCode = "0006"
	RefundResultSettleForexRateInvalid        RefundResultCode = "0007"
	RefundResultRefundableNotEnough           RefundResultCode = "0008"
	RefundResultAmountNotPositive             RefundResultCode = "0009"
	RefundResultNoHKDBalance                  RefundResultCode = "0010"
	RefundResultSettledBalanceNotEnough       RefundResultCode = "0011"
	RefundResultUnsettledBalanceNotEnough     RefundResultCode = "0012"
	RefundResultRefundInvalid                 RefundResultCode = "0013"
	RefundResultSystemError                   RefundResultCode = "0099"
	RefundResultWeChatNotEnough               RefundResultCode = "0101"
	RefundResultWeChatUserAccountAbnormal     RefundResultCode = "0102"
	RefundResultWeChatSystemError             RefundResultCode = "0103"
	RefundResultWeChatNeedRetry               RefundResultCode = "0104"
	RefundResultWeChatTradeOverdue            RefundResultCode = "0105"
	RefundResultWeChatChannelError            RefundResultCode = "0106"
	RefundResultWeChatTooManyRequests         RefundResultCode = "0107"
	RefundResultWeChatInvalidTransaction      RefundResultCode = "0108"
	RefundResultWeChatParamError              RefundResultCode = "0109"
	RefundResultWeChatAppIDNotExist           RefundResultCode = "0110"
	RefundResultWeChatMchIDNotExist           RefundResultCode = "0111"
	RefundResultWeChatOrderNotExist           RefundResultCode = "0112"
	RefundResultWeChatRequirePost             RefundResultCode = "0113"
	RefundResultWeChatSignError               RefundResultCode = "0114"
	RefundResultWeChatXMLFormatError          RefundResultCode = "0115"
	RefundResultWeChatFrequencyLimited        RefundResultCode = "0116"
	RefundResultWeChatNoAuth                  RefundResultCode = "0117"
	RefundResultWeChatCertError               RefundResultCode = "0118"
	RefundResultWeChatRefundFeeMismatch       RefundResultCode = "0119"
	RefundResultWeChatInvalidRequest          RefundResultCode = "0120"
	RefundResultWeChatOrderNotReady           RefundResultCode = "0121"
	RefundResultWeChatUnknownError            RefundResultCode = "0199"
	RefundResultAlipayBalanceNotEnough        RefundResultCode = "0201"
	RefundResultAlipayValidDateExceeded       RefundResultCode = "0202"
	RefundResultAlipaySystemException         RefundResultCode = "0203"
	RefundResultAlipayIllegalArgument         RefundResultCode = "0204"
	RefundResultAlipayRepeatedRequest         RefundResultCode = "0205"
	RefundResultAlipayReturnAmountExceed      RefundResultCode = "0206"
	RefundResultAlipayCurrencyNotSame         RefundResultCode = "0207"
	RefundResultAlipayPurchaseNotExist        RefundResultCode = "0208"
	RefundResultAlipayTradeNotExist           RefundResultCode = "0209"
	RefundResultAlipayTradeStatusError        RefundResultCode = "0210"
	RefundResultAlipayAmountRestriction       RefundResultCode = "0211"
	RefundResultAlipayBuyerNotExist           RefundResultCode = "0212"
	RefundResultAlipayChargeError             RefundResultCode = "0213"
	RefundResultAlipayInvalidParameter        RefundResultCode = "0214"
	RefundResultAlipayTradeFrozen             RefundResultCode = "0215"
	RefundResultAlipayRequestAmountExceed     RefundResultCode = "0216"
	RefundResultAlipayIllegalSign             RefundResultCode = "0217"
	RefundResultAlipayIllegalService          RefundResultCode = "0218"
	RefundResultAlipayIllegalPartner          RefundResultCode = "0219"
	RefundResultAlipayIllegalSignType         RefundResultCode = "0220"
	RefundResultAlipayIllegalPartnerExterface RefundResultCode = "0221"
	RefundResultAlipayIllegalDynMD5Key        RefundResultCode = "0222"
	RefundResultAlipayIllegalEncrypt          RefundResultCode = "0223"
	RefundResultAlipayIllegalUser             RefundResultCode = "0224"
	RefundResultAlipayIllegalExterface        RefundResultCode = "0225"
	RefundResultAlipayIllegalAgent            RefundResultCode = "0226"
	RefundResultAlipayHasNoPrivilege          RefundResultCode = "0227"
	RefundResultAlipayInvalidCharset          RefundResultCode = "0228"
	RefundResultAlipaySystemError             RefundResultCode = "0229"
	RefundResultAlipaySessionTimeout          RefundResultCode = "0230"
	RefundResultAlipayIllegalTargetService    RefundResultCode = "0231"
	RefundResultAlipayIllegalAccessSwitch     RefundResultCode = "0232"
	RefundResultAlipayExterfaceClosed         RefundResultCode = "0233"
	RefundResultAlipayUnknownError            RefundResultCode = "0299"
)

// RefundResultInfo is one row of the reference's refund result-code table.
type RefundResultInfo struct {
	Code        RefundResultCode
	Message     string // the table's message, e.g. "Payment full refunded."
	Description string // the table's description, "" where it has none
	// Retryable says whether sending the same refund again later can
	// succeed without the merchant changing anything: system errors,
	// rate limits and payments not yet ready. A retry must reuse the same
	// out_refund_id.
	Retryable bool
}

var refundResultTable = [...]RefundResultInfo{
	{RefundResultProcessing, "Refund Processing", "", false},
	{RefundResultAlreadyExists, "Refund xxxxxxxx Already Exists.", "", false},
	{RefundResultPaymentNotFound, "payment xxxxxxxxxx Not Found.", "", false},
	{RefundResultCurrencyError, "Refund currency error.", "", false},
	{RefundResultPaymentNotPaid, "Payment not paid yet.", "", false},
	{RefundResultPaymentNotCredited, "Payment not credited yet.", "", true},
	{RefundResultPaymentFullyRefunded, "Payment full refunded.", "", false},
	{RefundResultSettleForexRateInvalid, "payment settle_forex rate is -0.1", "", false},
	{RefundResultRefundableNotEnough, "Payment refundable not enough.", "", false},
	{RefundResultAmountNotPositive, "refund amount must more than zero.", "", false},
	{RefundResultNoHKDBalance, "merchant has not HKD balance.", "", false},
	{RefundResultSettledBalanceNotEnough, "Settled Balance not enough.", "", false},
	{RefundResultUnsettledBalanceNotEnough, "Unsettled Balance not enough.", "", false},
	{RefundResultRefundInvalid, "Refund xxxxx Invalid", "", false},
	{RefundResultSystemError, "SYSYTEM_ERROR", "", true},
	{RefundResultWeChatNotEnough, "NOTENOUGH", "merchant balance not enough for refunding", false},
	{RefundResultWeChatUserAccountAbnormal, "USER_ACCOUNT_ABNORMAL", "User account signed out", false},
	{RefundResultWeChatSystemError, "SYSTEMERROR", "API Errore", true},
	{RefundResultWeChatNeedRetry, "BIZERR_NEED_RETRY", "Need retry", true},
	{RefundResultWeChatTradeOverdue, "TRADE_OVERDUE", "payment expeired", false},
	{RefundResultWeChatChannelError, "ERROR", "Channel Error", true},
	{RefundResultWeChatTooManyRequests, "INVALID_REQ_TOO_MUCH", "invalid request too much", true},
	{RefundResultWeChatInvalidTransaction, "INVALID_TRANSACTIONID", "invalid transaction_id", false},
	{RefundResultWeChatParamError, "PARAM_ERROR", "param error", false},
	{RefundResultWeChatAppIDNotExist, "APPID_NOT_EXIST", "appid not exist", false},
	{RefundResultWeChatMchIDNotExist, "MCHID_NOT_EXIST", "mchid not exist", false},
	{RefundResultWeChatOrderNotExist, "ORDERNOTEXIST", "payment not exist", false},
	{RefundResultWeChatRequirePost, "REQUIRE_POST_METHOD", "", false},
	{RefundResultWeChatSignError, "SIGNERROR", "", false},
	{RefundResultWeChatXMLFormatError, "XML_FORMAT_ERROR", "", false},
	{RefundResultWeChatFrequencyLimited, "FREQUENCY_LIMITED", "", true},
	{RefundResultWeChatNoAuth, "NOAUTH", "", false},
	{RefundResultWeChatCertError, "CERT_ERROR", "", false},
	{RefundResultWeChatRefundFeeMismatch, "REFUND_FEE_MISMATCH", "double request different amount", false},
	{RefundResultWeChatInvalidRequest, "INVALID_REQUEST", "param error", false},
	{RefundResultWeChatOrderNotReady, "ORDER_NOT_READY", "payment processing ,try later", true},
	{RefundResultWeChatUnknownError, "SYSYTEM_ERROR", "wechatpay unknown error", true},
	{RefundResultAlipayBalanceNotEnough, "MERCHANT_BALANCE_NOT_ENOUGH", "", false},
	{RefundResultAlipayValidDateExceeded, "REFUNDMENT_VALID_DATE_EXCEED", "", false},
	{RefundResultAlipaySystemException, "SYSTEM_EXCEPTION", "", true},
	{RefundResultAlipayIllegalArgument, "ILLEGAL_ARGUMENT", "", false},
	{RefundResultAlipayRepeatedRequest, "REPEATED_REFUNDMENT_REQUEST", "", false},
	{RefundResultAlipayReturnAmountExceed, "RETURN_AMOUNT_EXCEED", "", false},
	{RefundResultAlipayCurrencyNotSame, "CURRENCY_NOT_SAME", "", false},
	{RefundResultAlipayPurchaseNotExist, "PURCHASE_TRADE_NOT_EXIST", "", false},
	{RefundResultAlipayTradeNotExist, "TRADE_NOT_EXIST", "", false},
	{RefundResultAlipayTradeStatusError, "TRADE_STATUS_ERROR", "", false},
	{RefundResultAlipayAmountRestriction, "REFUND_AMT_RESTRICTION", "", false},
	{RefundResultAlipayBuyerNotExist, "BUYER_NOT_EXIST", "", false},
	{RefundResultAlipayChargeError, "REFUND_CHARGE_ERROR", "", false},
	{RefundResultAlipayInvalidParameter, "INVALID_PARAMETER", "", false},
	{RefundResultAlipayTradeFrozen, "REASON_TRADE_BEEN_FREEZEN", "", false},
	{RefundResultAlipayRequestAmountExceed, "REQUEST_AMOUNT_EXCEED", "", false},
	{RefundResultAlipayIllegalSign, "ILLEGAL_SIGN", "", false},
	{RefundResultAlipayIllegalService, "ILLEGAL_SERVICE", "", false},
	{RefundResultAlipayIllegalPartner, "ILLEGAL_PARTNER", "", false},
	{RefundResultAlipayIllegalSignType, "ILLEGAL_SIGN_TYPE", "", false},
	{RefundResultAlipayIllegalPartnerExterface, "ILLEGAL_PARTNER_EXTERFACE", "", false},
	{RefundResultAlipayIllegalDynMD5Key, "ILLEGAL_DYN_MD5_KEY", "", false},
	{RefundResultAlipayIllegalEncrypt, "ILLEGAL_ENCRYPT", "", false},
	{RefundResultAlipayIllegalUser, "ILLEGAL_USER", "", false},
	{RefundResultAlipayIllegalExterface, "ILLEGAL_EXTERFACE", "", false},
	{RefundResultAlipayIllegalAgent, "ILLEGAL_AGENT", "", false},
	{RefundResultAlipayHasNoPrivilege, "HAS_NO_PRIVILEGE", "", false},
	{RefundResultAlipayInvalidCharset, "INVALID_CHARACTER_SET", "", false},
	{RefundResultAlipaySystemError, "SYSTEM_ERROR", "", true},
	{RefundResultAlipaySessionTimeout, "SESSION_TIMEOUT", "", true},
	{RefundResultAlipayIllegalTargetService, "ILLEGAL_TARGET_SERVICE", "", false},
	{RefundResultAlipayIllegalAccessSwitch, "ILLEGAL_ACCESS_SWITCH_SYSTEM", "", false},
	{RefundResultAlipayExterfaceClosed, "EXTERFACE_IS_CLOSED", "", false},
	{RefundResultAlipayUnknownError, "SYSYTEM_ERROR", "alipay unknow error", true},
}

// RefundResultCodes returns the whole refund result-code table of the
// reference, in its order.
func RefundResultCodes() []RefundResultInfo {
	out := make([]RefundResultInfo, len(refundResultTable))
	copy(out, refundResultTable[:])
	return out
}

// Info returns the table row of c, and false for a code the table lacks.
func (c RefundResultCode) Info() (RefundResultInfo, bool) {
	for _, row := range refundResultTable {
		if row.Code == c {
			return row, true
		}
	}
	return RefundResultInfo{Code: c}, false
}

// Message returns the table's message for c ("" for an unknown code).
func (c RefundResultCode) Message() string { info, _ := c.Info(); return info.Message }

// Description returns the table's description for c, "" where it has none.
func (c RefundResultCode) Description() string { info, _ := c.Info(); return info.Description }

// Retryable reports whether sending the same refund (same out_refund_id)
// again later can help.
func (c RefundResultCode) Retryable() bool { info, _ := c.Info(); return info.Retryable }

// Known reports whether c is in the reference's table.
func (c RefundResultCode) Known() bool { _, ok := c.Info(); return ok }

// IsFailure reports whether c reports a failed refund: any code other than
// "" and "0000".
func (c RefundResultCode) IsFailure() bool {
	return c != "" && c != RefundResultProcessing
}

// ChinaTimeZone is the time zone of every HipoPay time: China Standard
// Time, UTC+8, with no daylight saving.
func ChinaTimeZone() *time.Location { return chinaZone }

var chinaZone = time.FixedZone("CST", 8*60*60)

const (
	timeLayout        = "2006-01-02 15:04:05"
	compactTimeLayout = "20060102150405"
	dateLayout        = "20060102"
)

// parseTime reads a HipoPay time in UTC+8: "2006-01-02 15:04:05" or the
// compact "20060102150405" of customs answers. An empty text is the zero
// time.
func parseTime(s string) (time.Time, error) {
	switch {
	case s == "":
		return time.Time{}, nil
	case len(s) == len(compactTimeLayout) && !strings.ContainsAny(s, "- :"):
		return time.ParseInLocation(compactTimeLayout, s, chinaZone)
	default:
		return time.ParseInLocation(timeLayout, s, chinaZone)
	}
}

// ParseAmount reads a decimal amount of currency c as exact minor units:
// "8.88" HKD is 888, "1200" JPY is 1200, "-0.99" HKD is -99. It refuses
// exponents, spaces, a '+' sign, and more decimals than c has (two; none
// for JPY and KRW) rather than round.
func ParseAmount(amount string, c Currency) (int64, error) {
	return parseMinor(amount, c.Decimals())
}

// FormatAmount writes minor units of currency c as decimal text:
// FormatAmount(888, HKD) is "8.88", FormatAmount(1200, JPY) is "1200".
func FormatAmount(minor int64, c Currency) string {
	return formatMinor(minor, c.Decimals())
}

// parseMinor reads a plain non-negative decimal ("8.88", "1200") with at
// most decimals fraction digits and returns it in minor units (888, 1200).
// An optional leading '-' gives a negative result. It refuses exponents,
// signs other than a leading '-', spaces, empty parts and overflow.
func parseMinor(s string, decimals int) (int64, error) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return 0, fmt.Errorf("%q is not a plain decimal", s)
	}
	if len(frac) > decimals {
		if decimals == 0 {
			return 0, fmt.Errorf("%q has decimals; the currency has none", s)
		}
		return 0, fmt.Errorf("%q has more than %d decimals", s, decimals)
	}
	var n int64
	for _, part := range []string{whole, frac + strings.Repeat("0", decimals-len(frac))} {
		for i := 0; i < len(part); i++ {
			d := part[i]
			if d < '0' || d > '9' {
				return 0, fmt.Errorf("%q is not a plain decimal", s)
			}
			if n > (1<<63-1-int64(d-'0'))/10 {
				return 0, fmt.Errorf("%q is too large", s)
			}
			n = n*10 + int64(d-'0')
		}
	}
	if neg {
		n = -n
	}
	return n, nil
}

// formatMinor writes minor units back as decimal text with the given number
// of decimals: formatMinor(888, 2) is "8.88".
func formatMinor(n int64, decimals int) string {
	s := strconv.FormatInt(n, 10)
	if decimals == 0 {
		return s
	}
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for len(s) <= decimals {
		s = "0" + s
	}
	s = s[:len(s)-decimals] + "." + s[len(s)-decimals:]
	if neg {
		s = "-" + s
	}
	return s
}

// flexString decodes a JSON string, number or boolean as its text, and
// null as "": HipoPay writes some amounts and codes either way.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("want a string, got %.20s", b)
	default:
		*f = flexString(b)
	}
	return nil
}

// flexBool decodes is_success leniently: a JSON boolean or the strings
// "True"/"true"/"False"/"false". set records whether it was present.
type flexBool struct{ value, set bool }

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(b), `"`) {
	case "true", "True", "TRUE":
		*f = flexBool{true, true}
	case "false", "False", "FALSE":
		*f = flexBool{false, true}
	case "null":
		*f = flexBool{}
	default:
		return fmt.Errorf("is_success: want a boolean, got %.20s", b)
	}
	return nil
}

// flexTime decodes a HipoPay time (see parseTime) in UTC+8. A time in
// another layout decodes as the zero time rather than fail the whole
// answer: an order placed or a declaration accepted must not be lost to a
// timestamp's format.
type flexTime time.Time

func (f *flexTime) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	t, _ := parseTime(string(s))
	*f = flexTime(t)
	return nil
}

// unmarshalLenient decodes JSON, and failing that the Python-flavoured JSON
// of HipoPay's reference (True, False, None, trailing commas). A leading
// UTF-8 BOM is skipped.
func unmarshalLenient(b []byte, out any) error {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	err := json.Unmarshal(b, out)
	var syn *json.SyntaxError
	if err == nil || !errors.As(err, &syn) {
		return err
	}
	fixed, changed := depythonize(b)
	if !changed {
		return err
	}
	if json.Unmarshal(fixed, out) != nil {
		return err
	}
	return nil
}

// depythonize rewrites bare True/False/None to true/false/null and drops
// commas before a closing bracket, outside of strings.
func depythonize(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	changed := false
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			out = append(out, c)
			if c == '\\' && i+1 < len(b) {
				i++
				out = append(out, b[i])
			} else if c == '"' {
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case c == ',':
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r' || b[j] == '\n') {
				j++
			}
			if j < len(b) && (b[j] == '}' || b[j] == ']') {
				changed = true
				continue
			}
		default:
			for _, w := range [...][2]string{{"True", "true"}, {"False", "false"}, {"None", "null"}} {
				if bytes.HasPrefix(b[i:], []byte(w[0])) {
					out = append(out, w[1]...)
					i += len(w[0]) - 1
					changed = true
					goto next
				}
			}
		}
		out = append(out, c)
	next:
	}
	return out, changed
}

// blank reports whether a field is empty or only spaces.
func blank(value string) bool { return strings.TrimSpace(value) == "" }

// required refuses an empty (or blank) required field.
func required(field, value string) error {
	if blank(value) {
		return invalid(field, "is required")
	}
	return nil
}

// validCurrency refuses a missing or malformed currency code.
func validCurrency(field string, c Currency) error {
	if c == "" {
		return invalid(field, "is required")
	}
	if !c.wellFormed() {
		return invalid(field, "%q is not a three-letter upper-case currency code", string(c))
	}
	return nil
}

// validAmount refuses an amount that is not a plain positive decimal with
// at most the currency's decimals: "1e3", "-1", "0.00", "8.888", "1.5" in
// JPY.
func validAmount(field, amount string, c Currency) error {
	if amount == "" {
		return invalid(field, "is required")
	}
	if strings.HasPrefix(amount, "-") {
		return invalid(field, "%q is not a positive amount", amount)
	}
	if len(amount) > 1 && amount[0] == '0' && amount[1] != '.' {
		return invalid(field, "%q has a leading zero", amount)
	}
	n, err := parseMinor(amount, c.Decimals())
	if err != nil {
		return invalid(field, "%v", err)
	}
	if n <= 0 {
		return invalid(field, "%q is not a positive amount", amount)
	}
	return nil
}
