// Customs declarations of WeChat Pay payments: declaring a sub-order
// (POST wechatpay/declaration), re-declaring (POST wechatpay/redeclaration)
// and querying a declaration (GET wechatpay/declaration).

package hipopay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// DeclarationRequest declares one sub-order of a payment to a customs
// office. CertID and Name identify the buyer for an identity check: send
// both or neither. They never appear in the SDK's logs or errors, nor when
// the request itself is printed or logged.
type DeclarationRequest struct {
	OutOrderNo   string      `url:"out_order_no"`   // the merchant's order number (required)
	PaymentNo    string      `url:"payment_no"`     // HipoPay's payment number (required)
	Customs      CustomsCode `url:"customs"`        // customs office (required)
	MchCustomsNo string      `url:"mch_customs_no"` // the merchant's customs registration number (required)
	// Duty in 0.01 CNY (88 is 0.88 CNY), for the customs that want it;
	// 0 sends nothing.
	Duty       int        `url:"duty,omitempty"`
	ActionType ActionType `url:"action_type,omitempty"` // ADD (HipoPay's default when empty) or MODIFY
	SubOrderNo string     `url:"sub_order_no"`          // the merchant's sub-order number (required)
	// SubOrderAmount must equal TransportAmount + ProductAmount (decimals,
	// at most two places).
	SubOrderAmount  string `url:"sub_order_amount"`
	TransportAmount string `url:"transport_amount"`
	ProductAmount   string `url:"product_amount"`
	CertID          string `url:"cert_id,omitempty"` // the buyer's ID card number (personal data)
	Name            string `url:"name,omitempty"`    // the buyer's name (personal data)
}

// String prints the request with the buyer's CertID and Name redacted.
func (r DeclarationRequest) String() string {
	r.CertID, r.Name = redact(r.CertID), redact(r.Name)
	type plain DeclarationRequest // no String method: no recursion
	return fmt.Sprintf("%+v", plain(r))
}

// GoString is String, so that %#v redacts too.
func (r DeclarationRequest) GoString() string { return r.String() }

// Format prints the request redacted whatever the verb.
func (r DeclarationRequest) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, "hipopay.DeclarationRequest", r.String())
}

// MarshalJSON writes the request with the buyer's CertID and Name
// redacted, for JSON loggers; it is not what is sent to HipoPay.
func (r DeclarationRequest) MarshalJSON() ([]byte, error) {
	r.CertID, r.Name = redact(r.CertID), redact(r.Name)
	type plain DeclarationRequest // no MarshalJSON method: no recursion
	return json.Marshal(plain(r))
}

// LogValue logs the request with the buyer's CertID and Name redacted.
func (r DeclarationRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("out_order_no", r.OutOrderNo), slog.String("payment_no", r.PaymentNo),
		slog.String("customs", string(r.Customs)), slog.String("sub_order_no", r.SubOrderNo),
		slog.String("cert_id", redact(r.CertID)), slog.String("name", redact(r.Name)))
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// validIdentity checks that cert_id and name come together, never
// echoing them: they are the buyer's identity.
func validIdentity(certID, name string) error {
	switch {
	case certID == "" && name != "":
		return invalid("cert_id", "is required when name is set (identity check needs both)")
	case certID != "" && name == "":
		return invalid("name", "is required when cert_id is set (identity check needs both)")
	}
	return nil
}

// formatRedacted writes the redacted text s of a value of type typeName
// for any verb: without it, a verb a string does not take (%d, %t) makes
// fmt print the fields raw.
func formatRedacted(f fmt.State, verb rune, typeName, s string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s)
	case verb == 'v' || verb == 's' || verb == 'q' || verb == 'x' || verb == 'X':
		fmt.Fprintf(f, fmt.FormatString(f, verb), s)
	default:
		fmt.Fprintf(f, "%%!%c(%s=%s)", verb, typeName, s)
	}
}

