// Money: an exact amount of the reconciliation file ("-0.99 HKD"), its
// conversion to minor units, and the parsing of the file's amount cells.

package hipopay

import (
	"errors"
	"fmt"
	"strings"
)

// Money is an amount of the reconciliation file ([BillRecord]): the exact
// decimal text and its currency, as written ("-0.99 HKD" is Value "-0.99",
// Currency HKD).
type Money struct {
	Value    string   // exact decimal text, e.g. "-0.99"; "" when the cell was "-"
	Currency Currency // "" when the cell was "-"
}

// IsZero reports whether m is empty or numerically zero ("0.00", "-0").
func (m Money) IsZero() bool {
	for i := 0; i < len(m.Value); i++ {
		if c := m.Value[i]; c != '0' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// Minor returns m in minor units of its currency: cents for two-decimal
// currencies, whole units for JPY and KRW. An empty m is 0. Decimals
// beyond the currency's that are all zeros are exact and accepted
// ("100.00 JPY" is 100, "0.990 HKD" is 99).
//
// It never rounds: a non-zero decimal beyond the currency's ("1.5 JPY",
// "0.999 HKD"), a value that is not a plain decimal, a missing or
// malformed currency, or an amount beyond int64 is an error.
func (m Money) Minor() (int64, error) {
	n, err := m.minor()
	if err != nil {
		return 0, errors.New("hipopay: " + err.Error())
	}
	return n, nil
}

// minor is Minor with errors that do not start with "hipopay: ".
func (m Money) minor() (int64, error) {
	if m.Value == "" {
		return 0, nil
	}
	if !m.Currency.wellFormed() {
		return 0, fmt.Errorf("amount %q: %q is not a three-letter currency code", m.Value, string(m.Currency))
	}
	decimals := m.Currency.Decimals()
	n, err := parseMinor(trimZeroDecimals(m.Value, decimals), decimals)
	if err != nil {
		return 0, fmt.Errorf("amount %s: %w", m, err)
	}
	return n, nil
}

// trimZeroDecimals drops the decimals of v beyond the first decimals when
// they are all zeros ("100.00" with none is "100", "0.990" with two is
// "0.99"); any other v is returned as it is, for parseMinor to judge.
func trimZeroDecimals(v string, decimals int) string {
	dot := strings.IndexByte(v, '.')
	if dot < 0 || len(v)-dot-1 <= decimals {
		return v
	}
	keep := dot + 1 + decimals
	for i := keep; i < len(v); i++ {
		if v[i] != '0' {
			return v
		}
	}
	if decimals == 0 {
		keep = dot // no dot left behind: "100." is not a plain decimal
	}
	return v[:keep]
}

// String writes m as the file does, "-0.99 HKD"; "" when m is empty.
func (m Money) String() string {
	if m.Value == "" {
		return ""
	}
	return m.Value + " " + string(m.Currency)
}

// moneyFromMinor writes n minor units of c as a Money.
func moneyFromMinor(n int64, c Currency) Money {
	return Money{Value: formatMinor(n, c.Decimals()), Currency: c}
}

// parseBillMoney reads "<decimal> <CUR>": a plain decimal, optionally
// negative, one space, three upper-case letters.
func parseBillMoney(s string) (Money, bool) {
	n := len(s)
	if n < 5 || s[n-4] != ' ' {
		return Money{}, false
	}
	cur := Currency(s[n-3:])
	if !cur.wellFormed() {
		return Money{}, false
	}
	v := s[:n-4]
	if !plainDecimal(v) {
		return Money{}, false
	}
	return Money{Value: v, Currency: cur}, true
}

// plainDecimal reports whether s is digits, optionally with a leading '-'
// and a fraction of at least one digit: "-0.99", "100", "1.5".
func plainDecimal(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0:
			dot, digits = true, 0
		default:
			return false
		}
	}
	return digits > 0
}
