// promotion_detail (response_version 3.0): the Promotion type and its
// decoding: one json.Unmarshal into promotionFields, whose leaf fields are
// flexString (a number or boolean kept as its text), then copied into
// Promotion values.

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
// flexString (a string, a number or a boolean as its text, null as "").
type promotionFields struct {
	ActivityID  flexString `json:"activity_id"`
	Name        flexString `json:"name"`
	Amount      flexString `json:"amount"`
	PromotionID flexString `json:"promotion_id"`
	Scope       flexString `json:"scope"`
	Type        flexString `json:"type"`
}

// parsePromotions decodes promotion_detail, a JSON array of objects sent as
// text (a lone object is accepted too). Empty text or null is no promotion.
// Unknown keys are ignored; an object or array as a value is an error.
func parsePromotions(s string) ([]Promotion, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return nil, nil
	}
	var fields []promotionFields
	var err error
	if s[0] == '{' {
		fields = make([]promotionFields, 1)
		err = json.Unmarshal([]byte(s), &fields[0])
	} else {
		err = json.Unmarshal([]byte(s), &fields)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Promotion, len(fields))
	for i, f := range fields {
		out[i] = Promotion{
			ActivityID:  string(f.ActivityID),
			Name:        string(f.Name),
			Amount:      string(f.Amount),
			PromotionID: string(f.PromotionID),
			Scope:       string(f.Scope),
			Type:        string(f.Type),
		}
	}
	return out, nil
}
