// The fake HipoPay server: construction, options, merchants, the request
// path (faults, authentication, routing) and closing.

package hipopaytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// DefaultRetryIntervals is HipoPay's documented schedule of notification
// re-sends: after the first delivery fails, it is sent again up to 10 more
// times, waiting these intervals in turn.
func DefaultRetryIntervals() []time.Duration {
	return []time.Duration{
		1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		60 * time.Second, 60 * time.Second, 60 * time.Second,
		600 * time.Second, 600 * time.Second, 1800 * time.Second,
	}
}

// Option configures a Server. NewServer panics on an invalid option, as
// httptest does on a failure to listen: they are mistakes in a test.
type Option func(*config)

type config struct {
	retryIntervals    []time.Duration
	clock             func() time.Time
	orderExpiry       time.Duration
	addr              string
	listener          net.Listener
	merchantNo        string
	merchantKey       *rsa.PrivateKey
	hipopayKey        *rsa.PrivateKey
	declarationStates []hipopay.DeclarationState
	notifyTimeout     time.Duration
	notifyClient      *http.Client
	responseVersion3  bool
	rawTilde          bool
	settleCurrency    hipopay.Currency // WithSettleCurrency (notify.go)
	deliveryHook      func(paymentNo string, d Delivery)
	errs              []error
}

// WithRetryIntervals sets the notification retry schedule: after a
// delivery that is not acknowledged, the next one is sent after d[0], then
// d[1], ...; with len(d) re-sends at most. The default is HipoPay's
// documented 1s, 2s, 4s, 8s, 60s, 60s, 60s, 600s, 600s, 1800s; tests
// shorten it (WithRetryIntervals(time.Millisecond, time.Millisecond)).
// No interval means a single delivery. The waits are real time, not the
// WithClock clock.
func WithRetryIntervals(d ...time.Duration) Option {
	return func(c *config) {
		for _, x := range d {
			if x < 0 {
				c.errs = append(c.errs, fmt.Errorf("WithRetryIntervals: negative interval %v", x))
			}
		}
		c.retryIntervals = append([]time.Duration{}, d...)
	}
}

// WithClock sets the server's clock: trade and finish times, order and
// refund numbers, the Timestamp of notifications, expiry, the dates of the
// reconciliation file and its three-month window. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			c.errs = append(c.errs, errors.New("WithClock: nil clock"))
			return
		}
		c.clock = now
	}
}

// WithOrderExpiry makes an order that is still unpaid d after it was
// placed EXPIRED (by the server's clock); Pay then fails. Default: orders
// never expire.
func WithOrderExpiry(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithOrderExpiry: %v is not positive", d))
			return
		}
		c.orderExpiry = d
	}
}

// WithAddr makes the server listen on addr ("127.0.0.1:8080"; port 0
// picks a free one) instead of a random local port. NewServer panics when
// it cannot listen; use WithListener to handle that error yourself.
func WithAddr(addr string) Option {
	return func(c *config) { c.addr = addr }
}

// WithListener makes the server serve on l, which it closes on Close.
func WithListener(l net.Listener) Option {
	return func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("WithListener: nil listener"))
			return
		}
		c.listener = l
	}
}

// WithMerchant registers the server's first merchant (Server.MerchantNo,
// Server.MerchantKey) with this number and key instead of a random number
// and a fresh 2048-bit key.
func WithMerchant(no string, key *rsa.PrivateKey) Option {
	return func(c *config) {
		if strings.TrimSpace(no) == "" || key == nil {
			c.errs = append(c.errs, errors.New("WithMerchant: empty merchant number or nil key"))
			return
		}
		if key.N.BitLen() < hipopay.MinKeyBits {
			c.errs = append(c.errs, fmt.Errorf("WithMerchant: %d-bit key is under %d bits", key.N.BitLen(), hipopay.MinKeyBits))
			return
		}
		c.merchantNo, c.merchantKey = no, key
	}
}

