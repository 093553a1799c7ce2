// Customs declarations of the fake HipoPay: declaring (POST
// wechatpay/declaration), re-declaring (POST wechatpay/redeclaration) and
// querying (GET wechatpay/declaration), with states that move on.

package hipopaytest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// declaration is one declared sub-order at one customs office. The buyer's
// cert_id and name are not kept: only whether they were sent.
type declaration struct {
	order           *order
	outOrderNo      string
	subOrderNo      string
	customs         hipopay.CustomsCode
	mchCustomsNo    string
	duty            string
	subOrderAmount  string
	transportAmount string
	productAmount   string
	certChecked     bool
	states          []hipopay.DeclarationState // still to come; states[0] is the current one
	modifyTime      time.Time
	subOrderID      string
	verifyTradeID   string
	sign            string
	explanation     string
}

func (d *declaration) state() hipopay.DeclarationState { return d.states[0] }

// advance moves the declaration one state on, if any is left.
func (d *declaration) advance(now time.Time) {
	if len(d.states) > 1 {
		d.states = d.states[1:]
		d.modifyTime = now
		d.explain()
	}
}

func (d *declaration) explain() {
	switch d.state() {
	case hipopay.DeclarationStateFail:
		d.explanation = "declaration refused by the customs (fake HipoPay)"
	case hipopay.DeclarationStateExcept:
		d.explanation = "customs interface exception (fake HipoPay)"
	default:
		d.explanation = ""
	}
}

type declarationJSON struct {
	OutOrderNo       string `json:"out_order_no"`
	PaymentNo        string `json:"payment_no"`
	Customs          string `json:"customs"`
	WechatpayNo      string `json:"wechatpay_no"`
	State            string `json:"state"`
	ModifyTime       string `json:"modify_time"`
	VerDept          string `json:"ver_dept,omitempty"`
	PayTransactionID string `json:"pay_transaction_id,omitempty"`
	SubOrderNo       string `json:"sub_order_no,omitempty"`
	SubOrderAmount   string `json:"sub_order_amount,omitempty"`
	TransportAmount  string `json:"transport_amount,omitempty"`
	ProductAmount    string `json:"product_amount,omitempty"`
	CertCheckResult  string `json:"cert_check_result,omitempty"`
	Explanation      string `json:"explanation,omitempty"`
	RawResponse      string `json:"raw_response,omitempty"`
}

// rawResponseJSON is the customs' own answer, which HipoPay sends as a
// JSON document inside a string.
type rawResponseJSON struct {
	ModifyTime              string `json:"modify_time"`
	State                   string `json:"state"`
	CertCheckResult         string `json:"cert_check_result"`
	TransactionID           string `json:"transaction_id"`
	ReturnCode              string `json:"return_code"`
	ReturnMsg               string `json:"return_msg"`
	Sign                    string `json:"sign"`
	SubOrderID              string `json:"sub_order_id"`
	MchID                   string `json:"mch_id"`
	OutTradeNo              string `json:"out_trade_no"`
	ErrCodeDes              string `json:"err_code_des"`
	AppID                   string `json:"appid"`
	SubOrderNo              string `json:"sub_order_no"`
	VerifyDepartmentTradeID string `json:"verify_department_trade_id"`
	VerifyDepartment        string `json:"verify_department"`
	ResultCode              string `json:"result_code"`
	ErrCode                 string `json:"err_code"`
}

func (d *declaration) certResult() string {
	if d.certChecked {
		return string(hipopay.CertCheckSame)
	}
	return string(hipopay.CertCheckUnchecked)
}

