// The dashboard of the fake HipoPay: a page at _mock/dashboard (embedded
// HTML, CSS and a small script) that shows orders, notification
// deliveries, refunds, customs declarations and the reconciliation file,
// rendered on the server (dashboard_page.go) and kept live by the script,
// which polls GET _mock/state, with buttons that POST to the _mock/
// endpoints. Unsigned, not part of HipoPay's API.

package hipopaytest

import (
	"bytes"
	"embed"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

//go:embed dashboard/index.html dashboard/app.js dashboard/style.css
var dashboardFiles embed.FS

// dashboardCSP lets the page load its own script and style and talk to
// its own origin only, and be framed by no one (its buttons pay orders).
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// eventsPoll is how often GET _mock/events (a stream for tools; the page
// polls GET _mock/state instead) looks for changes that no delivery event
// announced (orders placed, refunds, declarations).
const eventsPoll = 500 * time.Millisecond

// isDashboardFile reports whether a _mock/ path is the page or its assets.
func isDashboardFile(p string) bool { return p == "dashboard" || strings.HasPrefix(p, "dashboard/") }

// serveDashboardFile serves GET _mock/dashboard (the page, rendered) and
// its assets under _mock/dashboard/.
func (s *Server) serveDashboardFile(w http.ResponseWriter, r *http.Request, p string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeAnswer(w, jsonAnswer(http.StatusMethodNotAllowed, hipopay.Envelope{Error: "METHOD_NOT_ALLOWED", ErrorMessage: r.Method + " is not allowed on _mock/" + p}))
		return
	}
	name, types := "", map[string]string{
		"index.html": "text/html; charset=utf-8",
		"app.js":     "text/javascript; charset=utf-8",
		"style.css":  "text/css; charset=utf-8",
	}
	switch {
	case p == "dashboard":
		name = "index.html"
	case p == "dashboard/":
		http.Redirect(w, r, "../dashboard", http.StatusMovedPermanently)
		return
	default:
		name = strings.TrimPrefix(p, "dashboard/")
	}
	ct, ok := types[name]
	if !ok || name == "index.html" && p != "dashboard" {
		writeAnswer(w, jsonAnswer(http.StatusNotFound, hipopay.Envelope{Error: "NOT_FOUND", ErrorMessage: "no such mock endpoint: GET _mock/" + p}))
		return
	}
	if name == "index.html" {
		s.servePage(w)
		return
	}
	b, err := dashboardFiles.ReadFile(path.Join("dashboard", name))
	if err != nil {
		writeAnswer(w, jsonAnswer(http.StatusInternalServerError, hipopay.Envelope{Error: "SYSTEM_ERROR", ErrorMessage: "the dashboard is missing " + name}))
		return
	}
	setPageHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-cache")
	writeAnswer(w, answer{status: http.StatusOK, contentType: ct, body: b})
}

// setPageHeaders sets the headers of the page and its assets: the strict
// CSP, no framing, no sniffing, no referrer.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", dashboardCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// stateAnswer is the answer of GET _mock/state: the dashboard's view of
// the server in HipoPay's envelope.
func (s *Server) stateAnswer() answer { return success(s.dashboardState()) }

// serveState serves GET _mock/state.
func (s *Server) serveState(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	writeAnswer(w, s.stateAnswer())
}

// serveEvents serves GET _mock/events: server-sent events, each an
// "state" event whose data is what GET _mock/state answers, sent at once
// and then whenever it changes, until the client goes or the server
// closes. For tools that follow the mock; the page does not hold it open
// (it polls), so that headless browsers see the page settle.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte("retry: 1000\n\n")); err != nil {
		return
	}
	ticker := time.NewTicker(eventsPoll)
	defer ticker.Stop()
	var last []byte
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if a := s.stateAnswer(); !bytes.Equal(a.body, last) {
			last = a.body
			var msg bytes.Buffer
			msg.WriteString("event: state\ndata: ")
			msg.Write(a.body) // compact JSON: one line
			msg.WriteString("\n\n")
			if _, err := w.Write(msg.Bytes()); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
		select {
		case <-changed:
		case <-ticker.C:
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// serveBill serves GET _mock/bill?date=YYYYMMDD[&merchant_no=M]: the
// reconciliation file of that day (UTC+8) as GET download_bill answers it
// for start_date = end_date = date, unsigned, as a download. Bad dates
// answer 400 with the reason.
func (s *Server) serveBill(w http.ResponseWriter, params url.Values) {
	date, merchantNo := params.Get("date"), params.Get("merchant_no")
	if merchantNo == "" {
		merchantNo = s.MerchantNo
	}
	a := s.billFile(date, merchantNo)
	if strings.HasPrefix(a.contentType, "application/json") {
		writeAnswer(w, a)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="hipopay-bill-`+fileSafe(merchantNo)+"-"+date+`.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	writeAnswer(w, a)
}

// billFile is the reconciliation file of a day of a merchant as GET
// _mock/bill answers it: the CSV, or a JSON error (404 for no such
// merchant, 400 for a bad date).
func (s *Server) billFile(date, merchantNo string) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.merchants[merchantNo]
	if m == nil {
		return jsonAnswer(http.StatusNotFound, hipopay.Envelope{Error: "NOT_FOUND", ErrorMessage: "no merchant " + merchantNo})
	}
	a := s.downloadBill(m, url.Values{"merchant_no": {m.no}, "start_date": {date}, "end_date": {date}})
	if strings.HasPrefix(a.contentType, "application/json") && a.status == http.StatusOK {
		a.status = http.StatusBadRequest
	}
	return a
}

// fileSafe keeps the letters, digits, '-' and '_' of s, for a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, s)
}