// WithHipoPayKey sets the key the server signs notifications with (its
// public half is Server.PublicKey) instead of a fresh 2048-bit key; e.g.
// the testdata stand-in for HipoPay's key, to compare with fixed vectors.
func WithHipoPayKey(key *rsa.PrivateKey) Option {
	return func(c *config) {
		if key == nil || key.N.BitLen() < hipopay.MinKeyBits {
			c.errs = append(c.errs, errors.New("WithHipoPayKey: nil key or key under 2048 bits"))
			return
		}
		c.hipopayKey = key
	}
}

// WithDeclarationStates sets the states a customs declaration goes
// through: Declare and Redeclare answer states[0], and each GetDeclaration
// moves it one state on before answering, until the last. Default
// SUBMITTED, SUCCESS: declared SUBMITTED, SUCCESS on the first query. Use
// Server.SetDeclarationState to force a state (FAIL, EXCEPT) at any time.
func WithDeclarationStates(states ...hipopay.DeclarationState) Option {
	return func(c *config) {
		if len(states) == 0 {
			c.errs = append(c.errs, errors.New("WithDeclarationStates: no state"))
			return
		}
		c.declarationStates = append([]hipopay.DeclarationState{}, states...)
	}
}

// WithNotifyTimeout bounds each notification delivery (default 10 s): a
// merchant handler slower than that counts as a failed delivery.
func WithNotifyTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithNotifyTimeout: %v is not positive", d))
			return
		}
		c.notifyTimeout = d
	}
}

// WithNotifyClient sets the HTTP client notifications are delivered with,
// instead of the server's own (which trusts only the system's root
// certificates). Give it a client that trusts your notify_url's
// certificate, e.g. that of an httptest.NewTLSServer:
//
//	notify := httptest.NewTLSServer(hipopay.NewNotificationHandler(&hipopayKey.PublicKey, fn))
//	defer notify.Close()
//	srv := hipopaytest.NewServer(hipopaytest.WithHipoPayKey(hipopayKey), hipopaytest.WithNotifyClient(notify.Client()))
//
// (The handler exists before the server: choose the key the server signs
// with, hipopayKey, beforehand with WithHipoPayKey.)
//
// Its Transport (TLS configuration, proxy, connection pool) and Jar are
// used; the server still never follows a redirect (HipoPay posts to
// notify_url as given, a redirect is an answer that is not "success") and
// still bounds each delivery by WithNotifyTimeout, besides the client's own
// Timeout. The client stays the caller's: Close leaves its connections
// alone.
func WithNotifyClient(c *http.Client) Option {
	return func(cfg *config) {
		if c == nil {
			cfg.errs = append(cfg.errs, errors.New("WithNotifyClient: nil client"))
			return
		}
		cfg.notifyClient = c
	}
}

// WithResponseVersion3 adds the response_version 3.0 fields (pay_rate,
// pay_rate_reversed, bank_type, promotion_detail) to every notification,
// as if each order had been placed with response_version=3.0 (which the
// server also honours per order).
func WithResponseVersion3() Option {
	return func(c *config) { c.responseVersion3 = true }
}

// WithRawTilde verifies request signatures with '~' kept raw, as an RFC
// 3986 server would, instead of HipoPay's documented %7E: a request signed
// the documented way with '~' in a value is then ILLEGAL_SECURITY_PROFILE.
func WithRawTilde() Option {
	return func(c *config) { c.rawTilde = true }
}

// WithDeliveryHook calls f after each notification delivery (in the
// delivery's goroutine, never under the server's lock): to log deliveries
// as they happen. f must not block for long; it may call the server,
// except Close: Close waits for the delivery goroutines, the one running f
// included, so calling it from f deadlocks (call it from another
// goroutine).
func WithDeliveryHook(f func(paymentNo string, d Delivery)) Option {
	return func(c *config) { c.deliveryHook = f }
}

