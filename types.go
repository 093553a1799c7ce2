// Shared types of the HipoPay API: currencies, payment, refund and
// declaration states, customs codes, and the UTC+8 times and decimal
// amounts every endpoint uses, with the checks requests share.

package hipopay

import (
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

// alsoRequires returns the customs code that must be declared as well under
// the "unified declaration" rule: the Huangpu and Nansha inspection bureaus
// (GUANGZHOU_HP_GJ, GUANGZHOU_NS_GJ) need the declaration pushed a second
// time to GUANGZHOU_ZS. It returns "", false for every other code.
func (c CustomsCode) alsoRequires() (CustomsCode, bool) {
	if c == CustomsGuangzhouHPGJ || c == CustomsGuangzhouNSGJ {
		return CustomsGuangzhouZS, true
	}
	return "", false
}

// UnifiedDeclaration returns every customs code a declaration for c must be
// pushed to, in order: GUANGZHOU_ZS then c for the Huangpu and Nansha
// bureaus, c alone otherwise.
func (c CustomsCode) UnifiedDeclaration() []CustomsCode {
	if other, ok := c.alsoRequires(); ok {
		return []CustomsCode{other, c}
	}
	return []CustomsCode{c}
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

// sameAmount compares two decimal amounts of currency c by value ("8.8"
// equals "8.80"); amounts that do not parse must be equal, non-empty text.
func sameAmount(a, b string, c Currency) bool {
	x, errA := ParseAmount(a, c)
	y, errB := ParseAmount(b, c)
	if errA != nil || errB != nil {
		return a != "" && a == b
	}
	return x == y
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
