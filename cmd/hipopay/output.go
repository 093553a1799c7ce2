// What the API commands print: the SDK's answer types as JSON (their JSON
// is HipoPay's, field names and UTC+8 times included), with a few
// annotations for a human at a terminal.

package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	hipopay "github.com/hipopay-go/hipopay"
)

// member is a JSON object member the CLI sets on an answer.
type member struct {
	name  string
	value any
}

// annotated marshals v (an SDK answer type) and sets members on the
// object: one of the same name is replaced in place, a new one is added at
// the end; a member whose value marshals to "" or null is left out.
func annotated(v any, set ...member) (json.RawMessage, error) {
	b, err := marshalNoEscape(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("printing %T: not a JSON object", v)
	}
	var names []string
	values := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		names = append(names, name)
		values[name] = raw
	}
	for _, m := range set {
		raw, err := marshalNoEscape(m.value)
		if err != nil {
			return nil, err
		}
		if _, ok := values[m.name]; !ok {
			if s := string(raw); s == `""` || s == "null" {
				continue
			}
			names = append(names, m.name)
		}
		values[m.name] = raw
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for i, name := range names {
		if i > 0 {
			out.WriteByte(',')
		}
		key, _ := marshalNoEscape(name)
		out.Write(key)
		out.WriteByte(':')
		out.Write(values[name])
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// marshalNoEscape is json.Marshal leaving '&', '<' and '>' as they are.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// paymentOutput prints a payment as HipoPay answers it (members of the
// answer the SDK has no field for included); prepay_params gains
// wx_request_payment, the object for wx.requestPayment.
func paymentOutput(p *hipopay.Payment) (any, error) {
	var set []member
	if pp := p.PrepayParams; pp != nil {
		withWx, err := annotated(pp, member{"wx_request_payment", pp.RequestPayment()})
		if err != nil {
			return nil, err
		}
		set = append(set, member{"prepay_params", withWx})
	}
	out, err := annotated(p, set...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// refundOutput prints a refund as HipoPay answers it, with the answer's
// return_message and result_message, the result code's meaning in
// HipoPay's table.
func refundOutput(r *hipopay.Refund) (any, error) {
	out, err := annotated(r, member{"result_message", r.ResultCode.Message()}, member{"return_message", r.ReturnMessage})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// declarationOutput prints a declaration as HipoPay answers it, except
// raw_response: the customs' document itself rather than inside a string.
func declarationOutput(d *hipopay.Declaration) (any, error) {
	var set []member
	if d.RawResponse != nil && json.Valid(d.RawResponse.JSON) {
		set = append(set, member{"raw_response", d.RawResponse.JSON})
	}
	out, err := annotated(d, set...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