// Server is a fake HipoPay listening on a local port. Its exported fields
// are set by NewServer and must not be changed. It is safe for concurrent
// use.
type Server struct {
	URL         string          // base URL, ends in "/"
	MerchantNo  string          // a merchant registered at start
	MerchantKey *rsa.PrivateKey // that merchant's key (its public half is what the server verifies with)

	cfg          config
	ts           *httptest.Server
	mock         http.Handler // the _mock/ endpoints (mock.go): not HipoPay's API
	hipopayKey   *rsa.PrivateKey
	paySignKey   string // the "WeChat API key" paySign is computed with
	notifyClient *http.Client
	ownNotify    bool            // notifyClient is the server's own: Close closes its idle connections
	ctx          context.Context // cancelled by Close: stops deliveries and latency
	cancel       context.CancelFunc
	wg           sync.WaitGroup // delivery goroutines
	closeOnce    sync.Once

	mu        sync.Mutex
	closed    bool
	changed   chan struct{} // closed and replaced on every delivery event
	seq       int64         // numbers payment, refund and order numbers
	merchants map[string]*merchant
	payments  map[string]*order  // by payment_no, every merchant
	refunds   map[string]*refund // by refund_no, every merchant
	calls     map[string]int     // by "METHOD path"
	faults    []*fault
	latency   time.Duration
}

// merchant is a registered merchant and everything it owns.
type merchant struct {
	no           string
	pub          *rsa.PublicKey
	byOutTradeID map[string]*order
	refundsByOut map[string]*refund
	declarations []*declaration
	ledger       []*entry
	balances     map[hipopay.Currency]int64 // minor units
}

// NewServer starts a fake HipoPay on a local port with one registered
// merchant (MerchantNo, MerchantKey: a fresh 2048-bit key unless
// WithMerchant) and its own notification key (PublicKey). Close it when
// done. It panics on an invalid option or when it cannot listen, as
// httptest.NewServer does.
func NewServer(opts ...Option) *Server {
	cfg := config{
		retryIntervals:    DefaultRetryIntervals(),
		clock:             time.Now,
		declarationStates: []hipopay.DeclarationState{hipopay.DeclarationStateSubmitted, hipopay.DeclarationStateSuccess},
		notifyTimeout:     10 * time.Second,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if len(cfg.errs) > 0 {
		panic("hipopaytest: NewServer: " + errors.Join(cfg.errs...).Error())
	}

	// Two fresh 2048-bit keys take a while each: make them together.
	var wg sync.WaitGroup
	var errMerchant, errHipoPay error
	if cfg.merchantKey == nil {
		wg.Add(1)
		go func() { defer wg.Done(); cfg.merchantKey, errMerchant = rsa.GenerateKey(rand.Reader, 2048) }()
	}
	if cfg.hipopayKey == nil {
		wg.Add(1)
		go func() { defer wg.Done(); cfg.hipopayKey, errHipoPay = rsa.GenerateKey(rand.Reader, 2048) }()
	}
	wg.Wait()
	if err := errors.Join(errMerchant, errHipoPay); err != nil {
		panic("hipopaytest: NewServer: generating keys: " + err.Error())
	}
	if cfg.merchantNo == "" {
		cfg.merchantNo = fmt.Sprintf("HP%010d", mrand.Int64N(1e10))
	}

	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		MerchantNo:  cfg.merchantNo,
		MerchantKey: cfg.merchantKey,
		cfg:         cfg,
		hipopayKey:  cfg.hipopayKey,
		paySignKey:  randomHex(32, true),
		ctx:         ctx,
		cancel:      cancel,
		changed:     make(chan struct{}),
		seq:         mrand.Int64N(1e10),
		merchants:   map[string]*merchant{},
		payments:    map[string]*order{},
		refunds:     map[string]*refund{},
		calls:       map[string]int{},
	}
	if cfg.notifyClient != nil {
		c := *cfg.notifyClient // a copy: the caller's client is not changed
		s.notifyClient = &c
	} else {
		s.notifyClient = &http.Client{
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second},
		}
		s.ownNotify = true
	}
	// HipoPay posts to notify_url as given; a redirect is an answer that is
	// not "success". (Each delivery's timeout is its context's.)
	s.notifyClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.addMerchant(cfg.merchantNo, &cfg.merchantKey.PublicKey)

	s.ts = httptest.NewUnstartedServer(s)
	s.mock = newMockHandler(s)
	switch {
	case cfg.listener != nil:
		_ = s.ts.Listener.Close()
		s.ts.Listener = cfg.listener
	case cfg.addr != "":
		l, err := net.Listen("tcp", cfg.addr)
		if err != nil {
			cancel()
			panic("hipopaytest: NewServer: " + err.Error())
		}
		_ = s.ts.Listener.Close()
		s.ts.Listener = l
	}
	s.ts.Start()
	s.URL = s.ts.URL + "/"
	if tcp, ok := s.ts.Listener.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		// Listening on every interface: clients reach it on loopback.
		s.URL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port)) + "/"
	}
	return s
}

