package hipopay

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Typing a verified notification: PaymentNotification's fields, promotion_detail, Unparsed.

func TestParseNotificationVectors(t *testing.T) {
	f := newNotifyFixture(t)
	client, err := NewClient("1000001", mustPrivateKey(t, "merchant_private_pkcs8.pem"), WithHipoPayPublicKey(f.pub))
	require.NoError(t, err)

	fields, ts, sig := f.vector(t, "paid_basic")
	n, err := client.ParseNotification(notifyRequest(http.MethodPost, fields, ts, sig))
	require.NoError(t, err)
	assert.Equal(t, PaymentStatusPaid, n.Status)
	assert.Equal(t, "MINIPROGRAM", n.TradeType)
	assert.Equal(t, "0.881890", n.ExchangeRate)
	assert.Equal(t, "2023111418154204114199308", n.PaymentNo)
	assert.Equal(t, "201901021232211023", n.OutTradeID)
	assert.Equal(t, HKD, n.Currency)
	assert.Equal(t, HKD, n.SettleCurrency)
	assert.Equal(t, CNY, n.PayCurrency)
	assert.Equal(t, "8.88", n.Amount)
	assert.Equal(t, "7.83", n.PayAmount)
	assert.Equal(t, ts, n.Timestamp)
	assert.Equal(t, fields, n.Fields)
	assert.Empty(t, n.PayRate)
	assert.Nil(t, n.PromotionDetail)

	// Times are in UTC+8, with the wall clock as sent.
	for _, tm := range []time.Time{n.TradeTime, n.FinishTime} {
		_, offset := tm.Zone()
		assert.Equal(t, 8*60*60, offset)
		_, offset = time.Unix(0, 0).In(tm.Location()).Zone()
		assert.Equal(t, 8*60*60, offset, "the location is a fixed UTC+8")
	}
	assert.Equal(t, "2023-11-14 18:15:42", n.TradeTime.Format("2006-01-02 15:04:05"))
	assert.Equal(t, "2023-11-14 18:15:59", n.FinishTime.Format("2006-01-02 15:04:05"))
	assert.True(t, n.TradeTime.Equal(time.Date(2023, 11, 14, 10, 15, 42, 0, time.UTC)))

	fields, ts, sig = f.vector(t, "paid_response_version_3")
	n, err = ParseNotificationRequest(f.pub, notifyRequest(http.MethodPost, fields, ts, sig), 0)
	require.NoError(t, err)
	assert.Equal(t, "2023111418200004114199309", n.PaymentNo)
	assert.Equal(t, "0.8719", n.PayRate)
	assert.Equal(t, "1.1469", n.PayRateReversed)
	assert.Equal(t, "CMB_DEBIT", n.BankType)
	assert.Equal(t, []Promotion{{ActivityID: "931386", Name: "coupon-6", Amount: "1", PromotionID: "109519", Scope: "GLOBAL", Type: "COUPON"}}, n.PromotionDetail)
	assert.Equal(t, fields, n.Fields)

	// The values layer gives the same result.
	n2, err := ParseNotificationForm(f.pub, fields, ts, sig)
	require.NoError(t, err)
	assert.Equal(t, n, n2)
}

func TestNotificationUnknownFieldsKept(t *testing.T) {
	f := newNotifyFixture(t)
	fields, _, _ := f.vector(t, "paid_basic")
	fields.Set("new_field", "a b=c+d;e%f")
	n, err := ParseNotificationRequest(f.pub, f.signedRequest(t, fields, "1700000999"), 0)
	require.NoError(t, err)
	assert.Equal(t, "a b=c+d;e%f", n.Fields.Get("new_field"))

	// A value holding '&' could be cut another way: refused, though signed.
	fields.Set("new_field", "a b&c=d+e")
	_, err = ParseNotificationRequest(f.pub, f.signedRequest(t, fields, "1700000999"), 0)
	assert.ErrorIs(t, err, ErrAmbiguousNotification)
}

