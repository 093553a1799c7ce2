// The "_mock/" endpoints: the fake's own controls, for driving it by hand
// over HTTP (the hipopay CLI's mock and pay commands). They are NOT part of
// HipoPay's API: unsigned, served beside it under the same base URL, and
// guarded against requests a web page elsewhere could make.

package hipopaytest

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	hipopay "github.com/hipopay-go/hipopay"
)

// mockEndpoints serves the fake's test-only endpoints under "_mock/",
// which HipoPay does not have. ServeHTTP routes every request whose path
// starts with "_mock/" here, through [localOnly]; everything else is the
// HipoPay API. Endpoints, relative to the base URL:
//
//   - POST _mock/pay?payment_no=N: Server.Pay; answers the payment as
//     GET payment does.
//   - POST _mock/fail?payment_no=N: Server.FailPayment.
//   - GET _mock/deliveries?payment_no=N: the notification's deliveries.
//   - GET _mock/hipopay_public.pem: the key notifications are signed with.
//   - the dashboard's (dashboard.go): GET _mock/dashboard (and its assets
//     under _mock/dashboard/), GET _mock/state, GET _mock/events,
//     GET _mock/bill?date=YYYYMMDD, POST _mock/expire?payment_no=N,
//     POST _mock/redeliver?payment_no=N.
//
// A new endpoint is one more entry in routes; one that changes state must
// be a POST (localOnly checks the origin of every method but GET, HEAD and
// OPTIONS).
type mockEndpoints struct {
	s      *Server
	routes map[string]func(w http.ResponseWriter, r *http.Request, params url.Values) // by "METHOD name"
}

// newMockHandler returns the _mock/ endpoints of s behind their guard.
func newMockHandler(s *Server) http.Handler {
	m := &mockEndpoints{s: s}
	m.routes = map[string]func(http.ResponseWriter, *http.Request, url.Values){
		"POST pay":               m.pay,
		"POST fail":              m.fail,
		"GET deliveries":         m.deliveries,
		"GET hipopay_public.pem": m.hipopayPublicKey,
		"POST expire": func(w http.ResponseWriter, _ *http.Request, p url.Values) {
			s.serveMockAction(w, s.ExpirePayment, p.Get("payment_no"))
		},
		"POST redeliver": func(w http.ResponseWriter, _ *http.Request, p url.Values) {
			s.serveMockAction(w, s.Redeliver, p.Get("payment_no"))
		},
		"GET state":  func(w http.ResponseWriter, _ *http.Request, _ url.Values) { s.serveState(w) },
		"GET events": func(w http.ResponseWriter, r *http.Request, _ url.Values) { s.serveEvents(w, r) },
		"GET bill":   func(w http.ResponseWriter, _ *http.Request, p url.Values) { s.serveBill(w, p) },
	}
	return localOnly(func() net.Addr { return s.ts.Listener.Addr() }, m)
}

func (m *mockEndpoints) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"), "_mock/")
	if isDashboardFile(name) {
		m.s.serveDashboardFile(w, r, name)
		return
	}
	serve := m.routes[r.Method+" "+name]
	if serve == nil {
		writeAnswer(w, jsonAnswer(http.StatusNotFound, envelope{Error: "NOT_FOUND", ErrorMessage: "no such mock endpoint: " + r.Method + " _mock/" + name}))
		return
	}
	params, a := readParams(r)
	if a != nil {
		writeAnswer(w, *a)
		return
	}
	if r.Method != http.MethodGet {
		// Accept the parameters in the query of a POST too.
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil {
			for k, vs := range q {
				if !params.Has(k) {
					params[k] = vs
				}
			}
		}
	}
	serve(w, r, params)
}

func (m *mockEndpoints) pay(w http.ResponseWriter, _ *http.Request, p url.Values) {
	m.settle(w, p.Get("payment_no"), m.s.Pay)
}

func (m *mockEndpoints) fail(w http.ResponseWriter, _ *http.Request, p url.Values) {
	m.settle(w, p.Get("payment_no"), m.s.FailPayment)
}

// settle runs Pay or FailPayment and answers the payment as GET payment
// does, or the failure in HipoPay's error shape.
func (m *mockEndpoints) settle(w http.ResponseWriter, paymentNo string, act func(string) error) {
	if err := act(paymentNo); err != nil {
		code := CodeInvalidParameter
		if errors.Is(err, hipopay.ErrPaymentNotFound) {
			code = CodePaymentNotFound
		}
		writeAnswer(w, failure(code, err.Error()))
		return
	}
	m.s.mu.Lock()
	a := success(m.s.payments[paymentNo].json(false))
	m.s.mu.Unlock()
	writeAnswer(w, a)
}

