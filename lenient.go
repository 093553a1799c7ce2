// Lenient leaf types of HipoPay's JSON answers: strings that may come as
// numbers, booleans written True or "True", times in UTC+8 in two layouts,
// JSON documents sent inside strings, and the Python-flavoured JSON of the
// reference. The answer types (Payment, Refund, Declaration, ForexRate)
// decode through them.

package hipopay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// flexString decodes a JSON string, number or boolean as its text, and
// null as "": HipoPay writes some amounts and codes either way.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		if inner, ok := plainJSONString(b); ok {
			*f = flexString(inner)
			return nil
		}
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

// plainJSONString returns the bytes between the quotes of a JSON string
// that needs no decoding: no escapes, no control characters, valid UTF-8.
func plainJSONString(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil, false
	}
	inner := b[1 : len(b)-1]
	ascii := true
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			return nil, false
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	return inner, ascii || utf8.Valid(inner)
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

// MarshalJSON writes the time as HipoPay does: "2006-01-02 15:04:05" in
// UTC+8.
func (f flexTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(f).In(chinaZone).Format(timeLayout))
}

// wireTime is t as an optional wire field: nil (omitted) when zero.
func wireTime(t time.Time) *flexTime {
	if t.IsZero() {
		return nil
	}
	f := flexTime(t)
	return &f
}

// time is the decoded time, zero when the field was absent.
func (f *flexTime) time() time.Time {
	if f == nil {
		return time.Time{}
	}
	return time.Time(*f)
}

// compactTime is a flexTime written in the customs' compact layout,
// "20060102150405" in UTC+8 (a declaration's raw_response).
type compactTime struct{ flexTime }

// MarshalJSON writes the time as "20060102150405" in UTC+8.
func (c compactTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(c.flexTime).In(chinaZone).Format(compactTimeLayout))
}

func wireCompactTime(t time.Time) *compactTime {
	if t.IsZero() {
		return nil
	}
	return &compactTime{flexTime(t)}
}

func (c *compactTime) time() time.Time {
	if c == nil {
		return time.Time{}
	}
	return time.Time(c.flexTime)
}

// embeddedJSON is a JSON document sent inside a JSON string (a
// declaration's raw_response); the document itself, unquoted, is accepted
// too. text is the document as received, doc the same as valid JSON (the
// Python-flavoured kind rewritten), nil when it is not JSON at all.
type embeddedJSON struct {
	text string
	doc  json.RawMessage
}

func (e *embeddedJSON) UnmarshalJSON(b []byte) error {
	doc := b
	if len(doc) > 0 && doc[0] == '"' {
		var s string
		if err := json.Unmarshal(doc, &s); err != nil {
			return err
		}
		doc = []byte(strings.TrimSpace(s))
	}
	*e = embeddedJSON{}
	if len(doc) == 0 || string(doc) == "null" {
		return nil
	}
	e.text = string(doc)
	if json.Valid(doc) {
		e.doc = append(json.RawMessage(nil), doc...)
	} else if fixed, changed := depythonize(doc); changed && json.Valid(fixed) {
		e.doc = fixed
	}
	return nil
}

// MarshalJSON writes the document inside a JSON string, as HipoPay does.
func (e embeddedJSON) MarshalJSON() ([]byte, error) { return json.Marshal(e.text) }

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

// marshalUnescaped is json.Marshal leaving '&', '<' and '>' as they are (a
// URL stays readable); an encoder that calls a MarshalJSON escapes them if
// it is set to.
func marshalUnescaped(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
