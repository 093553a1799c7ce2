// Error codes, exchange rates and decimal amounts of the fake HipoPay.

package hipopaytest

import (
	"math/big"
	"strings"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// The error codes the fake answers with. The first six are HipoPay's
// documented codes; the others are the fake's own, for failures HipoPay's
// reference documents no code for.
const (
	CodeIllegalSecurityProfile              = "ILLEGAL_SECURITY_PROFILE"
	CodePaymentNotFound                     = "PAYMENT_NOT_FOUND"
	CodeRefundNotFound                      = "REFUND_NOT_FOUND"
	CodeCurrencyNotSupport                  = "CURRENCY_NOT_SUPPORT"
	CodeForexMerchantNotSupportThisCurrency = "FOREX_MERCHANT_NOT_SUPPORT_THIS_CURRENCY"
	CodeRefundAmountInvalid                 = "REFUND_AMOUNT_INVALID"

	// CodeInvalidParameter: a required parameter is missing or malformed
	// (an amount, a date of the reconciliation file, a customs code...).
	CodeInvalidParameter = "INVALID_PARAMETER"
	// CodeDuplicateOutTradeID: an order with this out_trade_id exists with
	// other terms, or is no longer INIT. Placing the very same INIT order
	// again answers the existing order instead.
	CodeDuplicateOutTradeID = "DUPLICATE_OUT_TRADE_ID"
	// CodePaymentNotPaid: a customs declaration of a payment that is not
	// PAID.
	CodePaymentNotPaid = "PAYMENT_NOT_PAID"
	// CodeDeclarationNotFound: a query or re-declaration of a declaration
	// that was never made (or ADD/MODIFY mismatch).
	CodeDeclarationNotFound = "DECLARATION_NOT_FOUND"
)

const (
	paymentChannel = "WECHATPAYCN"
	timeLayout     = "2006-01-02 15:04:05"
	compactLayout  = "20060102150405"
	dateLayout     = "20060102"
	// serviceFeePercent is the fee the reconciliation file charges on each
	// collection, rounded half up to the currency's minor unit.
	serviceFeePercent = 1
)

// ExchangeRate returns the fake's CNY rate of a documented currency: CNY
// per unit of c, six decimals ("0.881890" for HKD). A notification's
// pay_amount is the amount at this rate; a payment's exchange_rate is
// SettlementRate, made from these rates. The reference rate GET
// wechatpay/forex_rate answers is its inverse (c per CNY).
func ExchangeRate(c hipopay.Currency) (string, bool) {
	switch c {
	case hipopay.CNY:
		return "1.000000", true
	case hipopay.GBP:
		return "9.082300", true
	case hipopay.HKD:
		return "0.881890", true
	case hipopay.USD:
		return "6.711200", true
	case hipopay.JPY:
		return "0.048520", true
	case hipopay.CAD:
		return "5.213400", true
	case hipopay.AUD:
		return "4.681100", true
	case hipopay.EUR:
		return "7.802600", true
	case hipopay.NZD:
		return "4.301900", true
	case hipopay.KRW:
		return "0.005213", true
	case hipopay.THB:
		return "0.201800", true
	}
	return "", false
}

// forexRate is the reference rate of c: units of c per CNY, as HipoPay
// writes it (up to 28 decimals).
func forexRate(c hipopay.Currency) (string, bool) {
	rate, ok := ExchangeRate(c)
	if !ok {
		return "", false
	}
	r, _ := new(big.Rat).SetString(rate)
	s := new(big.Rat).Inv(r).FloatString(28)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, "."), true
}

// mulRound multiplies two decimal texts and rounds to decimals places
// (halves away from zero).
func mulRound(a, b string, decimals int) string {
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	if !ok1 || !ok2 {
		return ""
	}
	return new(big.Rat).Mul(x, y).FloatString(decimals)
}

// divRound divides two decimal texts, rounded to decimals places; "" when
// either does not parse or b is zero.
func divRound(a, b string, decimals int) string {
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	if !ok1 || !ok2 || y.Sign() == 0 {
		return ""
	}
	return new(big.Rat).Quo(x, y).FloatString(decimals)
}

// money writes minor units with their currency, as the reconciliation file
// does: "0.99 HKD", "-0.99 HKD".
func money(n int64, c hipopay.Currency) string {
	return hipopay.FormatAmount(n, c) + " " + string(c)
}

// serviceFee is the fee on a collection of amount minor units: 1%, halves
// rounded up.
func serviceFee(amount int64) int64 {
	return (amount*serviceFeePercent + 50) / 100
}

// feeShare is the part of a collection's fee (minor units) given back
// once refunded of its amount is refunded: fee × refunded / amount, halves
// rounded up, all of the fee once the whole amount is refunded.
func feeShare(fee, refunded, amount int64) int64 {
	if amount <= 0 || refunded >= amount {
		return fee
	}
	if refunded <= 0 {
		return 0
	}
	// (2·fee·refunded + amount) / (2·amount), without overflow.
	n := new(big.Int).Mul(big.NewInt(fee), big.NewInt(refunded))
	n.Lsh(n, 1).Add(n, big.NewInt(amount))
	n.Quo(n, new(big.Int).Lsh(big.NewInt(amount), 1))
	return min(n.Int64(), fee)
}

// formatTime writes t as HipoPay does, in UTC+8; "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(hipopay.ChinaTimeZone()).Format(timeLayout)
}
