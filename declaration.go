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

// Format prints the request redacted whatever the verb: without it, a verb
// a string does not take (%d, %t) makes fmt print the fields raw.
func (r DeclarationRequest) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, r.GoString())
	case verb == 'v' || verb == 's' || verb == 'q' || verb == 'x' || verb == 'X':
		fmt.Fprintf(f, fmt.FormatString(f, verb), r.String())
	default:
		fmt.Fprintf(f, "%%!%c(hipopay.DeclarationRequest=%s)", verb, r.String())
	}
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
	return "[REDACTED]"
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
	if (r.CertID == "") != (r.Name == "") {
		// Never echo the values: they are the buyer's identity.
		if r.CertID == "" {
			return invalid("cert_id", "is required when name is set (identity check needs both)")
		}
		return invalid("name", "is required when cert_id is set (identity check needs both)")
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
// declaration answers RawResponse.
type Declaration struct {
	OutOrderNo       string
	PaymentNo        string
	Customs          CustomsCode
	WechatpayNo      string // WeChat Pay's payment number
	State            DeclarationState
	ModifyTime       time.Time // UTC+8
	VerDept          VerifyDepartment
	PayTransactionID string
	SubOrderNo       string
	SubOrderAmount   string
	TransportAmount  string
	ProductAmount    string
	CertCheckResult  CertCheckResult
	Explanation      string // why a re-declaration failed
	// RawResponse is the customs' own answer, decoded from the JSON text
	// HipoPay sends in raw_response; nil when absent or when it is not
	// JSON at all (RawResponseText still has it).
	RawResponse *DeclarationRawResponse
	// RawResponseText is raw_response as received.
	RawResponseText string
}

// DeclarationRawResponse is the customs' original answer to a declaration.
type DeclarationRawResponse struct {
	ModifyTime              time.Time // "20060102150405" in UTC+8
	State                   DeclarationState
	CertCheckResult         CertCheckResult
	TransactionID           string // WeChat Pay's payment number
	ReturnCode              string
	ReturnMsg               string
	Sign                    string
	SubOrderID              string
	MchID                   string
	OutTradeNo              string // HipoPay's payment number
	ErrCodeDes              string // "OK" on success
	AppID                   string
	SubOrderNo              string
	VerifyDepartmentTradeID string
	VerifyDepartment        VerifyDepartment
	ResultCode              string // SUCCESS or FAIL
	ErrCode                 string
	// JSON is the raw_response document as received.
	JSON json.RawMessage
}

type declarationWire struct {
	OutOrderNo       flexString      `json:"out_order_no"`
	PaymentNo        flexString      `json:"payment_no"`
	Customs          flexString      `json:"customs"`
	WechatpayNo      flexString      `json:"wechatpay_no"`
	State            flexString      `json:"state"`
	ModifyTime       flexTime        `json:"modify_time"`
	VerDept          flexString      `json:"ver_dept"`
	PayTransactionID flexString      `json:"pay_transaction_id"`
	SubOrderNo       flexString      `json:"sub_order_no"`
	SubOrderAmount   flexString      `json:"sub_order_amount"`
	TransportAmount  flexString      `json:"transport_amount"`
	ProductAmount    flexString      `json:"product_amount"`
	CertCheckResult  flexString      `json:"cert_check_result"`
	Explanation      flexString      `json:"explanation"`
	RawResponse      json.RawMessage `json:"raw_response"`
}

type rawResponseWire struct {
	ModifyTime              flexTime   `json:"modify_time"`
	State                   flexString `json:"state"`
	CertCheckResult         flexString `json:"cert_check_result"`
	TransactionID           flexString `json:"transaction_id"`
	ReturnCode              flexString `json:"return_code"`
	ReturnMsg               flexString `json:"return_msg"`
	Sign                    flexString `json:"sign"`
	SubOrderID              flexString `json:"sub_order_id"`
	MchID                   flexString `json:"mch_id"`
	OutTradeNo              flexString `json:"out_trade_no"`
	ErrCodeDes              flexString `json:"err_code_des"`
	AppID                   flexString `json:"appid"`
	SubOrderNo              flexString `json:"sub_order_no"`
	VerifyDepartmentTradeID flexString `json:"verify_department_trade_id"`
	VerifyDepartment        flexString `json:"verify_department"`
	ResultCode              flexString `json:"result_code"`
	ErrCode                 flexString `json:"err_code"`
}

func (w *declarationWire) declaration() *Declaration {
	d := &Declaration{
		OutOrderNo:       string(w.OutOrderNo),
		PaymentNo:        string(w.PaymentNo),
		Customs:          CustomsCode(w.Customs),
		WechatpayNo:      string(w.WechatpayNo),
		State:            DeclarationState(w.State),
		ModifyTime:       time.Time(w.ModifyTime),
		VerDept:          VerifyDepartment(w.VerDept),
		PayTransactionID: string(w.PayTransactionID),
		SubOrderNo:       string(w.SubOrderNo),
		SubOrderAmount:   string(w.SubOrderAmount),
		TransportAmount:  string(w.TransportAmount),
		ProductAmount:    string(w.ProductAmount),
		CertCheckResult:  CertCheckResult(w.CertCheckResult),
		Explanation:      string(w.Explanation),
	}
	// HipoPay accepted the call: a raw_response that does not decode is
	// no reason to lose the answer.
	d.RawResponseText, d.RawResponse = decodeRawResponse(w.RawResponse)
	return d
}

// decodeRawResponse decodes raw_response: a JSON document inside a JSON
// string, or (leniently) the document itself. It returns the text as
// received and the decoded document, nil when there is none or it does not
// decode.
func decodeRawResponse(b json.RawMessage) (string, *DeclarationRawResponse) {
	doc := []byte(b)
	if len(doc) > 0 && doc[0] == '"' {
		var s string
		if err := json.Unmarshal(doc, &s); err != nil {
			return "", nil
		}
		doc = []byte(strings.TrimSpace(s))
	}
	text := string(doc)
	if len(doc) == 0 || text == "null" {
		return "", nil
	}
	var w rawResponseWire
	if err := unmarshalLenient(doc, &w); err != nil {
		return text, nil
	}
	if !json.Valid(doc) {
		// Python-flavoured text, decoded leniently: keep the JSON it was
		// read as, since a json.RawMessage must hold valid JSON.
		doc, _ = depythonize(doc)
	}
	return text, &DeclarationRawResponse{
		ModifyTime:              time.Time(w.ModifyTime),
		State:                   DeclarationState(w.State),
		CertCheckResult:         CertCheckResult(w.CertCheckResult),
		TransactionID:           string(w.TransactionID),
		ReturnCode:              string(w.ReturnCode),
		ReturnMsg:               string(w.ReturnMsg),
		Sign:                    string(w.Sign),
		SubOrderID:              string(w.SubOrderID),
		MchID:                   string(w.MchID),
		OutTradeNo:              string(w.OutTradeNo),
		ErrCodeDes:              string(w.ErrCodeDes),
		AppID:                   string(w.AppID),
		SubOrderNo:              string(w.SubOrderNo),
		VerifyDepartmentTradeID: string(w.VerifyDepartmentTradeID),
		VerifyDepartment:        VerifyDepartment(w.VerifyDepartment),
		ResultCode:              string(w.ResultCode),
		ErrCode:                 string(w.ErrCode),
		JSON:                    json.RawMessage(doc),
	}
}

// declarationCall sends a declaration call and decodes its answer.
func (c *Client) declarationCall(ctx context.Context, cl call) (*Declaration, error) {
	var w declarationWire
	if _, err := c.do(ctx, cl, &w); err != nil {
		return nil, err
	}
	return w.declaration(), nil
}

// Declare declares a sub-order of a paid payment to a customs office. For
// GUANGZHOU_HP_GJ and GUANGZHOU_NS_GJ declare to GUANGZHOU_ZS as well (see
// CustomsCode.UnifiedDeclaration).
//
// HipoPay endpoint: POST wechatpay/declaration.
//
// Invalid input (a missing field, a sub_order_amount that is not
// transport_amount + product_amount, cert_id without name) is a
// *ValidationError before any network call. The call is never re-sent once
// it may have reached HipoPay; query it with GetDeclaration instead.
// HipoPay's refusals are *APIError.
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
// *ValidationError before any network call. Never re-sent once it may have
// reached HipoPay. HipoPay's refusals are *APIError.
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
// A query without an identifier or customs is a *ValidationError. Retried
// on network errors, 429 and 5xx. HipoPay's refusals are *APIError.
func (c *Client) GetDeclaration(ctx context.Context, q DeclarationQuery) (*Declaration, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	return c.declarationCall(ctx, call{method: http.MethodGet, path: "wechatpay/declaration", params: encodeParams(q)})
}
