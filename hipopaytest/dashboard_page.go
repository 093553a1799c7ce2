// The dashboard page as the server renders it: GET _mock/dashboard is
// dashboard/index.html, an html/template filled in from the snapshot that
// GET _mock/state serves, so that the page shows the fake's state before
// (and without) its script, which then keeps it live. Every value goes
// through html/template's escaping.

package hipopaytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	hipopay "github.com/hipopay-go/hipopay"
)

// dash is what the page shows for a missing value.
const dash = "—"

// pageView is what dashboard/index.html renders: the members of dashState
// as the page shows them (app.js renders the same from GET _mock/state).
type pageView struct {
	MerchantNo   string
	Schedule     string
	Orders       []pageOrder // newest first
	Refunds      []pageRefund
	Declarations []pageDeclaration
	Bill         pageBill
}

// Notified is the orders with a notification to show, newest first.
func (v pageView) Notified() []pageOrder {
	var out []pageOrder
	for _, o := range v.Orders {
		if o.HasNotification() {
			out = append(out, o)
		}
	}
	return out
}

// pageOrder is an order of GET _mock/state.
type pageOrder struct {
	Method       string         `json:"method"`
	OutTradeID   string         `json:"out_trade_id"`
	PaymentNo    string         `json:"payment_no"`
	Amount       string         `json:"amount"`
	Currency     string         `json:"currency"`
	Status       string         `json:"status"`
	TradeTime    string         `json:"trade_time"`
	NotifyURL    string         `json:"notify_url"`
	Notification string         `json:"notification"`
	NextRetry    string         `json:"next_retry"`
	Deliveries   []pageDelivery `json:"deliveries"`
}

// pageButton is one of the page's buttons: POST _mock/Action?payment_no=.
type pageButton struct {
	Action, Label, PaymentNo string
	Enabled                  bool
}

// MethodParts is the method's path cut before each '/' (the page lets it
// break there).
func (o pageOrder) MethodParts() []string { return strings.Split(o.Method, "/") }

// HasNotification reports whether the order has a notification to show.
func (o pageOrder) HasNotification() bool { return len(o.Deliveries) > 0 || o.Notification != "" }

// Summary is the order's notification in words.
func (o pageOrder) Summary() string {
	switch o.Notification {
	case "acknowledged":
		return "acknowledged"
	case "waiting":
		return "not acknowledged; next retry " + o.NextRetry
	case "sending":
		return "sending"
	case "gave up":
		return "gave up: every retry failed"
	}
	if o.Status != string(hipopay.PaymentStatusPaid) || o.NotifyURL != "" {
		return dash
	}
	return "no notify_url"
}

// Buttons is the order's pay, fail and expire buttons (INIT orders only).
func (o pageOrder) Buttons() []pageButton {
	init := o.Status == string(hipopay.PaymentStatusInit)
	return []pageButton{{"pay", "Pay", o.PaymentNo, init}, {"fail", "Fail", o.PaymentNo, init}, {"expire", "Expire", o.PaymentNo, init}}
}

// Redeliver is the order's redeliver button (paid orders with a notify_url).
func (o pageOrder) Redeliver() pageButton {
	return pageButton{"redeliver", "Redeliver", o.PaymentNo, o.Status == string(hipopay.PaymentStatusPaid) && o.NotifyURL != ""}
}

// pageDelivery is a notification delivery of GET _mock/state.
type pageDelivery struct {
	Attempt       int    `json:"attempt"`
	Time          string `json:"time"`
	StatusCode    int    `json:"status_code"`
	Status        string `json:"status"`
	Body          string `json:"body"`
	BodyTruncated bool   `json:"body_truncated"`
	Acknowledged  bool   `json:"acknowledged"`
	NextRetry     string `json:"next_retry"`
	Redelivery    bool   `json:"redelivery"`
}

// Label is the attempt's number, marked when Redeliver sent it.
func (d pageDelivery) Label() string {
	if d.Redelivery {
		return strconv.Itoa(d.Attempt) + " (redeliver)"
	}
	return strconv.Itoa(d.Attempt)
}

// Answer is the first bytes of the merchant's answer, "…" when cut.
func (d pageDelivery) Answer() string {
	if d.BodyTruncated {
		return d.Body + "…"
	}
	return d.Body
}

