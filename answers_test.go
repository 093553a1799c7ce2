package hipopay

// The answer types are decoded directly from HipoPay's "response" object
// and marshal back to the same wire shape.

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// responseOf returns the "response" object of an answer body.
func responseOf(t *testing.T, body string) json.RawMessage {
	t.Helper()
	var env envelope
	require.NoError(t, unmarshalLenient([]byte(body), &env))
	return env.Response
}

// Each answer type marshals to the object it was decoded from.
func TestAnswersMarshalToTheWireShape(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		v    any
	}{
		"payment":     {placeOrderJSONBody, new(Payment)},
		"paid":        {getPaymentJSONBody, new(Payment)},
		"refund":      {getRefundBody, new(Refund)},
		"refund fail": {refundFailedBody, new(Refund)},
		"forex":       {forexRateJSONBody, new(ForexRate)},
		"redeclare":   {redeclareAnswer, new(Declaration)},
	} {
		t.Run(name, func(t *testing.T) {
			resp := responseOf(t, tc.body)
			require.NoError(t, json.Unmarshal(resp, tc.v))
			out, err := json.Marshal(tc.v)
			require.NoError(t, err)
			assert.JSONEq(t, string(resp), string(out))
		})
	}
}

// A declaration's raw_response goes back as a JSON document inside a
// string, its modify_time in the compact layout.
func TestDeclarationMarshalsRawResponseAsAString(t *testing.T) {
	var d Declaration
	require.NoError(t, json.Unmarshal(responseOf(t, declareAnswer(jsonString(t, rawResponseDoc))), &d))
	require.NotNil(t, d.RawResponse)
	out, err := json.Marshal(d)
	require.NoError(t, err)
	var wire map[string]any
	require.NoError(t, json.Unmarshal(out, &wire))
	text, ok := wire["raw_response"].(string)
	require.True(t, ok, "raw_response is a string: %s", out)
	assert.JSONEq(t, rawResponseDoc, text)
	assert.Equal(t, "2019-04-03 17:17:04", wire["modify_time"])

	// Built in Go, without RawResponseText: the document is marshalled.
	d.RawResponseText = ""
	d.RawResponse.ModifyTime = time.Date(2019, 4, 3, 9, 17, 4, 0, time.UTC)
	out, err = json.Marshal(d)
	require.NoError(t, err)
	var again Declaration
	require.NoError(t, json.Unmarshal(out, &again))
	require.NotNil(t, again.RawResponse)
	assert.Contains(t, again.RawResponseText, `"modify_time":"20190403171704"`)
	assertReferenceRawResponse(t, again.RawResponse)
}

// Times are written in UTC+8 whatever their location; zero times and
// unset optional fields are left out.
func TestPaymentMarshalsTimesInChinaTime(t *testing.T) {
	p := Payment{Amount: "8.88", Currency: HKD, PaymentNo: "P1", Status: PaymentStatusInit,
		TradeTime: time.Date(2019, 2, 19, 3, 59, 27, 0, time.UTC)}
	out, err := json.Marshal(p)
	require.NoError(t, err)
	var wire map[string]any
	require.NoError(t, json.Unmarshal(out, &wire))
	assert.Equal(t, "2019-02-19 11:59:27", wire["trade_time"])
	for _, absent := range []string{"finish_time", "exchange_rate", "prepay_params"} {
		assert.NotContains(t, wire, absent)
	}
	_, err = json.Marshal(&p)
	require.NoError(t, err)
}

// Numbers where strings are expected keep their exact text; Raw is the
// whole object as received, unknown fields included.
func TestPaymentDecodesLenientlyAndKeepsRaw(t *testing.T) {
	const obj = `{"amount": 8.80, "currency": "HKD", "exchange_rate": 0.881890, "payment_no": 2018081316331654230251111,
		"out_trade_id": 42, "status": "PAID", "trade_time": "2018-08-13 16:33:16", "finish_time": 20180813163320,
		"new_field": {"x": [1, 2]}, "prepay_params": {"timeStamp": 1550548767, "nonceStr": 572666791269, "prepay_id": "wx1"}}`
	var p Payment
	require.NoError(t, json.Unmarshal([]byte(obj), &p))
	assert.Equal(t, "8.80", p.Amount)
	assert.Equal(t, "0.881890", p.ExchangeRate)
	assert.Equal(t, "2018081316331654230251111", p.PaymentNo)
	assert.Equal(t, "42", p.OutTradeID)
	assertChinaTime(t, p.TradeTime, "2018-08-13 16:33:16")
	assertChinaTime(t, p.FinishTime, "2018-08-13 16:33:20")
	require.NotNil(t, p.PrepayParams)
	assert.Equal(t, "1550548767", p.PrepayParams.TimeStamp)
	assert.Equal(t, "572666791269", p.PrepayParams.NonceStr)
	assert.JSONEq(t, obj, string(p.Raw))

	var r Refund
	require.NoError(t, json.Unmarshal([]byte(`{"refund_amount": 1200, "result_code": 11, "refund_no": 7, "finish_time": null}`), &r))
	assert.Equal(t, "1200", r.RefundAmount)
	assert.Equal(t, RefundResultCode("11"), r.ResultCode)
	assert.True(t, r.FinishTime.IsZero())
}
