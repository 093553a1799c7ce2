// promotion_detail (response_version 3.0): the Promotion type and its
// decoding: one json.Unmarshal into promotionFields, whose leaf fields are
// promotionText (a number or boolean kept as its text, as flexString does),
// then copied into Promotion values.

package hipopay

import (
	"encoding/json"
	"strings"
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

// promotionFields is how promotion_detail decodes: Promotion's fields as
// promotionText.
type promotionFields struct {
	ActivityID  promotionText `json:"activity_id"`
	Name        promotionText `json:"name"`
	Amount      promotionText `json:"amount"`
	PromotionID promotionText `json:"promotion_id"`
	Scope       promotionText `json:"scope"`
	Type        promotionText `json:"type"`
}

// promotionText decodes as flexString does, without copying what needs no
// decoding (a plain string's contents, a number, a boolean): raw is then
// that part of the decoded document, and text is used otherwise.
type promotionText struct {
	raw  []byte
	text string
}

func (p *promotionText) UnmarshalJSON(b []byte) error {
	if inner, ok := plainJSONString(b); ok {
		*p = promotionText{raw: inner}
		return nil
	}
	if len(b) > 0 && b[0] != '"' && b[0] != '{' && b[0] != '[' && string(b) != "null" {
		*p = promotionText{raw: b}
		return nil
	}
	var f flexString
	if err := f.UnmarshalJSON(b); err != nil {
		return err
	}
	*p = promotionText{text: string(f)}
	return nil
}

// in returns p's text; doc is the document data was copied from, whose
// substring it is when raw is set: no allocation per field
// (BenchmarkNotificationOverhead).
func (p promotionText) in(doc string, data []byte) string {
	if len(p.raw) == 0 {
		return p.text
	}
	// raw is data[off:off+len(raw)]: the decoder hands out slices of data.
	off := cap(data) - cap(p.raw)
	if off < 0 || off+len(p.raw) > len(data) || &data[off] != &p.raw[0] {
		return string(p.raw)
	}
	return doc[off : off+len(p.raw)]
}

// promotionBuffer holds the decoded list and, in the same allocation, room
// for the usual single promotion.
type promotionBuffer struct {
	list []promotionFields
	one  [1]promotionFields
}

// parsePromotions decodes promotion_detail, a JSON array of objects sent as
// text (a lone object is accepted too). Empty text or null is no promotion.
// Unknown keys are ignored; an object or array as a value is an error.
func parsePromotions(s string) ([]Promotion, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return nil, nil
	}
	data := []byte(s)
	buf := new(promotionBuffer)
	var err error
	if s[0] == '{' {
		buf.list = buf.one[:]
		err = json.Unmarshal(data, &buf.one[0])
	} else {
		buf.list = buf.one[:0]
		err = json.Unmarshal(data, &buf.list)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Promotion, len(buf.list))
	for i, f := range buf.list {
		out[i] = Promotion{
			ActivityID:  f.ActivityID.in(s, data),
			Name:        f.Name.in(s, data),
			Amount:      f.Amount.in(s, data),
			PromotionID: f.PromotionID.in(s, data),
			Scope:       f.Scope.in(s, data),
			Type:        f.Type.in(s, data),
		}
	}
	return out, nil
}
