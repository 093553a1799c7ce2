// A payment notification as the merchant's code sees it: PaymentNotification,
// NotificationFunc, and the typing of verified form fields (Promotion is in
// promotion.go).
//
// HipoPay calls: POST to the merchant's notify_url (see notify_verify.go
// for reading and verifying it, notify_handler.go for answering it).

package hipopay

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// PaymentNotification is a verified payment notification.
//
// HipoPay calls: POST to the merchant's notify_url.
//
// Times are in UTC+8 ([ChinaTimeZone]); amounts are decimal text as
// received. A field that did not parse is left zero and named in Unparsed.
type PaymentNotification struct {
	Status          PaymentStatus // PAID: HipoPay notifies only paid orders
	TradeType       string        // MINIPROGRA, NATIVE, APP, WAP...
	ExchangeRate    string        // from Currency to SettleCurrency
	PaymentNo       string        // HipoPay's payment number
	OutTradeID      string        // the merchant's order number
	Currency        Currency      // the order's currency
	SettleCurrency  Currency      // the merchant's settlement currency; may be missing
	PayCurrency     Currency      // what the buyer paid in (CNY)
	Amount          string        // the order's amount, e.g. "8.88"
	PayAmount       string        // the amount in PayCurrency
	TradeTime       time.Time     // when the order was placed
	FinishTime      time.Time     // when it was paid
	PayRate         string        // response_version 3.0
	PayRateReversed string        // response_version 3.0
	BankType        string        // response_version 3.0
	PromotionDetail []Promotion   // response_version 3.0
	Timestamp       string        // the Timestamp header
	Fields          url.Values    // every field as received, unknown ones included

	// Unparsed names the fields whose value did not parse ("trade_time",
	// "finish_time", "promotion_detail"), in that order; nil when all did.
	// Their typed field is zero; the raw value is in Fields.
	Unparsed []string
}

// NotificationFunc processes a verified payment notification: typically it
// marks the order n.OutTradeID paid and commits.
//
// Return nil once the effects are committed: the handler then answers
// "success". Return nil too when a retry cannot help, after recording it
// and alerting someone: an unknown order, or an amount or currency that
// does not match the order. Return an error only for a transient failure
// (the database is down): the handler answers 500 and HipoPay delivers the
// notification again. A panic is recovered and treated as an error. The
// handler logs every error (see [WithHandlerLogger]).
type NotificationFunc func(ctx context.Context, n *PaymentNotification) error

// notificationOf types the fields of a verified notification. Only a
// missing payment_no is an error; a field that does not parse is left zero
// and named in Unparsed.
func notificationOf(fields url.Values, timestamp string) (*PaymentNotification, error) {
	get := func(name string) string {
		if vs := fields[name]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	n := &PaymentNotification{
		Status:          PaymentStatus(get("status")),
		TradeType:       get("trade_type"),
		ExchangeRate:    get("exchange_rate"),
		PaymentNo:       get("payment_no"),
		OutTradeID:      get("out_trade_id"),
		Currency:        Currency(get("currency")),
		SettleCurrency:  Currency(get("settle_currency")),
		PayCurrency:     Currency(get("pay_currency")),
		Amount:          get("amount"),
		PayAmount:       get("pay_amount"),
		PayRate:         get("pay_rate"),
		PayRateReversed: get("pay_rate_reversed"),
		BankType:        get("bank_type"),
		Timestamp:       timestamp,
		Fields:          fields,
	}
	if n.PaymentNo == "" {
		return nil, fmt.Errorf("%w: payment_no is missing", ErrMalformedNotification)
	}
	var err error
	if n.TradeTime, err = notificationTime(get("trade_time")); err != nil {
		n.TradeTime = time.Time{}
		n.Unparsed = append(n.Unparsed, "trade_time")
	}
	if n.FinishTime, err = notificationTime(get("finish_time")); err != nil {
		n.FinishTime = time.Time{}
		n.Unparsed = append(n.Unparsed, "finish_time")
	}
	if n.PromotionDetail, err = parsePromotions(get("promotion_detail")); err != nil {
		n.PromotionDetail = nil
		n.Unparsed = append(n.Unparsed, "promotion_detail")
	}
	return n, nil
}

// notificationTime reads trade_time or finish_time as parseTime does, the
// layout HipoPay sends through parseBillTime (BenchmarkNotificationOverhead).
func notificationTime(s string) (time.Time, error) {
	if t, ok := parseBillTime(s); ok {
		return t, nil
	}
	return parseTime(s)
}
