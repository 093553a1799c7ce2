// Customs declarations of the fake HipoPay: declaring (POST
// wechatpay/declaration), re-declaring (POST wechatpay/redeclaration) and
// querying (GET wechatpay/declaration), with states that move on.

package hipopaytest

import (
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
	alipay          bool // declared through alipay/declaration
	outOrderNo      string
	subOrderNo      string
	customs         hipopay.CustomsCode
	mchCustomsNo    string
	customsName     string // merchant_customs_name (Alipay)
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

func (d *declaration) certResult() hipopay.CertCheckResult {
	if d.certChecked {
		return hipopay.CertCheckSame
	}
	return hipopay.CertCheckUnchecked
}

// json is the full answer of a declaration or a query; redeclaration
// answers trim it (see redeclare). An Alipay declaration's answer is the
// fake's assumption (no source shows it): the WeChat answer's fields
// without wechatpay_no, ver_dept, pay_transaction_id and raw_response.
func (d *declaration) json() *hipopay.Declaration {
	o := d.order
	if d.alipay {
		return &hipopay.Declaration{
			OutOrderNo: d.outOrderNo, PaymentNo: o.paymentNo, Customs: d.customs, State: d.state(), ModifyTime: d.modifyTime,
			SubOrderNo: d.subOrderNo, SubOrderAmount: d.subOrderAmount, CertCheckResult: d.certResult(), Explanation: d.explanation,
		}
	}
	raw := hipopay.DeclarationRawResponse{
		ModifyTime:              d.modifyTime,
		State:                   d.state(),
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
		VerifyDepartment:        hipopay.VerifyDepartmentNetsUnion,
		ResultCode:              "SUCCESS",
		ErrCode:                 "0",
	}
	if s := d.state(); s == hipopay.DeclarationStateFail || s == hipopay.DeclarationStateExcept {
		raw.ResultCode, raw.ErrCode, raw.ErrCodeDes = "FAIL", "1", d.explanation
	}
	return &hipopay.Declaration{
		OutOrderNo:       d.outOrderNo,
		PaymentNo:        o.paymentNo,
		Customs:          d.customs,
		WechatpayNo:      o.transactionID,
		State:            d.state(),
		ModifyTime:       d.modifyTime,
		VerDept:          hipopay.VerifyDepartmentNetsUnion,
		PayTransactionID: o.transactionID,
		SubOrderNo:       d.subOrderNo,
		SubOrderAmount:   d.subOrderAmount,
		TransportAmount:  d.transportAmount,
		ProductAmount:    d.productAmount,
		CertCheckResult:  d.certResult(),
		Explanation:      d.explanation,
		RawResponse:      &raw,
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
	if o.method.alipay {
		return invalidParam("payment %s is an Alipay payment: declare it with alipay/declaration", o.paymentNo)
	}

	now := s.now()
	existing := s.findDeclarationLocked(m, false, o.paymentNo, "", p.Get("sub_order_no"), customs)
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

// findDeclarationLocked finds the merchant's latest declaration, an
// Alipay one when alipay is set, else a WeChat Pay one, by the identifiers
// given (empty ones, customs included, are not compared).
func (s *Server) findDeclarationLocked(m *merchant, alipay bool, paymentNo, outOrderNo, subOrderNo string, customs hipopay.CustomsCode) *declaration {
	for i := len(m.declarations) - 1; i >= 0; i-- {
		d := m.declarations[i]
		if d.alipay == alipay && (customs == "" || d.customs == customs) &&
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
	d := s.findDeclarationLocked(m, false, p.Get("payment_no"), p.Get("out_order_no"), p.Get("sub_order_no"), hipopay.CustomsCode(p.Get("customs")))
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
	d := s.findDeclarationLocked(m, false, p.Get("payment_no"), p.Get("out_order_no"), p.Get("sub_order_no"), hipopay.CustomsCode(p.Get("customs")))
	if d == nil {
		return failure(CodeDeclarationNotFound, "nothing declared to re-declare")
	}
	d.mchCustomsNo = p.Get("mch_customs_no")
	d.states = append([]hipopay.DeclarationState(nil), s.cfg.declarationStates...)
	d.modifyTime = s.now()
	d.explain()
	full := d.json()
	return success(&hipopay.Declaration{
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