// json is the full answer of a declaration or a query; redeclaration
// answers trim it (see redeclare).
func (d *declaration) json() declarationJSON {
	o := d.order
	raw := rawResponseJSON{
		ModifyTime:              d.modifyTime.In(hipopay.ChinaTimeZone()).Format(compactLayout),
		State:                   string(d.state()),
		CertCheckResult:         d.certResult(),
		TransactionID:           o.transactionID,
		ReturnCode:              "SUCCESS",
		ReturnMsg:               "成功",
		Sign:                    d.sign,
		SubOrderID:              d.subOrderID,
		MchID:                   o.merchant.no,
		OutTradeNo:              o.paymentNo,
		ErrCodeDes:              "OK",
		AppID:                   o.appID,
		SubOrderNo:              d.subOrderNo,
		VerifyDepartmentTradeID: d.verifyTradeID,
		VerifyDepartment:        string(hipopay.VerifyDepartmentNetsUnion),
		ResultCode:              "SUCCESS",
		ErrCode:                 "0",
	}
	if s := d.state(); s == hipopay.DeclarationStateFail || s == hipopay.DeclarationStateExcept {
		raw.ResultCode, raw.ErrCode, raw.ErrCodeDes = "FAIL", "1", d.explanation
	}
	rawDoc, _ := json.Marshal(raw) // plain strings: cannot fail
	return declarationJSON{
		OutOrderNo:       d.outOrderNo,
		PaymentNo:        o.paymentNo,
		Customs:          string(d.customs),
		WechatpayNo:      o.transactionID,
		State:            string(d.state()),
		ModifyTime:       formatTime(d.modifyTime),
		VerDept:          string(hipopay.VerifyDepartmentNetsUnion),
		PayTransactionID: o.transactionID,
		SubOrderNo:       d.subOrderNo,
		SubOrderAmount:   d.subOrderAmount,
		TransportAmount:  d.transportAmount,
		ProductAmount:    d.productAmount,
		CertCheckResult:  d.certResult(),
		Explanation:      d.explanation,
		RawResponse:      string(rawDoc),
	}
}

// declare serves POST wechatpay/declaration: the payment must be the
// merchant's and PAID; sub_order_amount must be transport_amount +
// product_amount; cert_id and name come together. ADD of a sub-order
// already declared at that customs answers it as it is; MODIFY changes a
// declared one and submits it again.
func (s *Server) declare(m *merchant, p url.Values) answer {
	for _, name := range []string{"out_order_no", "payment_no", "customs", "mch_customs_no", "sub_order_no", "sub_order_amount", "transport_amount", "product_amount"} {
		if strings.TrimSpace(p.Get(name)) == "" {
			return invalidParam("%s is required", name)
		}
	}
	customs := hipopay.CustomsCode(p.Get("customs"))
	if !customs.Known() {
		return invalidParam("customs %q is not a documented customs code", string(customs))
	}
	action := p.Get("action_type")
	if action != "" && action != string(hipopay.ActionAdd) && action != string(hipopay.ActionModify) {
		return invalidParam("action_type must be ADD or MODIFY")
	}
	if duty := p.Get("duty"); duty != "" {
		if n, err := strconv.Atoi(duty); err != nil || n < 0 {
			return invalidParam("duty must be a whole number of 0.01 CNY")
		}
	}
	if (p.Get("cert_id") == "") != (p.Get("name") == "") {
		return invalidParam("cert_id and name go together") // never their values
	}
	var amounts [3]int64
	for i, name := range []string{"sub_order_amount", "transport_amount", "product_amount"} {
		n, err := hipopay.ParseAmount(p.Get(name), hipopay.CNY)
		if err != nil || n < 0 {
			return invalidParam("%s is not an amount", name)
		}
		amounts[i] = n
	}
	if amounts[0] <= 0 || amounts[0] != amounts[1]+amounts[2] {
		return invalidParam("sub_order_amount must be transport_amount + product_amount")
	}
	o := s.findPaymentLocked(m, p.Get("payment_no"), "")
	if o == nil {
		return failure(CodePaymentNotFound, "Order not found")
	}
	if o.status != hipopay.PaymentStatusPaid {
		return failure(CodePaymentNotPaid, "payment "+o.paymentNo+" is "+string(o.status)+", not PAID: only paid payments are declared")
	}

	now := s.now()
	existing := s.findDeclarationLocked(m, o.paymentNo, "", p.Get("sub_order_no"), customs)
	switch {
	case existing != nil && action != string(hipopay.ActionModify):
		return success(existing.json())
	case existing == nil && action == string(hipopay.ActionModify):
		return failure(CodeDeclarationNotFound, "nothing declared to modify: declare with ADD first")
	}
	d := existing
	if d == nil {
		d = &declaration{
			order:         o,
			subOrderNo:    p.Get("sub_order_no"),
			customs:       customs,
			subOrderID:    "4200000" + randomDigits(21),
			verifyTradeID: "4200000" + randomDigits(21),
		}
		m.declarations = append(m.declarations, d)
	}
	d.outOrderNo = p.Get("out_order_no")
	d.mchCustomsNo = p.Get("mch_customs_no")
	d.duty = p.Get("duty")
	d.subOrderAmount = p.Get("sub_order_amount")
	d.transportAmount = p.Get("transport_amount")
	d.productAmount = p.Get("product_amount")
	d.certChecked = p.Get("cert_id") != ""
	d.sign = randomHex(32, true)
	d.states = append([]hipopay.DeclarationState(nil), s.cfg.declarationStates...)
	d.modifyTime = now
	d.explain()
	return success(d.json())
}