func (r *DeclarationRequest) validate() error {
	if r == nil {
		return invalid("request", "is nil")
	}
	for _, f := range []struct{ name, value string }{
		{"out_order_no", r.OutOrderNo}, {"payment_no", r.PaymentNo}, {"mch_customs_no", r.MchCustomsNo},
		{"sub_order_no", r.SubOrderNo},
	} {
		if err := required(f.name, f.value); err != nil {
			return err
		}
	}
	if err := validCustoms("customs", r.Customs); err != nil {
		return err
	}
	if r.Duty < 0 {
		return invalid("duty", "%d is negative", r.Duty)
	}
	if r.ActionType != "" && r.ActionType != ActionAdd && r.ActionType != ActionModify {
		return invalid("action_type", "%q is neither ADD nor MODIFY", string(r.ActionType))
	}
	if err := validIdentity(r.CertID, r.Name); err != nil {
		return err
	}
	amounts := map[string]int64{}
	for _, f := range []struct{ name, value string }{
		{"sub_order_amount", r.SubOrderAmount}, {"transport_amount", r.TransportAmount}, {"product_amount", r.ProductAmount},
	} {
		if f.value == "" {
			return invalid(f.name, "is required")
		}
		if strings.HasPrefix(f.value, "-") {
			return invalid(f.name, "%q is negative", f.value)
		}
		n, err := parseMinor(f.value, 2)
		if err != nil {
			return invalid(f.name, "%v", err)
		}
		amounts[f.name] = n
	}
	if amounts["sub_order_amount"] <= 0 {
		return invalid("sub_order_amount", "%q is not a positive amount", r.SubOrderAmount)
	}
	if amounts["sub_order_amount"] != amounts["transport_amount"]+amounts["product_amount"] {
		return invalid("sub_order_amount", "%s is not transport_amount + product_amount (%s + %s)",
			r.SubOrderAmount, r.TransportAmount, r.ProductAmount)
	}
	return nil
}

// validCustoms refuses a missing or malformed customs code. Codes HipoPay
// may add later pass: only the shape (upper-case letters, digits, '_') is
// checked.
func validCustoms(field string, c CustomsCode) error {
	if c == "" {
		return invalid(field, "is required")
	}
	for i := 0; i < len(c); i++ {
		if b := c[i]; !('A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_') {
			return invalid(field, "%q is not a customs code such as SHENZHEN", string(c))
		}
	}
	return nil
}

// RedeclarationRequest re-declares a payment already declared (data lost at
// the electronic port, or a wrong registration number or customs code).
// Identify it by SubOrderNo when the order was split, otherwise by
// PaymentNo or OutOrderNo.
type RedeclarationRequest struct {
	PaymentNo    string      `url:"payment_no,omitempty"`
	OutOrderNo   string      `url:"out_order_no,omitempty"`
	SubOrderNo   string      `url:"sub_order_no,omitempty"`
	Customs      CustomsCode `url:"customs"`        // required
	MchCustomsNo string      `url:"mch_customs_no"` // required
}

func (r *RedeclarationRequest) validate() error {
	if r == nil {
		return invalid("request", "is nil")
	}
	if err := validIdentified(r.PaymentNo, r.OutOrderNo, r.SubOrderNo); err != nil {
		return err
	}
	if err := validCustoms("customs", r.Customs); err != nil {
		return err
	}
	return required("mch_customs_no", r.MchCustomsNo)
}

// DeclarationQuery identifies a declaration: SubOrderNo when the order was
// split, otherwise PaymentNo or OutOrderNo; Customs is required.
type DeclarationQuery struct {
	PaymentNo  string      `url:"payment_no,omitempty"`
	OutOrderNo string      `url:"out_order_no,omitempty"`
	SubOrderNo string      `url:"sub_order_no,omitempty"`
	Customs    CustomsCode `url:"customs"`
}

func (q DeclarationQuery) validate() error {
	if err := validIdentified(q.PaymentNo, q.OutOrderNo, q.SubOrderNo); err != nil {
		return err
	}
	return validCustoms("customs", q.Customs)
}

// validIdentified checks the "one of payment_no, out_order_no,
// sub_order_no" rule of re-declarations and declaration queries.
func validIdentified(paymentNo, outOrderNo, subOrderNo string) error {
	if blank(paymentNo) && blank(outOrderNo) && blank(subOrderNo) {
		return invalid("payment_no", "one of payment_no, out_order_no or sub_order_no is required")
	}
	return nil
}

// Declaration is a customs declaration as HipoPay reports it. Which fields
// are set depends on the call: re-declaration answers carry Explanation,
// declaration answers RawResponse. It marshals to JSON as HipoPay writes it.
type Declaration struct {
	OutOrderNo       string           `json:"out_order_no"`
	PaymentNo        string           `json:"payment_no"`
	Customs          CustomsCode      `json:"customs"`
	WechatpayNo      string           `json:"wechatpay_no,omitempty"` // WeChat Pay's payment number
	State            DeclarationState `json:"state"`
	ModifyTime       time.Time        `json:"modify_time"` // UTC+8
	VerDept          VerifyDepartment `json:"ver_dept,omitempty"`
	PayTransactionID string           `json:"pay_transaction_id,omitempty"`
	SubOrderNo       string           `json:"sub_order_no,omitempty"`
	SubOrderAmount   string           `json:"sub_order_amount,omitempty"`
	TransportAmount  string           `json:"transport_amount,omitempty"`
	ProductAmount    string           `json:"product_amount,omitempty"`
	CertCheckResult  CertCheckResult  `json:"cert_check_result,omitempty"`
	Explanation      string           `json:"explanation,omitempty"` // why a re-declaration failed
	// RawResponse is the customs' own answer, decoded from the JSON text
	// HipoPay sends in raw_response; nil when absent or when it is not
	// JSON at all (RawResponseText still has it).
	RawResponse *DeclarationRawResponse `json:"raw_response,omitempty"`
	// RawResponseText is raw_response as received.
	RawResponseText string `json:"-"`
}