// pageRefund is a refund of GET _mock/state.
type pageRefund struct {
	FinishTime  string `json:"finish_time"`
	RefundNo    string `json:"refund_no"`
	OutRefundID string `json:"out_refund_id"`
	PaymentNo   string `json:"payment_no"`
	Amount      string `json:"refund_amount"`
	Currency    string `json:"currency"`
	Status      string `json:"status"`
	ResultCode  string `json:"result_code"`
	FailMessage string `json:"fail_message"`
}

// pageDeclaration is a customs declaration of GET _mock/state.
type pageDeclaration struct {
	ModifyTime   string `json:"modify_time"`
	PaymentNo    string `json:"payment_no"`
	OutOrderNo   string `json:"out_order_no"`
	SubOrderNo   string `json:"sub_order_no"`
	Customs      string `json:"customs"`
	MchCustomsNo string `json:"mch_customs_no"`
	State        string `json:"state"`
	Explanation  string `json:"explanation"`
}

// pageBill is the reconciliation file section: today's file of the
// server's merchant, as the page first shows it.
type pageBill struct {
	Date      string // YYYYMMDD
	Merchant  string
	Merchants []string
	Days      []dashBillDay // the merchant's days with lines
	Text      string        // the file, or why there is none
}

// DateInput is Date as an <input type="date"> value.
func (b pageBill) DateInput() string {
	if len(b.Date) != 8 {
		return ""
	}
	return b.Date[:4] + "-" + b.Date[4:6] + "-" + b.Date[6:]
}

// LinesText is "N line(s)".
func (d dashBillDay) LinesText() string {
	if d.Lines == 1 {
		return "1 line"
	}
	return strconv.Itoa(d.Lines) + " lines"
}

// pageViewOf decodes the snapshot's orders, refunds and declarations
// (the JSON GET _mock/state answers) into the page's view; billText is
// the file of st.Today for st.MerchantNo.
func pageViewOf(st dashState, billText string) (pageView, error) {
	v := pageView{MerchantNo: st.MerchantNo, Schedule: "no re-send"}
	if len(st.RetrySchedule) > 0 {
		v.Schedule = strings.Join(st.RetrySchedule, ", ")
	}
	if err := decodeAll(st.Orders, &v.Orders); err != nil {
		return v, fmt.Errorf("orders: %w", err)
	}
	if err := decodeAll(st.Refunds, &v.Refunds); err != nil {
		return v, fmt.Errorf("refunds: %w", err)
	}
	if err := decodeAll(st.Declarations, &v.Declarations); err != nil {
		return v, fmt.Errorf("declarations: %w", err)
	}
	v.Bill = pageBill{Date: st.Today, Merchant: st.MerchantNo, Merchants: st.Merchants, Text: billText}
	for _, d := range st.BillDays {
		if d.MerchantNo == st.MerchantNo {
			v.Bill.Days = append(v.Bill.Days, d)
		}
	}
	return v, nil
}

func decodeAll[T any](raw []json.RawMessage, out *[]T) error {
	*out = make([]T, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &(*out)[i]); err != nil {
			return err
		}
	}
	return nil
}

// billText is the reconciliation file of date for merchantNo as the page
// shows it: the file, or why there is none.
func (s *Server) billText(date, merchantNo string) string {
	a := s.billFile(date, merchantNo)
	if !strings.HasPrefix(a.contentType, "application/json") {
		return string(a.body)
	}
	var env hipopay.Envelope
	reason := string(a.body)
	if json.Unmarshal(a.body, &env) == nil && env.ErrorMessage != "" {
		reason = env.ErrorMessage
	}
	return "No file for " + date + ": " + reason
}

// servePage serves GET _mock/dashboard: index.html with the state filled
// in.
func (s *Server) servePage(w http.ResponseWriter) {
	fail := func(err error) {
		writeAnswer(w, jsonAnswer(http.StatusInternalServerError, hipopay.Envelope{Error: "SYSTEM_ERROR", ErrorMessage: "rendering the dashboard: " + err.Error()}))
	}
	st := s.dashboardState()
	view, err := pageViewOf(st, s.billText(st.Today, st.MerchantNo))
	if err != nil {
		fail(err)
		return
	}
	page, err := template.ParseFS(dashboardFiles, "dashboard/index.html")
	if err != nil {
		fail(err)
		return
	}
	var b bytes.Buffer
	if err := page.Execute(&b, view); err != nil {
		fail(err)
		return
	}
	setPageHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-store")
	writeAnswer(w, answer{status: http.StatusOK, contentType: "text/html; charset=utf-8", body: b.Bytes()})
}