// AddMerchant registers another merchant with the public key its requests
// are verified with; a merchant already registered gets the new key. It
// panics on an empty number or a nil key (a mistake in the test).
func (s *Server) AddMerchant(no string, pub *rsa.PublicKey) {
	if strings.TrimSpace(no) == "" || pub == nil {
		panic("hipopaytest: AddMerchant: empty merchant number or nil key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.merchants[no]; m != nil {
		m.pub = pub
		return
	}
	s.addMerchantLocked(no, pub)
}

func (s *Server) addMerchant(no string, pub *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addMerchantLocked(no, pub)
}

func (s *Server) addMerchantLocked(no string, pub *rsa.PublicKey) {
	s.merchants[no] = &merchant{
		no:           no,
		pub:          pub,
		byOutTradeID: map[string]*order{},
		refundsByOut: map[string]*refund{},
		balances:     map[hipopay.Currency]int64{},
	}
}

// Client returns a client of the first merchant wired to this server
// (WithBaseURL(s.URL), WithHipoPayPublicKey(s.PublicKey())); opts are
// applied after those and may override them. It panics only if
// hipopay.NewClient fails, i.e. on an invalid option.
func (s *Server) Client(opts ...hipopay.Option) *hipopay.Client {
	all := append([]hipopay.Option{hipopay.WithBaseURL(s.URL), hipopay.WithHipoPayPublicKey(s.PublicKey())}, opts...)
	c, err := hipopay.NewClient(s.MerchantNo, s.MerchantKey, all...)
	if err != nil {
		panic("hipopaytest: Server.Client: " + err.Error())
	}
	return c
}

// PublicKey returns the public half of the key the server signs
// notifications with: what a merchant verifies them with.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.hipopayKey.PublicKey }

// PrivateKey returns the key the server signs notifications with, for
// tests that sign notifications of their own (NewNotificationRequest).
func (s *Server) PrivateKey() *rsa.PrivateKey { return s.hipopayKey }

// Calls returns how many requests the server received for path ("payment",
// "wechatpay/mini_program/payment"), optionally prefixed with a method
// ("GET payment_refund"); faulted, refused and answered requests alike.
func (s *Server) Calls(path string) int {
	method, p := splitMethodPath(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	if method != "" {
		return s.calls[method+" "+p]
	}
	n := 0
	for k, v := range s.calls {
		if _, kp, _ := strings.Cut(k, " "); kp == p {
			n += v
		}
	}
	return n
}

// Close stops the server: pending and future notification deliveries are
// abandoned, then the listener is closed and in-flight requests finish.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.broadcastLocked()
		s.mu.Unlock()
		s.cancel()
		s.wg.Wait()
		s.ts.Close()
		if s.ownNotify {
			s.notifyClient.CloseIdleConnections()
		}
	})
}

// now is the server's clock.
func (s *Server) now() time.Time { return s.cfg.clock() }

// broadcastLocked wakes everything waiting for a delivery event.
func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// nextNumberLocked returns a 25-digit HipoPay number: the UTC+8 time t as
// 20060102150405, then 11 digits unique in this server.
func (s *Server) nextNumberLocked(t time.Time) string {
	s.seq = (s.seq + 1) % 1e11
	return t.In(hipopay.ChinaTimeZone()).Format("20060102150405") + fmt.Sprintf("%011d", s.seq)
}

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

