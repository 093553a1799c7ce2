// HipoPay's JSON answer around every result (Envelope): the request path
// decodes it, hipopaytest answers with it, cmd/hipopay reads the mock's.

package hipopay

import (
	"encoding/json"
	"errors"
)

// Envelope is HipoPay's JSON answer around every result:
// {"is_success": true, "response": {...}} or, for a business error,
// {"is_success": false, "error": CODE, "error_message": text}; a refund
// adds a top-level return_message. Decoding is lenient (is_success as
// true, True or "True"; codes written as numbers); an answer without
// is_success does not decode. It marshals to the same shape.
type Envelope struct {
	IsSuccess     bool            `json:"is_success"`
	Response      json.RawMessage `json:"response,omitempty"`
	Error         string          `json:"error,omitempty"`
	ErrorMessage  string          `json:"error_message,omitempty"`
	ReturnMessage string          `json:"return_message,omitempty"`
}

// errNoIsSuccess is Envelope.UnmarshalJSON's error for an answer without
// is_success.
var errNoIsSuccess = errors.New("hipopay: answer has no is_success")

// UnmarshalJSON decodes HipoPay's answer leniently; an answer without
// is_success (or null) is an error.
func (e *Envelope) UnmarshalJSON(b []byte) error {
	var w struct {
		IsSuccess     flexBool        `json:"is_success"`
		Response      json.RawMessage `json:"response"`
		Error         flexString      `json:"error"`
		ErrorMessage  flexString      `json:"error_message"`
		ReturnMessage flexString      `json:"return_message"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if !w.IsSuccess.set {
		return errNoIsSuccess
	}
	*e = Envelope{
		IsSuccess:     w.IsSuccess.value,
		Response:      w.Response,
		Error:         string(w.Error),
		ErrorMessage:  string(w.ErrorMessage),
		ReturnMessage: string(w.ReturnMessage),
	}
	return nil
}
