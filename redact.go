// Redaction in the request path: a call's secrets (the Signature it sent, a
// buyer's cert_id and name) are cut from every body, snippet and message
// HipoPay or a proxy sends back, in whatever form an echo takes.

package hipopay

import (
	"bytes"
	"unicode/utf8"
)

const redacted = "[REDACTED]"

// redactor holds the secrets of one call.
type redactor []string

// bytes returns b with every echo of a secret replaced by [REDACTED]. An
// echo may write each character raw, as a JSON escape (\u674e, any case of
// hex, surrogate pairs), percent-encoded (any case of hex, '+' for a
// space), as an HTML character reference (&#26446; &#x674e;) or, for '/',
// as JSON's \/.
func (r redactor) bytes(b []byte) []byte {
	var secrets [][]rune
	for _, s := range r {
		if s != "" {
			secrets = append(secrets, []rune(s))
		}
	}
	if len(secrets) == 0 {
		return b
	}
	var out []byte // nil until the first echo is found
	last := 0
	for i := 0; i < len(b); {
		n := 0
		for _, s := range secrets {
			if n = matchRunes(b[i:], s); n > 0 {
				break
			}
		}
		if n == 0 {
			i++
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(b))
		}
		out = append(append(out, b[last:i]...), redacted...)
		i += n
		last = i
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// string is bytes for a string.
func (r redactor) string(s string) string {
	if len(r) == 0 || s == "" {
		return s
	}
	return string(r.bytes([]byte(s)))
}

// redactError redacts the text of an *APIError in place.
func (r redactor) redactError(err error) error {
	if e, ok := err.(*APIError); ok && len(r) > 0 {
		e.Code, e.Message, e.Body = r.string(e.Code), r.string(e.Message), r.string(e.Body)
	}
	return err
}

// matchRunes reports how many bytes at the start of b spell s (each rune
// in any of the forms bytes accepts), 0 if they do not.
func matchRunes(b []byte, s []rune) int {
	if len(s) == 0 {
		return 0
	}
	total := 0
	for _, want := range s {
		n := matchRune(b[total:], want)
		if n == 0 {
			return 0
		}
		total += n
	}
	return total
}

// matchRune reports how many bytes at the start of b spell r, 0 if none.
func matchRune(b []byte, r rune) int {
	if len(b) == 0 {
		return 0
	}
	var enc [utf8.UTFMax]byte
	raw := enc[:utf8.EncodeRune(enc[:], r)]
	n := 0
	switch b[0] {
	case '\\':
		if r == '/' && len(b) >= 2 && b[1] == '/' {
			return 2
		}
		n = matchJSONEscape(b, r)
	case '%':
		n = matchPercent(b, raw)
	case '+':
		if r == ' ' {
			return 1
		}
	case '&':
		n = matchCharRef(b, r)
	}
	if n == 0 && bytes.HasPrefix(b, raw) {
		n = len(raw)
	}
	return n
}

// matchPercent matches the bytes of raw written as %XX each.
func matchPercent(b, raw []byte) int {
	for i, c := range raw {
		if len(b) < 3*(i+1) || b[3*i] != '%' {
			return 0
		}
		hi, ok1 := unhex(b[3*i+1])
		lo, ok2 := unhex(b[3*i+2])
		if !ok1 || !ok2 || hi<<4|lo != c {
			return 0
		}
	}
	return 3 * len(raw)
}

// matchJSONEscape matches r written as \uXXXX (or a \uXXXX\uXXXX
// surrogate pair).
func matchJSONEscape(b []byte, r rune) int {
	u, ok := hex4At(b)
	if !ok {
		return 0
	}
	if rune(u) == r {
		return 6
	}
	if r > 0xFFFF && u >= 0xD800 && u < 0xDC00 {
		lo, ok := hex4At(b[6:])
		if ok && lo >= 0xDC00 && lo < 0xE000 && 0x10000+(rune(u)-0xD800)<<10+(rune(lo)-0xDC00) == r {
			return 12
		}
	}
	return 0
}

// hex4At reads \uXXXX at the start of b.
func hex4At(b []byte) (uint16, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var u uint16
	for _, c := range b[2:6] {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		u = u<<4 | uint16(d)
	}
	return u, true
}

// matchCharRef matches r written as &#NNNN; or &#xHHHH;.
func matchCharRef(b []byte, r rune) int {
	if len(b) < 4 || b[1] != '#' {
		return 0
	}
	i, base := 2, rune(10)
	if b[2] == 'x' || b[2] == 'X' {
		i, base = 3, 16
	}
	var v rune
	start := i
	for ; i < len(b) && i-start < 8; i++ {
		d, ok := unhex(b[i])
		if !ok || rune(d) >= base {
			break
		}
		v = v*base + rune(d)
	}
	if i == start || i >= len(b) || b[i] != ';' || v != r {
		return 0
	}
	return i + 1
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