type declarationAlias Declaration

// declarationJSON shadows Declaration's lenient fields with leaf types;
// raw_response is a JSON document inside a string.
type declarationJSON struct {
	*declarationAlias
	OutOrderNo       flexString    `json:"out_order_no"`
	PaymentNo        flexString    `json:"payment_no"`
	WechatpayNo      flexString    `json:"wechatpay_no"`
	ModifyTime       *flexTime     `json:"modify_time,omitempty"`
	PayTransactionID flexString    `json:"pay_transaction_id,omitempty"`
	SubOrderNo       flexString    `json:"sub_order_no,omitempty"`
	SubOrderAmount   flexString    `json:"sub_order_amount,omitempty"`
	TransportAmount  flexString    `json:"transport_amount,omitempty"`
	ProductAmount    flexString    `json:"product_amount,omitempty"`
	RawResponse      *embeddedJSON `json:"raw_response,omitempty"`
}

func (d *Declaration) json() (*declarationJSON, error) {
	w := &declarationJSON{declarationAlias: (*declarationAlias)(d), OutOrderNo: flexString(d.OutOrderNo),
		PaymentNo: flexString(d.PaymentNo), WechatpayNo: flexString(d.WechatpayNo), ModifyTime: wireTime(d.ModifyTime),
		PayTransactionID: flexString(d.PayTransactionID), SubOrderNo: flexString(d.SubOrderNo),
		SubOrderAmount: flexString(d.SubOrderAmount), TransportAmount: flexString(d.TransportAmount),
		ProductAmount: flexString(d.ProductAmount)}
	text := d.RawResponseText
	if text == "" && d.RawResponse != nil {
		b, err := json.Marshal(d.RawResponse)
		if err != nil {
			return nil, err
		}
		text = string(b)
	}
	if text != "" {
		w.RawResponse = &embeddedJSON{text: text}
	}
	return w, nil
}

// UnmarshalJSON decodes HipoPay's declaration object leniently. A
// raw_response that does not decode leaves RawResponse nil rather than
// fail the answer: HipoPay accepted the call.
func (d *Declaration) UnmarshalJSON(b []byte) error {
	w, err := d.json()
	if err != nil {
		return err
	}
	w.RawResponse = nil
	if err := json.Unmarshal(b, w); err != nil {
		return err
	}
	d.OutOrderNo, d.PaymentNo, d.WechatpayNo = string(w.OutOrderNo), string(w.PaymentNo), string(w.WechatpayNo)
	d.ModifyTime, d.PayTransactionID, d.SubOrderNo = w.ModifyTime.time(), string(w.PayTransactionID), string(w.SubOrderNo)
	d.SubOrderAmount, d.TransportAmount, d.ProductAmount = string(w.SubOrderAmount), string(w.TransportAmount), string(w.ProductAmount)
	d.RawResponse, d.RawResponseText = nil, ""
	if w.RawResponse != nil {
		d.RawResponseText = w.RawResponse.text
		var raw DeclarationRawResponse
		if w.RawResponse.doc != nil && json.Unmarshal(w.RawResponse.doc, &raw) == nil {
			raw.JSON = w.RawResponse.doc
			d.RawResponse = &raw
		}
	}
	return nil
}

