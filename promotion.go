// promotion_detail (response_version 3.0): the Promotion type and its
// decoding, with encoding/json and a fast path for HipoPay's flat shape.

package hipopay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Promotion is one entry of promotion_detail (response_version 3.0): a
// coupon or discount applied to the payment. Values HipoPay sends as JSON
// numbers (amount) are kept as their text.
type Promotion struct {
	ActivityID  string `json:"activity_id"`  // e.g. "931386"
	Name        string `json:"name"`         // e.g. "coupon-6"
	Amount      string `json:"amount"`       // promotion amount, e.g. "1"
	PromotionID string `json:"promotion_id"` // coupon ID, e.g. "109519"
	Scope       string `json:"scope"`        // GLOBAL or SINGLE
	Type        string `json:"type"`         // COUPON or DISCOUNT
}

// UnmarshalJSON decodes a promotion whose values may be JSON strings,
// numbers or booleans (kept as their text) or null (empty). Unknown keys
// are ignored; an object or array as a value is an error.
func (p *Promotion) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = Promotion{}
	for key, v := range raw {
		var dst *string
		switch key {
		case "activity_id":
			dst = &p.ActivityID
		case "name":
			dst = &p.Name
		case "amount":
			dst = &p.Amount
		case "promotion_id":
			dst = &p.PromotionID
		case "scope":
			dst = &p.Scope
		case "type":
			dst = &p.Type
		default:
			continue
		}
		s, err := jsonScalarText(v)
		if err != nil {
			return fmt.Errorf("promotion_detail %s: %w", key, err)
		}
		*dst = s
	}
	return nil
}

// jsonScalarText returns a JSON string's value, a number's or boolean's
// text, and "" for null.
func jsonScalarText(v json.RawMessage) (string, error) {
	switch {
	case len(v) == 0 || bytes.Equal(v, []byte("null")):
		return "", nil
	case v[0] == '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	case v[0] == '{' || v[0] == '[':
		return "", fmt.Errorf("want a string or a number, got %.20s", v)
	default:
		return string(v), nil
	}
}

// parsePromotions decodes promotion_detail, a JSON array of objects sent as
// text (a lone object is accepted too). Empty text or null is no promotion.
func parsePromotions(s string) ([]Promotion, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return nil, nil
	}
	// Hand-written fast path: encoding/json alone misses BenchmarkNotificationOverhead's 10% target.
	if out, ok := scanPromotions(s); ok {
		return out, nil
	}
	return decodePromotions(s)
}

// decodePromotions is parsePromotions through encoding/json.
func decodePromotions(s string) ([]Promotion, error) {
	if strings.HasPrefix(s, "{") {
		var one Promotion
		if err := json.Unmarshal([]byte(s), &one); err != nil {
			return nil, err
		}
		return []Promotion{one}, nil
	}
	var out []Promotion
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// scanPromotions is parsePromotions' fast path for what HipoPay sends: an
// array of (or a lone) flat object whose keys are exactly the six known
// ones and whose values are plain strings (no escapes) or numbers. It
// allocates only the result, its strings sharing s. Anything else (escapes,
// null, unknown keys, nesting, errors) returns ok == false, and
// encoding/json decides; where both succeed they agree (see
// TestScanPromotionsAgreesWithEncodingJSON and FuzzScanPromotions).
func scanPromotions(s string) (out []Promotion, ok bool) {
	sc := promotionScanner{s: s}
	sc.space()
	if sc.peek() == '{' {
		p, ok := sc.object()
		if !ok || !sc.end() {
			return nil, false
		}
		return []Promotion{p}, true
	}
	if !sc.consume('[') {
		return nil, false
	}
	out = make([]Promotion, 0, 2)
	sc.space()
	if sc.consume(']') {
		return out, sc.end()
	}
	for {
		p, ok := sc.object()
		if !ok {
			return nil, false
		}
		out = append(out, p)
		sc.space()
		if sc.consume(']') {
			return out, sc.end()
		}
		if !sc.consume(',') {
			return nil, false
		}
		sc.space()
	}
}

type promotionScanner struct {
	s string
	i int
}

func (sc *promotionScanner) peek() byte {
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

func (sc *promotionScanner) consume(c byte) bool {
	if sc.peek() == c {
		sc.i++
		return true
	}
	return false
}

func (sc *promotionScanner) space() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

func (sc *promotionScanner) end() bool {
	sc.space()
	return sc.i == len(sc.s)
}

// object scans {"key": value, ...} at the current position.
func (sc *promotionScanner) object() (p Promotion, ok bool) {
	if !sc.consume('{') {
		return p, false
	}
	sc.space()
	if sc.consume('}') {
		return p, true
	}
	for {
		key, ok := sc.str()
		if !ok {
			return p, false
		}
		sc.space()
		if !sc.consume(':') {
			return p, false
		}
		sc.space()
		var val string
		if sc.peek() == '"' {
			val, ok = sc.str()
		} else {
			val, ok = sc.number()
		}
		if !ok {
			return p, false
		}
		switch key {
		case "activity_id":
			p.ActivityID = val
		case "name":
			p.Name = val
		case "amount":
			p.Amount = val
		case "promotion_id":
			p.PromotionID = val
		case "scope":
			p.Scope = val
		case "type":
			p.Type = val
		default:
			return p, false
		}
		sc.space()
		if sc.consume('}') {
			return p, true
		}
		if !sc.consume(',') {
			return p, false
		}
		sc.space()
	}
}

// str scans a string without escapes or control characters, valid UTF-8.
func (sc *promotionScanner) str() (string, bool) {
	if !sc.consume('"') {
		return "", false
	}
	start := sc.i
	ascii := true
	for ; sc.i < len(sc.s); sc.i++ {
		switch c := sc.s[sc.i]; {
		case c == '"':
			v := sc.s[start:sc.i]
			sc.i++
			return v, ascii || utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *promotionScanner) number() (string, bool) {
	start := sc.i
	digits := func() int {
		n := 0
		for sc.i < len(sc.s) && '0' <= sc.s[sc.i] && sc.s[sc.i] <= '9' {
			sc.i++
			n++
		}
		return n
	}
	sc.consume('-')
	if sc.consume('0') {
		if c := sc.peek(); '0' <= c && c <= '9' {
			return "", false
		}
	} else if digits() == 0 {
		return "", false
	}
	if sc.consume('.') && digits() == 0 {
		return "", false
	}
	if sc.consume('e') || sc.consume('E') {
		if !sc.consume('+') {
			sc.consume('-')
		}
		if digits() == 0 {
			return "", false
		}
	}
	return sc.s[start:sc.i], true
}