func TestParseNotificationPromotionShapes(t *testing.T) {
	coupon := Promotion{ActivityID: "931386", Name: "coupon-6", Amount: "1", PromotionID: "109519", Scope: "GLOBAL", Type: "COUPON"}
	for name, tc := range map[string]struct {
		text string
		want []Promotion
	}{
		"empty":          {"", nil},
		"blank":          {" \n", nil},
		"null":           {"null", nil},
		"empty array":    {"[]", []Promotion{}},
		"spaced array":   {" [ ] ", []Promotion{}},
		"empty object":   {"[{}]", []Promotion{{}}},
		"null element":   {"[null]", []Promotion{{}}},
		"vector":         {`[{"activity_id": "931386", "name": "coupon-6", "amount": 1, "promotion_id": "109519", "scope": "GLOBAL", "type": "COUPON"}]`, []Promotion{coupon}},
		"strings":        {`[{"activity_id":"1","amount":"0.50","type":"DISCOUNT"}]`, []Promotion{{ActivityID: "1", Amount: "0.50", Type: "DISCOUNT"}}},
		"numbers":        {`[{"activity_id":931386,"amount":1.5,"promotion_id":109519}]`, []Promotion{{ActivityID: "931386", Amount: "1.5", PromotionID: "109519"}}},
		"number text":    {`[{"activity_id":931386,"amount":1.5e2,"promotion_id":-0},{"name":"b","amount":"0.50"}]`, []Promotion{{ActivityID: "931386", Amount: "1.5e2", PromotionID: "-0"}, {Name: "b", Amount: "0.50"}}},
		"big number":     {`[{"promotion_id":123456789012345678901234567890}]`, []Promotion{{PromotionID: "123456789012345678901234567890"}}},
		"null value":     {`[{"name":null,"amount":"1"}]`, []Promotion{{Amount: "1"}}},
		"boolean":        {`[{"name":true,"scope":false}]`, []Promotion{{Name: "true", Scope: "false"}}},
		"escapes":        {`[{"name":"esc\"aped \u00fc"}]`, []Promotion{{Name: "esc\"aped ü"}}},
		"invalid utf-8":  {"[{\"name\":\"bad \xff\"}]", []Promotion{{Name: "bad \ufffd"}}}, // as encoding/json decodes it
		"unicode spaced": {"[\n\t{\"name\" : \"优惠券\" ,\"amount\":0.01}\r\n]", []Promotion{{Name: "优惠券", Amount: "0.01"}}},
		"duplicate key":  {`[{"name":"a","name":"b"}]`, []Promotion{{Name: "b"}}},
		"mis-cased key":  {`[{"Name":"x"}]`, []Promotion{{Name: "x"}}}, // encoding/json matches keys case-insensitively
		"unknown keys":   {`[{"other":"unknown","extra":{"a":[1]},"name":"x"}]`, []Promotion{{Name: "x"}}},
		"lone object":    {`{"name":"x","extra":{"a":1}}`, []Promotion{{Name: "x"}}},
		"null last":      {`[{"name":"a","name":null}]`, []Promotion{{}}},
		"null first":     {`[{"name":null,"name":"b"}]`, []Promotion{{Name: "b"}}},
		"empty string":   {`[{"name":"","amount":""}]`, []Promotion{{}}},
		"three": {`[{"name":"a","amount":1},{"name":"b\u0062","amount":"2"},{"name":"c","amount":3.5}]`,
			[]Promotion{{Name: "a", Amount: "1"}, {Name: "bb", Amount: "2"}, {Name: "c", Amount: "3.5"}}},
		"lone object number": {`{"amount":7,"scope":"SINGLE"}`, []Promotion{{Amount: "7", Scope: "SINGLE"}}},
	} {
		got, err := parsePromotions(tc.text)
		require.NoError(t, err, name)
		assert.Equal(t, tc.want, got, name)
	}
	for _, text := range []string{
		`[{'name': 'x'}]`, `[{"name":{"a":1}}]`, `[{"amount":[1]}]`, `{"name":["x"]}`,
		`[[]]`, `[1]`, `"x"`, `1`, `true`, `{"name":"x"}]`, `[`, `{`,
		`[{"amount":01}]`, `[{"amount":1.}]`, `[{"amount":.5}]`, `[{"amount":+1}]`,
		`[{"name":"x"},]`, `[{"name":"x",}]`, `[{"name":"x"}] x`, `[{"name" "x"}]`, `[{"name":"x"}{}]`,
	} {
		got, err := parsePromotions(text)
		assert.Error(t, err, "%q", text)
		assert.Nil(t, got, "%q", text)
	}
}

func TestNotificationTimeAsParseTime(t *testing.T) {
	// notificationTime's fast path gives what parseTime gives, and
	// parseTime still reads what the fast path refuses.
	for _, s := range []string{
		"2023-11-14 18:20:31", "2024-02-29 23:59:59", "0000-01-01 00:00:00", "9999-12-31 23:59:59",
		"2023-11-14 18:20:31.5", "20231114182031", "", "2023-02-29 00:00:00", "2023-11-14 24:00:00",
		"2023-11-14T18:20:31", "2023-1-14 18:20:31", "yesterday",
	} {
		want, wantErr := parseTime(s)
		got, err := notificationTime(s)
		assert.Equal(t, wantErr != nil, err != nil, "%q", s)
		assert.Equal(t, want, got, "%q", s)
	}
}