// envelope is HipoPay's JSON answer.
type envelope struct {
	IsSuccess     bool   `json:"is_success"`
	Response      any    `json:"response,omitempty"`
	Error         string `json:"error,omitempty"`
	ErrorMessage  string `json:"error_message,omitempty"`
	ReturnMessage string `json:"return_message,omitempty"`
}

func jsonAnswer(status int, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the server's own structs are marshalled: cannot happen.
		b = []byte(`{"is_success": false, "error": "SYSTEM_ERROR", "error_message": "encoding the answer failed"}`)
		status = http.StatusInternalServerError
	}
	return answer{status: status, contentType: "application/json; charset=utf-8", body: b}
}

// success answers {"is_success": true, "response": v}.
func success(v any) answer { return jsonAnswer(http.StatusOK, envelope{IsSuccess: true, Response: v}) }

// failure answers {"is_success": false, "error": code, "error_message": msg}
// with HTTP 200, as HipoPay answers its business errors.
func failure(code, msg string) answer {
	return jsonAnswer(http.StatusOK, envelope{Error: code, ErrorMessage: msg})
}

func illegal(reason string) answer {
	return failure(CodeIllegalSecurityProfile, "This encryption method is not supported ("+reason+")")
}

func invalidParam(format string, args ...any) answer {
	return failure(CodeInvalidParameter, fmt.Sprintf(format, args...))
}

const maxRequestBytes = 1 << 20

// ServeHTTP serves the fake HipoPay API: the endpoints relative to the
// base URL. Paths under "_mock/" go to the fake's own test-only controls
// instead (mock.go), which are not HipoPay's API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			writeAnswer(w, jsonAnswer(http.StatusInternalServerError,
				envelope{Error: "SYSTEM_ERROR", ErrorMessage: "the fake HipoPay failed: " + fmt.Sprint(v)}))
		}
	}()
	path := strings.TrimPrefix(r.URL.Path, "/")
	if strings.HasPrefix(path, "_mock/") {
		s.mock.ServeHTTP(w, r)
		return
	}

	s.mu.Lock()
	s.calls[r.Method+" "+path]++
	f := s.takeFaultLocked(r.Method, path)
	latency := s.latency
	s.mu.Unlock()

	if latency > 0 && !s.sleep(r.Context(), latency) {
		return
	}
	if f != nil {
		switch f.kind {
		case faultStatus:
			body := fmt.Sprintf("<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>\n",
				f.status, http.StatusText(f.status), f.status, http.StatusText(f.status))
			writeAnswer(w, answer{status: f.status, contentType: "text/html; charset=utf-8", body: []byte(body)})
			return
		case faultDrop:
			dropConnection(w)
			return
		}
	}

	a := s.serveAPI(r, path)
	if f != nil && f.kind == faultLoseAnswer {
		dropConnection(w)
		return
	}
	writeAnswer(w, a)
}

// serveAPI reads, authenticates and serves one API request. The
// signature is checked first: parameters that do not parse as a form
// cannot be verified (ILLEGAL_SECURITY_PROFILE), and only a request that
// verifies is told about a parameter its endpoint does not document
// (INVALID_PARAMETER).
func (s *Server) serveAPI(r *http.Request, path string) answer {
	rt, ok, known := lookupRoute(r.Method, path)
	if !ok {
		if known {
			return jsonAnswer(http.StatusMethodNotAllowed, envelope{Error: "METHOD_NOT_ALLOWED", ErrorMessage: r.Method + " is not allowed on " + path})
		}
		return jsonAnswer(http.StatusNotFound, envelope{Error: "NOT_FOUND", ErrorMessage: "no such endpoint: " + path})
	}
	raw, a := readRawParams(r)
	if a != nil {
		return *a
	}
	params, err := url.ParseQuery(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	m, a := s.authenticateLocked(r, params, err, rt.version)
	if a != nil {
		return *a
	}
	if a := rt.undocumented(r.Method, path, params); a != nil {
		return *a
	}
	return rt.serve(s, m, params)
}

// readRawParams returns exactly the parameter text received: the query
// string of a GET, the form body of a POST whatever its Content-Type says.
// A POST declared multipart/form-data (HipoPay's PHP SDK posts that way)
// is read part by part and returned form-encoded: the same fields, so the
// signature is verified over them as over a form. A file part, a part
// without a name or a body that is not valid multipart is
// INVALID_PARAMETER.
func readRawParams(r *http.Request) (string, *answer) {
	if r.Method == http.MethodGet {
		return r.URL.RawQuery, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		a := invalidParam("reading the body: %v", err)
		return "", &a
	}
	if len(b) > maxRequestBytes {
		a := jsonAnswer(http.StatusRequestEntityTooLarge, envelope{Error: CodeInvalidParameter, ErrorMessage: "body over 1 MiB"})
		return "", &a
	}
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		v, err := readMultipart(b, params["boundary"])
		if err != nil {
			a := invalidParam("multipart/form-data body: %v", err)
			return "", &a
		}
		return v.Encode(), nil
	}
	return string(b), nil
}

