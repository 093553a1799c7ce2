// The fake HipoPay server: the Server type, construction, merchants, its
// client, closing, and small helpers (clock, numbers, random digits).
// Options: options.go; the request path: requests.go; routes and answers:
// routes.go.

package hipopaytest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

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
	if err := hipopay.ValidMerchantNo(no); err != nil || pub == nil {
		panic("hipopaytest: AddMerchant: invalid merchant number or nil key")
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
