package hipopay

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Envelope decodes HipoPay's answers leniently and refuses one without
// is_success.
func TestEnvelopeUnmarshal(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want Envelope
	}{
		"success":        {`{"is_success": true, "response": {"a": 1}}`, Envelope{IsSuccess: true, Response: json.RawMessage(`{"a": 1}`)}},
		"True string":    {`{"is_success": "True", "response": {}}`, Envelope{IsSuccess: true, Response: json.RawMessage(`{}`)}},
		"False string":   {`{"is_success": "False", "error": "PAYMENT_NOT_FOUND", "error_message": "no"}`, Envelope{Error: "PAYMENT_NOT_FOUND", ErrorMessage: "no"}},
		"numeric code":   {`{"is_success": false, "error": 1001, "error_message": null}`, Envelope{Error: "1001"}},
		"refund message": {`{"is_success": true, "response": {}, "return_message": "OK"}`, Envelope{IsSuccess: true, Response: json.RawMessage(`{}`), ReturnMessage: "OK"}},
	} {
		t.Run(name, func(t *testing.T) {
			var env Envelope
			require.NoError(t, json.Unmarshal([]byte(tc.body), &env))
			assert.Equal(t, tc.want, env)
		})
	}
	// Python-flavoured JSON goes through unmarshalLenient, as the request path does.
	var env Envelope
	require.NoError(t, unmarshalLenient([]byte(`{"is_success": True, "response": {"a": 1,},}`), &env))
	assert.True(t, env.IsSuccess)
	assert.JSONEq(t, `{"a": 1}`, string(env.Response))

	for _, body := range []string{`{"response": {}}`, `null`, `{"is_success": null}`} {
		assert.ErrorIs(t, json.Unmarshal([]byte(body), new(Envelope)), errNoIsSuccess, body)
	}
	assert.Error(t, json.Unmarshal([]byte(`{"is_success": "maybe"}`), new(Envelope)))
	assert.Error(t, json.Unmarshal([]byte(`[true]`), new(Envelope)))
}

// Envelope marshals to HipoPay's shape, leaving out what is empty.
func TestEnvelopeMarshal(t *testing.T) {
	b, err := json.Marshal(Envelope{IsSuccess: true, Response: json.RawMessage(`{"currency":"HKD"}`)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"is_success": true, "response": {"currency": "HKD"}}`, string(b))

	b, err = json.Marshal(Envelope{Error: "PAYMENT_NOT_FOUND", ErrorMessage: "no such payment"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"is_success": false, "error": "PAYMENT_NOT_FOUND", "error_message": "no such payment"}`, string(b))

	var back Envelope
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, Envelope{Error: "PAYMENT_NOT_FOUND", ErrorMessage: "no such payment"}, back)
}