// readMultipart reads the fields of a multipart/form-data body: every
// part must be a named field, none a file.
func readMultipart(body []byte, boundary string) (url.Values, error) {
	if boundary == "" {
		return nil, errors.New("no boundary in the Content-Type")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	v := url.Values{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			if len(v) == 0 {
				return nil, errors.New("no part with the boundary of its Content-Type")
			}
			return v, nil
		}
		if err != nil {
			return nil, err
		}
		name := part.FormName()
		switch {
		case name == "":
			return nil, errors.New("a part has no form-data name")
		case part.FileName() != "":
			return nil, fmt.Errorf("part %q is a file: HipoPay takes no files", name)
		}
		value, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("part %q: %w", name, err)
		}
		v.Add(name, string(value))
	}
}

// readParams returns the parameters received (see readRawParams), or
// INVALID_PARAMETER when they do not parse: for the unsigned _mock/
// endpoints.
func readParams(r *http.Request) (url.Values, *answer) {
	raw, a := readRawParams(r)
	if a != nil {
		return nil, a
	}
	params, err := url.ParseQuery(raw)
	if err != nil {
		a := invalidParam("parameters do not parse as a form: %v", err)
		return nil, &a
	}
	return params, nil
}

// authenticateLocked checks the four headers and the signature like
// HipoPay: anything wrong is ILLEGAL_SECURITY_PROFILE. The reasons never
// repeat the Signature.
// A parse error of the parameters (parseErr) fails it too: what does not
// parse cannot be verified.
func (s *Server) authenticateLocked(r *http.Request, params url.Values, parseErr error, version string) (*merchant, *answer) {
	fail := func(reason string) (*merchant, *answer) { a := illegal(reason); return nil, &a }
	for _, h := range []string{"MerchantNO", "Version", "Timestamp", "Signature"} {
		if r.Header.Get(h) == "" {
			return fail("header " + h + " is missing")
		}
	}
	m := s.merchants[r.Header.Get("MerchantNO")]
	if m == nil {
		return fail("unknown merchant")
	}
	if v := r.Header.Get("Version"); v != version {
		return fail("header Version must be " + version)
	}
	if parseErr != nil {
		return fail("the parameters do not parse as a form, so the signature cannot be verified")
	}
	toSign := hipopay.StringToSign(params, r.Header.Get("Timestamp"))
	if s.cfg.rawTilde {
		toSign = strings.ReplaceAll(toSign, "%7E", "~") // exact: a literal "%7E" is encoded "%257E"
	}
	if err := hipopay.VerifySignature(m.pub, toSign, r.Header.Get("Signature")); err != nil {
		return fail("signature does not verify")
	}
	return m, nil
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

// sleep waits d, or less if the request or the server ends; it reports
// whether the whole d passed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.ctx.Done():
		return false
	}
}

// randomHex returns n random hex digits.
func randomHex(n int, upper bool) string {
	const lower, up = "0123456789abcdef", "0123456789ABCDEF"
	digits := lower
	if upper {
		digits = up
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[mrand.IntN(16)]
	}
	return string(b)
}

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + mrand.IntN(10))
	}
	return string(b)
}
