// Alipay's own endpoints at the fake HipoPay: the reference exchange rate
// (GET alipay/forex_rate) and customs declarations of Alipay payments
// (POST alipay/declaration, POST alipay/redeclaration, GET
// alipay/declaration). Their parameters are those HipoPay's official SDKs
// send; their answers are the fake's assumption (the WeChat endpoints'
// shapes), not HipoPay's contract.

package hipopaytest

import (
	"net/http"
	"net/url"
	"strings"

	hipopay "github.com/hipopay-go/hipopay"
)

// The parameters of Alipay's endpoints, as HipoPay's official SDKs send them.
var (
	alipayDeclareParams = []string{"out_order_no", "payment_no", "customs", "mch_customs_no", "merchant_customs_name",
		"sub_order_no", "sub_order_amount", "cert_id", "name"}
	alipayRedeclareParams = []string{"payment_no", "out_order_no", "sub_order_no", "customs", "mch_customs_no", "merchant_customs_name"}
	alipayQueryParams     = []string{"payment_no", "out_order_no", "sub_order_no"}
)

// lookupAlipayRoute is lookupRoute for Alipay's endpoints; known is false
// for any other path.
func lookupAlipayRoute(method, path string) (rt route, ok, known bool) {
	switch path {
	case "alipay/forex_rate":
		if method == http.MethodGet {
			return route{"1.0", forexRateParams, (*Server).forexRate}, true, true
		}
	case "alipay/declaration":
		switch method {
		case http.MethodPost:
			return route{"1.0", alipayDeclareParams, (*Server).declareAlipay}, true, true
		case http.MethodGet:
			return route{"1.0", alipayQueryParams, (*Server).getAlipayDeclaration}, true, true
		}
	case "alipay/redeclaration":
		if method == http.MethodPost {
			return route{"1.0", alipayRedeclareParams, (*Server).redeclareAlipay}, true, true
		}
	default:
		return route{}, false, false
	}
	return route{}, false, true
}

// customsShaped reports whether c looks like a customs code (upper-case
// letters, digits, '_'): Alipay's offices are not the reference's list.
func customsShaped(c string) bool {
	return c != "" && strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == ""
}

// declareAlipay serves POST alipay/declaration: the payment must be the
// merchant's, an Alipay one and PAID; cert_id and name come together. A
// sub-order already declared at that customs is answered as it is.
func (s *Server) declareAlipay(m *merchant, p url.Values) answer {
	for _, name := range []string{"out_order_no", "payment_no", "customs", "mch_customs_no", "merchant_customs_name", "sub_order_no", "sub_order_amount"} {
		if strings.TrimSpace(p.Get(name)) == "" {
			return invalidParam("%s is required", name)
		}
	}
	customs := hipopay.CustomsCode(p.Get("customs"))
	if !customsShaped(string(customs)) {
		return invalidParam("customs %q is not a customs code", string(customs))
	}
	if (p.Get("cert_id") == "") != (p.Get("name") == "") {
		return invalidParam("cert_id and name go together") // never their values
	}
	if n, err := hipopay.ParseAmount(p.Get("sub_order_amount"), hipopay.CNY); err != nil || n <= 0 {
		return invalidParam("sub_order_amount is not a positive amount")
	}
	o := s.findPaymentLocked(m, p.Get("payment_no"), "")
	if o == nil {
		return failure(CodePaymentNotFound, "Order not found")
	}
	if o.status != hipopay.PaymentStatusPaid {
		return failure(CodePaymentNotPaid, "payment "+o.paymentNo+" is "+string(o.status)+", not PAID: only paid payments are declared")
	}
	if !o.method.alipay {
		return invalidParam("payment %s is a WeChat Pay payment: declare it with wechatpay/declaration", o.paymentNo)
	}
	if d := s.findDeclarationLocked(m, true, o.paymentNo, "", p.Get("sub_order_no"), customs); d != nil {
		return success(d.json())
	}
	d := &declaration{
		order:          o,
		alipay:         true,
		outOrderNo:     p.Get("out_order_no"),
		subOrderNo:     p.Get("sub_order_no"),
		customs:        customs,
		mchCustomsNo:   p.Get("mch_customs_no"),
		customsName:    p.Get("merchant_customs_name"),
		subOrderAmount: p.Get("sub_order_amount"),
		certChecked:    p.Get("cert_id") != "",
		states:         append([]hipopay.DeclarationState(nil), s.cfg.declarationStates...),
		modifyTime:     s.now(),
	}
	d.explain()
	m.declarations = append(m.declarations, d)
	return success(d.json())
}

// getAlipayDeclaration serves GET alipay/declaration: exactly one of
// payment_no, out_order_no, sub_order_no; the declaration moves one state
// on (WithDeclarationStates), then is answered.
func (s *Server) getAlipayDeclaration(m *merchant, p url.Values) answer {
	if len(p) != 1 || strings.TrimSpace(p.Get(firstKey(p))) == "" {
		return invalidParam("exactly one of payment_no, out_order_no or sub_order_no is required")
	}
	d := s.findDeclarationLocked(m, true, p.Get("payment_no"), p.Get("out_order_no"), p.Get("sub_order_no"), "")
	if d == nil {
		return failure(CodeDeclarationNotFound, "declaration not found")
	}
	d.advance(s.now())
	return success(d.json())
}

func firstKey(p url.Values) string {
	for k := range p {
		return k
	}
	return ""
}

// redeclareAlipay serves POST alipay/redeclaration: the declaration is
// submitted again (its state sequence starts over; the registration
// number and name may change).
func (s *Server) redeclareAlipay(m *merchant, p url.Values) answer {
	if !identified(p) || p.Get("customs") == "" || p.Get("mch_customs_no") == "" || p.Get("merchant_customs_name") == "" {
		return invalidParam("customs, mch_customs_no, merchant_customs_name and one of payment_no, out_order_no or sub_order_no are required")
	}
	d := s.findDeclarationLocked(m, true, p.Get("payment_no"), p.Get("out_order_no"), p.Get("sub_order_no"), hipopay.CustomsCode(p.Get("customs")))
	if d == nil {
		return failure(CodeDeclarationNotFound, "nothing declared to re-declare")
	}
	d.mchCustomsNo, d.customsName = p.Get("mch_customs_no"), p.Get("merchant_customs_name")
	d.states = append([]hipopay.DeclarationState(nil), s.cfg.declarationStates...)
	d.modifyTime = s.now()
	d.explain()
	return success(d.json())
}
