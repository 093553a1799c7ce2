// Routing and answers of the fake HipoPay: the endpoints, the parameters
// each documents, and the answers in HipoPay's JSON envelope.

package hipopaytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	hipopay "github.com/hipopay-go/hipopay"
)

// route is one endpoint of the API.
type route struct {
	version string   // the Version header it requires
	params  []string // the parameters it documents: any other is INVALID_PARAMETER
	serve   func(s *Server, m *merchant, p url.Values) answer
}

// The parameters each endpoint documents in HipoPay's reference (the
// place-order endpoints: methods.go; Alipay's: alipay.go).
var (
	getPaymentParams   = []string{"payment_no", "out_trade_id"}
	forexRateParams    = []string{"currency"}
	refundParams       = []string{"payment_no", "out_refund_id", "refund_amount"}
	getRefundParams    = []string{"refund_no", "out_refund_id"}
	downloadBillParams = []string{"merchant_no", "start_date", "end_date"}
	declareParams      = []string{"out_order_no", "payment_no", "customs", "mch_customs_no", "duty", "action_type",
		"sub_order_no", "sub_order_amount", "transport_amount", "product_amount", "cert_id", "name"}
	redeclareParams      = []string{"payment_no", "out_order_no", "sub_order_no", "customs", "mch_customs_no"}
	getDeclarationParams = []string{"payment_no", "out_order_no", "sub_order_no", "customs"}
)

// lookupRoute returns the endpoint of method and path; known reports
// whether path is an endpoint at all (for 405 rather than 404).
func lookupRoute(method, path string) (rt route, ok, known bool) {
	if fm, isOrder := lookupMethod(path); isOrder {
		return fm.route(), method == http.MethodPost, true
	}
	if rt, ok, known := lookupAlipayRoute(method, path); known {
		return rt, ok, known
	}
	switch path {
	case "payment":
		if method == http.MethodGet {
			return route{"1.0", getPaymentParams, (*Server).getPayment}, true, true
		}
	case "wechatpay/forex_rate":
		if method == http.MethodGet {
			return route{"1.0", forexRateParams, (*Server).forexRate}, true, true
		}
	case "payment_refund":
		switch method {
		case http.MethodPost:
			return route{"1.0", refundParams, (*Server).refund}, true, true
		case http.MethodGet:
			return route{"1.0", getRefundParams, (*Server).getRefund}, true, true
		}
	case "download_bill":
		if method == http.MethodGet {
			return route{"3.0", downloadBillParams, (*Server).downloadBill}, true, true
		}
	case "wechatpay/declaration":
		switch method {
		case http.MethodPost:
			return route{"1.0", declareParams, (*Server).declare}, true, true
		case http.MethodGet:
			return route{"1.0", getDeclarationParams, (*Server).getDeclaration}, true, true
		}
	case "wechatpay/redeclaration":
		if method == http.MethodPost {
			return route{"1.0", redeclareParams, (*Server).redeclare}, true, true
		}
	default:
		return route{}, false, false
	}
	return route{}, false, true
}

// undocumented answers INVALID_PARAMETER when p holds a parameter the
// route does not document; nil otherwise.
func (rt route) undocumented(method, path string, p url.Values) *answer {
	var extra []string
	for name := range p {
		if !slices.Contains(rt.params, name) {
			extra = append(extra, name)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	a := invalidParam("%s %s does not take %s (its parameters: %s)", method, path, strings.Join(extra, ", "), strings.Join(rt.params, ", "))
	return &a
}

// answer is what an endpoint answers.
type answer struct {
	status      int
	contentType string
	body        []byte
}

// jsonAnswer answers env, HipoPay's JSON answer, with the HTTP status.
func jsonAnswer(status int, env hipopay.Envelope) answer {
	b, err := json.Marshal(env)
	if err != nil {
		// Only a response that marshalled already: cannot happen.
		b = []byte(`{"is_success": false, "error": "SYSTEM_ERROR", "error_message": "encoding the answer failed"}`)
		status = http.StatusInternalServerError
	}
	return answer{status: status, contentType: "application/json; charset=utf-8", body: b}
}

// success answers {"is_success": true, "response": v}.
func success(v any) answer { return successWith(hipopay.Envelope{}, v) }

// successWith answers env (its top-level fields) with is_success true and
// v as its response, HTTP 200.
func successWith(env hipopay.Envelope, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the server's own answer types are marshalled: cannot happen.
		return jsonAnswer(http.StatusInternalServerError, hipopay.Envelope{Error: "SYSTEM_ERROR", ErrorMessage: "encoding the answer failed"})
	}
	env.IsSuccess, env.Response = true, b
	return jsonAnswer(http.StatusOK, env)
}

// failure answers {"is_success": false, "error": code, "error_message": msg}
// with HTTP 200, as HipoPay answers its business errors.
func failure(code, msg string) answer {
	return jsonAnswer(http.StatusOK, hipopay.Envelope{Error: code, ErrorMessage: msg})
}

func illegal(reason string) answer {
	return failure(CodeIllegalSecurityProfile, "This encryption method is not supported ("+reason+")")
}

func invalidParam(format string, args ...any) answer {
	return failure(CodeInvalidParameter, fmt.Sprintf(format, args...))
}

func writeAnswer(w http.ResponseWriter, a answer) {
	if a.contentType != "" {
		w.Header().Set("Content-Type", a.contentType)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// dropConnection closes the connection without answering.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: abort the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