// MarshalJSON writes the declaration as HipoPay does: raw_response as a
// JSON document inside a string (RawResponseText, else RawResponse).
func (d Declaration) MarshalJSON() ([]byte, error) {
	w, err := d.json()
	if err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

// DeclarationRawResponse is the customs' original answer to a declaration.
type DeclarationRawResponse struct {
	ModifyTime              time.Time        `json:"modify_time"` // "20060102150405" in UTC+8
	State                   DeclarationState `json:"state"`
	CertCheckResult         CertCheckResult  `json:"cert_check_result"`
	TransactionID           string           `json:"transaction_id"` // WeChat Pay's payment number
	ReturnCode              string           `json:"return_code"`
	ReturnMsg               string           `json:"return_msg"`
	Sign                    string           `json:"sign"`
	SubOrderID              string           `json:"sub_order_id"`
	MchID                   string           `json:"mch_id"`
	OutTradeNo              string           `json:"out_trade_no"` // HipoPay's payment number
	ErrCodeDes              string           `json:"err_code_des"` // "OK" on success
	AppID                   string           `json:"appid"`
	SubOrderNo              string           `json:"sub_order_no"`
	VerifyDepartmentTradeID string           `json:"verify_department_trade_id"`
	VerifyDepartment        VerifyDepartment `json:"verify_department"`
	ResultCode              string           `json:"result_code"` // SUCCESS or FAIL
	ErrCode                 string           `json:"err_code"`
	// JSON is the raw_response document as received.
	JSON json.RawMessage `json:"-"`
}

type rawResponseAlias DeclarationRawResponse

// rawResponseJSON shadows the lenient fields of the customs' answer.
type rawResponseJSON struct {
	*rawResponseAlias
	ModifyTime              *compactTime `json:"modify_time,omitempty"`
	TransactionID           flexString   `json:"transaction_id"`
	SubOrderID              flexString   `json:"sub_order_id"`
	MchID                   flexString   `json:"mch_id"`
	OutTradeNo              flexString   `json:"out_trade_no"`
	SubOrderNo              flexString   `json:"sub_order_no"`
	VerifyDepartmentTradeID flexString   `json:"verify_department_trade_id"`
	ErrCode                 flexString   `json:"err_code"`
}

func (r *DeclarationRawResponse) json() *rawResponseJSON {
	return &rawResponseJSON{rawResponseAlias: (*rawResponseAlias)(r), ModifyTime: wireCompactTime(r.ModifyTime),
		TransactionID: flexString(r.TransactionID), SubOrderID: flexString(r.SubOrderID), MchID: flexString(r.MchID),
		OutTradeNo: flexString(r.OutTradeNo), SubOrderNo: flexString(r.SubOrderNo),
		VerifyDepartmentTradeID: flexString(r.VerifyDepartmentTradeID), ErrCode: flexString(r.ErrCode)}
}

// UnmarshalJSON decodes the customs' answer leniently.
func (r *DeclarationRawResponse) UnmarshalJSON(b []byte) error {
	w := r.json()
	if err := json.Unmarshal(b, w); err != nil {
		return err
	}
	r.ModifyTime, r.TransactionID, r.SubOrderID = w.ModifyTime.time(), string(w.TransactionID), string(w.SubOrderID)
	r.MchID, r.OutTradeNo, r.SubOrderNo = string(w.MchID), string(w.OutTradeNo), string(w.SubOrderNo)
	r.VerifyDepartmentTradeID, r.ErrCode = string(w.VerifyDepartmentTradeID), string(w.ErrCode)
	r.JSON = append(json.RawMessage(nil), b...)
	return nil
}

// MarshalJSON writes the customs' answer with its time as
// "20060102150405" in UTC+8.
func (r DeclarationRawResponse) MarshalJSON() ([]byte, error) { return json.Marshal(r.json()) }

// declarationCall sends a declaration call and decodes its answer.
func (c *Client) declarationCall(ctx context.Context, cl call) (*Declaration, error) {
	var d Declaration
	if _, err := c.do(ctx, cl, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Declare declares a sub-order of a paid payment to a customs office
// (see [CustomsCode.UnifiedDeclaration] for the offices that need two).
//
// HipoPay endpoint: POST wechatpay/declaration.
//
// Invalid input (a missing field, a sub_order_amount that is not
// transport_amount + product_amount, cert_id without name) is a
// [*ValidationError] before any network call. Never re-sent once it may
// have reached HipoPay: query it with [Client.GetDeclaration]. HipoPay's
// refusals are [*APIError]; no error holds the buyer's cert_id or name.
func (c *Client) Declare(ctx context.Context, req *DeclarationRequest) (*Declaration, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	return c.declarationCall(ctx, call{method: http.MethodPost, path: "wechatpay/declaration",
		params: encodeParams(req), secrets: []string{req.CertID, req.Name}})
}

// Redeclare re-declares a payment to customs.
//
// HipoPay endpoint: POST wechatpay/redeclaration.
//
// A request without an identifier, customs or mch_customs_no is a
// [*ValidationError] before any network call. Never re-sent once it may
// have reached HipoPay. HipoPay's refusals are [*APIError].
func (c *Client) Redeclare(ctx context.Context, req *RedeclarationRequest) (*Declaration, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	return c.declarationCall(ctx, call{method: http.MethodPost, path: "wechatpay/redeclaration", params: encodeParams(req)})
}

// GetDeclaration returns the state of a customs declaration.
//
// HipoPay endpoint: GET wechatpay/declaration.
//
// A query without an identifier or customs is a [*ValidationError].
// Retried on network errors, 429 and 5xx. HipoPay's refusals are
// [*APIError].
func (c *Client) GetDeclaration(ctx context.Context, q DeclarationQuery) (*Declaration, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	return c.declarationCall(ctx, call{method: http.MethodGet, path: "wechatpay/declaration", params: encodeParams(q)})
}
