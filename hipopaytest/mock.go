// The "_mock/" endpoints: driving the fake by hand over HTTP (the hipopay
// CLI's mock and pay commands). They are unsigned and not part of
// HipoPay's API.

package hipopaytest

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"

	hipopay "github.com/hipopay-go/hipopay"
)

// serveMock serves, relative to the base URL:
//
//   - POST _mock/pay?payment_no=N: Server.Pay; answers the payment as
//     GET payment does.
//   - POST _mock/fail?payment_no=N: Server.FailPayment.
//   - GET _mock/deliveries?payment_no=N: the notification's deliveries.
//   - GET _mock/hipopay_public.pem: the key notifications are signed with.
//   - the dashboard's (dashboard.go): GET _mock/dashboard, GET _mock/state,
//     GET _mock/events, GET _mock/bill?date=YYYYMMDD, POST
//     _mock/expire?payment_no=N, POST _mock/redeliver?payment_no=N.
func (s *Server) serveMock(w http.ResponseWriter, r *http.Request, path string) {
	params, a := readParams(r)
	if a != nil {
		writeAnswer(w, *a)
		return
	}
	if r.Method != http.MethodGet {
		// Accept payment_no in the query of a POST too.
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil {
			for k, vs := range q {
				if !params.Has(k) {
					params[k] = vs
				}
			}
		}
	}
	paymentNo := params.Get("payment_no")
	switch {
	case path == "pay" && r.Method == http.MethodPost, path == "fail" && r.Method == http.MethodPost:
		act := s.Pay
		if path == "fail" {
			act = s.FailPayment
		}
		if err := act(paymentNo); err != nil {
			code := CodeInvalidParameter
			if errors.Is(err, hipopay.ErrPaymentNotFound) {
				code = CodePaymentNotFound
			}
			writeAnswer(w, failure(code, err.Error()))
			return
		}
		s.mu.Lock()
		a := success(s.payments[paymentNo].json(false))
		s.mu.Unlock()
		writeAnswer(w, a)
	case path == "deliveries" && r.Method == http.MethodGet:
		type deliveryJSON struct {
			Attempt      int    `json:"attempt"`
			Time         string `json:"time"`
			Timestamp    string `json:"timestamp"`
			StatusCode   int    `json:"status_code"`
			Body         string `json:"body"`
			Error        string `json:"error,omitempty"`
			Acknowledged bool   `json:"acknowledged"`
		}
		out := []deliveryJSON{}
		for _, d := range s.Deliveries(paymentNo) {
			j := deliveryJSON{Attempt: d.Attempt, Time: formatTime(d.Time), Timestamp: d.Timestamp,
				StatusCode: d.StatusCode, Body: d.Body, Acknowledged: d.Acknowledged}
			if d.Err != nil {
				j.Error = d.Err.Error()
			}
			out = append(out, j)
		}
		writeAnswer(w, success(out))
	case path == "hipopay_public.pem" && r.Method == http.MethodGet:
		der, err := x509.MarshalPKIXPublicKey(s.PublicKey())
		if err != nil {
			writeAnswer(w, failure("SYSTEM_ERROR", "encoding the key failed"))
			return
		}
		writeAnswer(w, answer{status: http.StatusOK, contentType: "application/x-pem-file",
			body: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})})
	case path == "expire" && r.Method == http.MethodPost:
		s.serveMockAction(w, s.ExpirePayment, paymentNo)
	case path == "redeliver" && r.Method == http.MethodPost:
		s.serveMockAction(w, s.Redeliver, paymentNo)
	case path == "state" && r.Method == http.MethodGet:
		s.serveState(w)
	case path == "events" && r.Method == http.MethodGet:
		s.serveEvents(w, r)
	case path == "bill" && r.Method == http.MethodGet:
		s.serveBill(w, params)
	case isDashboardFile(path):
		s.serveDashboardFile(w, r, path)
	default:
		writeAnswer(w, jsonAnswer(http.StatusNotFound, envelope{Error: "NOT_FOUND", ErrorMessage: "no such mock endpoint: " + r.Method + " _mock/" + path}))
	}
}