func TestNotificationSignedWithUnparsableFields(t *testing.T) {
	// HipoPay signed it: refusing would have it delivered again and again,
	// and the paid order never processed. fn gets it, the field zero and
	// named in Unparsed; the handler warns, naming the field, not the value.
	f := newNotifyFixture(t)
	fields, ts, _ := f.vector(t, "paid_basic")
	v3, _, _ := f.vector(t, "paid_response_version_3")
	for name, tc := range map[string]struct {
		fields url.Values
		field  string
		value  string
	}{
		"trade_time other layout": {withField(fields, "trade_time", "2023/11/14 18:15:42", false), "trade_time", "2023/11/14 18:15:42"},
		"trade_time words":        {withField(fields, "trade_time", "yesterday", false), "trade_time", "yesterday"},
		"finish_time":             {withField(fields, "finish_time", "2023-13-45 99:00:00", false), "finish_time", "2023-13-45 99:00:00"},
		"promotion_detail":        {withField(v3, "promotion_detail", "[{", false), "promotion_detail", "[{"},
		"promotion nested":        {withField(v3, "promotion_detail", `[{"name":{"a":1}}]`, false), "promotion_detail", `[{"name":{"a":1}}]`},
	} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			var got *PaymentNotification
			h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
				got = n
				return nil
			}, WithHandlerLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			assertSuccess(t, serveNotify(h, f.signedRequest(t, tc.fields, ts)))
			require.NotNil(t, got, "fn must run")
			assert.Equal(t, []string{tc.field}, got.Unparsed)
			assert.Equal(t, tc.value, got.Fields.Get(tc.field), "the raw value stays in Fields")
			assert.Equal(t, tc.fields.Get("payment_no"), got.PaymentNo)
			switch tc.field {
			case "trade_time":
				assert.True(t, got.TradeTime.IsZero())
				assert.False(t, got.FinishTime.IsZero(), "the other fields are typed as usual")
			case "finish_time":
				assert.True(t, got.FinishTime.IsZero())
				assert.False(t, got.TradeTime.IsZero())
			case "promotion_detail":
				assert.Nil(t, got.PromotionDetail)
				assert.Equal(t, "CMB_DEBIT", got.BankType)
			}
			out := logs.String()
			assert.Contains(t, out, `"level":"WARN"`)
			assert.Contains(t, out, `"field":"`+tc.field+`"`)
			assert.NotContains(t, out, strings.Trim(fmt.Sprintf("%q", tc.value), `"`), "the value is not logged")

			n, err := ParseNotificationRequest(f.pub, f.signedRequest(t, tc.fields, ts), 0)
			require.NoError(t, err)
			assert.Equal(t, []string{tc.field}, n.Unparsed)
			n, err = ParseNotificationForm(f.pub, tc.fields, ts, f.sign(t, tc.fields, ts))
			require.NoError(t, err)
			assert.Equal(t, []string{tc.field}, n.Unparsed)
		})
	}

	// All three at once, in order.
	bad := withField(withField(withField(v3, "trade_time", "x", false), "finish_time", "y", false), "promotion_detail", "z", false)
	n, err := ParseNotificationRequest(f.pub, f.signedRequest(t, bad, ts), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"trade_time", "finish_time", "promotion_detail"}, n.Unparsed)

	// The vectors parse: Unparsed is nil.
	good, _, _ := f.vector(t, "paid_response_version_3")
	n, err = ParseNotificationRequest(f.pub, f.signedRequest(t, good, ts), 0)
	require.NoError(t, err)
	assert.Nil(t, n.Unparsed)
}

func TestNotificationWithoutSettleCurrency(t *testing.T) {
	// One early notification had no settle_currency (PROTOCOL.md): the
	// 2019 sandbox notification without it, signed with the test key,
	// is processed, SettleCurrency empty.
	f := newNotifyFixture(t)
	real := loadRealNotifications(t)[0]
	require.Equal(t, "sandbox", real.Name)
	fields := withoutField(real.fields(), "settle_currency")
	var got *PaymentNotification
	h := NewNotificationHandler(f.pub, func(_ context.Context, n *PaymentNotification) error { got = n; return nil })
	assertSuccess(t, serveNotify(h, f.signedRequest(t, fields, real.Timestamp)))
	require.NotNil(t, got)
	assert.Empty(t, got.SettleCurrency)
	assert.Nil(t, got.Unparsed)
	assert.Equal(t, "2019081517201983250411444", got.PaymentNo)
	assert.Equal(t, HKD, got.Currency)
	assert.Equal(t, "1.00", got.Amount)
	assert.Equal(t, fields, got.Fields)

	n, err := ParseNotificationForm(f.pub, fields, real.Timestamp, f.sign(t, fields, real.Timestamp))
	require.NoError(t, err)
	assert.Empty(t, n.SettleCurrency)
}