// findDeclarationLocked finds the merchant's declaration at customs by the
// identifiers given (empty ones are not compared); the latest one wins.
func (s *Server) findDeclarationLocked(m *merchant, paymentNo, outOrderNo, subOrderNo string, customs hipopay.CustomsCode) *declaration {
	for i := len(m.declarations) - 1; i >= 0; i-- {
		d := m.declarations[i]
		if d.customs == customs &&
			(paymentNo == "" || d.order.paymentNo == paymentNo) &&
			(outOrderNo == "" || d.outOrderNo == outOrderNo) &&
			(subOrderNo == "" || d.subOrderNo == subOrderNo) {
			return d
		}
	}
	return nil
}

func identified(p url.Values) bool {
	return p.Get("payment_no") != "" || p.Get("out_order_no") != "" || p.Get("sub_order_no") != ""
}

// getDeclaration serves GET wechatpay/declaration: the declaration moves
// one state on (WithDeclarationStates), then is answered.
func (s *Server) getDeclaration(m *merchant, p url.Values) answer {
	if !identified(p) || p.Get("customs") == "" {
		return invalidParam("customs and one of payment_no, out_order_no or sub_order_no are required")
	}
	d := s.findDeclarationLocked(m, p.Get("payment_no"), p.Get("out_order_no"), p.Get("sub_order_no"), hipopay.CustomsCode(p.Get("customs")))
	if d == nil {
		return failure(CodeDeclarationNotFound, "declaration not found")
	}
	d.advance(s.now())
	return success(d.json())
}

// redeclare serves POST wechatpay/redeclaration: the declaration is
// submitted again (its state sequence starts over, the merchant's customs
// registration number may change). The answer has the documented fields:
// out_order_no, payment_no, customs, wechatpay_no, state, modify_time,
// explanation (and sub_order_no).
func (s *Server) redeclare(m *merchant, p url.Values) answer {
	if !identified(p) || p.Get("customs") == "" || p.Get("mch_customs_no") == "" {
		return invalidParam("customs, mch_customs_no and one of payment_no, out_order_no or sub_order_no are required")
	}
	d := s.findDeclarationLocked(m, p.Get("payment_no"), p.Get("out_order_no"), p.Get("sub_order_no"), hipopay.CustomsCode(p.Get("customs")))
	if d == nil {
		return failure(CodeDeclarationNotFound, "nothing declared to re-declare")
	}
	d.mchCustomsNo = p.Get("mch_customs_no")
	d.states = append([]hipopay.DeclarationState(nil), s.cfg.declarationStates...)
	d.modifyTime = s.now()
	d.explain()
	full := d.json()
	return success(declarationJSON{
		OutOrderNo: full.OutOrderNo, PaymentNo: full.PaymentNo, Customs: full.Customs, WechatpayNo: full.WechatpayNo,
		State: full.State, ModifyTime: full.ModifyTime, SubOrderNo: full.SubOrderNo, Explanation: full.Explanation,
	})
}

// SetDeclarationState forces the state of every declaration of a payment
// at a customs office (FAIL, EXCEPT, SUCCESS...); it stays there until a
// re-declaration. It fails when there is no such declaration.
func (s *Server) SetDeclarationState(paymentNo string, customs hipopay.CustomsCode, state hipopay.DeclarationState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.merchants {
		for _, d := range m.declarations {
			if d.order.paymentNo == paymentNo && d.customs == customs {
				d.states = []hipopay.DeclarationState{state}
				d.modifyTime = s.now()
				d.explain()
				n++
			}
		}
	}
	if n == 0 {
		return fmt.Errorf("hipopaytest: SetDeclarationState: no declaration of payment %s at %s", paymentNo, customs)
	}
	return nil
}