// deliveryJSON is a notification delivery as _mock/deliveries lists it.
type deliveryJSON struct {
	Attempt      int    `json:"attempt"`
	Time         string `json:"time"`
	Timestamp    string `json:"timestamp"`
	StatusCode   int    `json:"status_code"`
	Body         string `json:"body"`
	Error        string `json:"error,omitempty"`
	Acknowledged bool   `json:"acknowledged"`
}

func (m *mockEndpoints) deliveries(w http.ResponseWriter, _ *http.Request, p url.Values) {
	out := []deliveryJSON{}
	for _, d := range m.s.Deliveries(p.Get("payment_no")) {
		j := deliveryJSON{Attempt: d.Attempt, Time: formatTime(d.Time), Timestamp: d.Timestamp,
			StatusCode: d.StatusCode, Body: d.Body, Acknowledged: d.Acknowledged}
		if d.Err != nil {
			j.Error = d.Err.Error()
		}
		out = append(out, j)
	}
	writeAnswer(w, success(out))
}

func (m *mockEndpoints) hipopayPublicKey(w http.ResponseWriter, _ *http.Request, _ url.Values) {
	der, err := x509.MarshalPKIXPublicKey(m.s.PublicKey())
	if err != nil {
		writeAnswer(w, failure("SYSTEM_ERROR", "encoding the key failed"))
		return
	}
	writeAnswer(w, answer{status: http.StatusOK, contentType: "application/x-pem-file",
		body: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})})
}

// localOnly lets through only the requests that come from this machine's
// own tools, not from a web page the developer happens to visit: the
// _mock/ endpoints are unsigned, so a page could otherwise POST a plain
// form to http://127.0.0.1:8080/_mock/pay and pay an order (which then
// sends a signed notification). It answers 403 with a plain reason when
//
//   - the Host header is not the address the server listens on, nor
//     localhost, 127.0.0.1 or [::1] with its port (a DNS-rebinding page
//     sends its own name); when the server listens on every interface, any
//     IP address with its port is accepted (a rebinding needs a name);
//   - a request other than GET, HEAD or OPTIONS carries an Origin that is
//     not the server's own (scheme and Host), or a Sec-Fetch-Site other
//     than same-origin or none (cross-site, same-site).
//
// Command-line tools and Go clients send no Origin and no Sec-Fetch-Site,
// and the Host of the URL they were given: they pass, as does an
// in-process Server's own URL (127.0.0.1:port).
func localOnly(listenAddr func() net.Addr, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason := refusal(r, listenAddr()); reason != "" {
			http.Error(w, "hipopaytest: "+reason, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refusal is why localOnly refuses r, or "" when it does not.
func refusal(r *http.Request, listen net.Addr) string {
	if !allowedHost(r.Host, r.TLS != nil, listen) {
		return fmt.Sprintf("Host %q is not this mock's address (%s) nor localhost with its port: refused, as a DNS-rebinding page would send it", r.Host, listen)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	own := scheme + "://" + r.Host
	if origins := r.Header.Values("Origin"); len(origins) > 1 || (len(origins) == 1 && !strings.EqualFold(origins[0], own)) {
		return fmt.Sprintf("cross-origin request refused: Origin %q is not this mock's %q", strings.Join(origins, ", "), own)
	}
	switch site := strings.ToLower(strings.TrimSpace(r.Header.Get("Sec-Fetch-Site"))); site {
	case "", "same-origin", "none":
	default:
		return fmt.Sprintf("cross-site request refused: Sec-Fetch-Site is %q", site)
	}
	return ""
}

// allowedHost reports whether a request's Host names the listening
// address: its IP (any IP when listening on every interface), localhost,
// 127.0.0.1 or ::1, with its port (80 or 443 when the Host has none).
func allowedHost(host string, tls bool, listen net.Addr) bool {
	tcp, ok := listen.(*net.TCPAddr)
	if !ok {
		return host != "" && host == listen.String()
	}
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name, port = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "80"
		if tls {
			port = "443"
		}
	}
	if port != strconv.Itoa(tcp.Port) {
		return false
	}
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip := net.ParseIP(name)
	switch {
	case ip == nil:
		return false
	case ip.Equal(net.IPv4(127, 0, 0, 1)), ip.Equal(net.IPv6loopback):
		return true
	case tcp.IP.IsUnspecified():
		return true
	}
	return ip.Equal(tcp.IP)
}
