package hipopay

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A BillRecord marshals to snake_case members, the time in UTC+8 as
// HipoPay writes it, amounts as value and currency, empty cells left out;
// it reads back the same.
func TestBillRecordJSON(t *testing.T) {
	rec := BillRecord{
		Type:                  "Conversion",
		Time:                  time.Date(2019, 1, 2, 2, 55, 10, 0, time.UTC),
		OrderNo:               "2019010210551024660612990",
		ExternalOrderNo:       "A&B<1>",
		Credit:                Money{"0.99", HKD},
		Balance:               Money{"1.06", HKD},
		TransactionAmount:     Money{"1.00", HKD},
		SettlementRate:        "1",
		ServiceFee:            Money{"0.00", HKD},
		RefundAmount:          Money{"-0.50", HKD},
		RefundOrderNo:         "R1",
		ExternalRefundOrderNo: "ER1",
		WithdrawalFee:         Money{"2.00", HKD},
		ConvertedCurrency:     "USD",
		ConversionRate:        "0.1277",
		AmountAfterConversion: Money{"0.13", USD},
		PaymentChannel:        "WECHATPAYCN",
	}
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"type": "Conversion", "time": "2019-01-02 10:55:10",
		"order_no": "2019010210551024660612990", "external_order_no": "A&B<1>",
		"credit": {"value": "0.99", "currency": "HKD"}, "balance": {"value": "1.06", "currency": "HKD"},
		"transaction_amount": {"value": "1.00", "currency": "HKD"}, "settlement_rate": "1",
		"service_fee": {"value": "0.00", "currency": "HKD"}, "refund_amount": {"value": "-0.50", "currency": "HKD"},
		"refund_order_no": "R1", "external_refund_order_no": "ER1",
		"withdrawal_fee": {"value": "2.00", "currency": "HKD"}, "converted_currency": "USD",
		"conversion_rate": "0.1277", "amount_after_conversion": {"value": "0.13", "currency": "USD"},
		"payment_channel": "WECHATPAYCN"}`, string(b))
	assert.NotContains(t, string(b), "debit", "an empty cell is left out")

	var back BillRecord
	require.NoError(t, json.Unmarshal(b, &back))
	assert.True(t, rec.Time.Equal(back.Time), back.Time)
	back.Time = rec.Time
	assert.Equal(t, rec, back)

	// A record with only a type: nothing else is written, nothing else read.
	b, err = json.Marshal(&BillRecord{Type: "Refund"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"type": "Refund"}`, string(b))
	back = BillRecord{}
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, BillRecord{Type: "Refund"}, back)
}

// BillColumns lists the 18 columns in the file's order, and a caller's
// change to the slice does not reach the SDK's names.
func TestBillColumns(t *testing.T) {
	cols := BillColumns()
	require.Len(t, cols, billColumnCount)
	assert.Equal(t, "Transaction Type", cols[0])
	assert.Equal(t, "Payment Channel", cols[billColumnCount-1])
	cols[0] = "changed"
	assert.Equal(t, "Transaction Type", BillColumns()[0])
}
