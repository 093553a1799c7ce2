// The HipoPay client: construction, functional options, the default HTTP
// transport and HipoPay's embedded callback keys. The request path every
// endpoint goes through is in request.go.

package hipopay

import (
	"crypto/rsa"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Base URLs of HipoPay's API.
const (
	SandboxBaseURL    = "https://testapi.hipopay.com/"
	ProductionBaseURL = "https://api.hipopay.com/"
)

// Version is this SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

//go:embed keys/hipopay_sandbox_callback_public.pem
var sandboxCallbackKeyPEM []byte

//go:embed keys/hipopay_production_callback_public.pem
var productionCallbackKeyPEM []byte

const (
	apiVersion        = "1.0"
	billAPIVersion    = "3.0"
	maxResponseBytes  = 1 << 20 // a JSON answer larger than this is refused
	errorSnippetBytes = 256     // how much of an unexpected body an error keeps
	defaultTimeout    = 30 * time.Second
	defaultRetries    = 2
	maxBackoff        = 5 * time.Second
	maxRetryAfter     = 60 * time.Second
)

// Client calls HipoPay's API as one merchant. It is safe for concurrent
// use; create one per merchant and share it.
type Client struct {
	merchantNo  string
	signer      *Signer
	baseURL     *url.URL
	hc          *http.Client // for JSON calls
	streamHC    *http.Client // for DownloadBill: no whole-call timeout when the client is ours
	hipopayKey  *rsa.PublicKey
	sandbox     bool
	logger      *slog.Logger
	now         func() time.Time
	maxRetries  int
	backoffBase time.Duration
	// rawTilde is set once HipoPay accepted a request signed with '~'
	// kept raw after refusing the documented %7E (see tilde.go).
	rawTilde atomic.Bool
}

// Option configures a Client; NewClient reports an option's error.
type Option func(*clientConfig) error

type clientConfig struct {
	sandbox     bool
	baseURL     string
	hc          *http.Client
	hipopayKey  *rsa.PublicKey
	logger      *slog.Logger
	now         func() time.Time
	maxRetries  int
	backoffBase time.Duration
}

// WithSandbox points the client at HipoPay's sandbox ([SandboxBaseURL]) and
// verifies notifications with HipoPay's sandbox callback key.
// [WithBaseURL] and [WithHipoPayPublicKey] still override either.
func WithSandbox() Option {
	return func(c *clientConfig) error { c.sandbox = true; return nil }
}

// WithBaseURL sets the API's base URL (another host given at onboarding, a
// fake HipoPay in tests). It must be an absolute http or https URL.
func WithBaseURL(rawURL string) Option {
	return func(c *clientConfig) error {
		if _, err := parseBaseURL(rawURL); err != nil {
			return err
		}
		c.baseURL = rawURL
		return nil
	}
}

// WithHTTPClient sends every request through hc (its transport, timeout,
// proxy and TLS settings): the way to add a proxy or a private CA. Redirects
// are never followed: each request goes through a copy of hc that stops
// them; hc itself is not modified. It must not be nil.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *clientConfig) error {
		if hc == nil {
			return errors.New("hipopay: WithHTTPClient: nil *http.Client")
		}
		c.hc = hc
		return nil
	}
}

// WithHipoPayPublicKey sets the key notifications are verified with,
// instead of the embedded HipoPay callback key.
func WithHipoPayPublicKey(pub *rsa.PublicKey) Option {
	return func(c *clientConfig) error {
		if pub == nil || pub.N == nil {
			return errors.New("hipopay: WithHipoPayPublicKey: nil or empty key")
		}
		if err := checkKeySize(pub.N.BitLen()); err != nil {
			return fmt.Errorf("hipopay: WithHipoPayPublicKey: %w", err)
		}
		c.hipopayKey = pub
		return nil
	}
}

// WithLogger logs each attempt (Debug) and each retry (Warn) to l. The
// client is silent without it. Nothing logged holds a key, a signature or
// a buyer's identity.
func WithLogger(l *slog.Logger) Option {
	return func(c *clientConfig) error {
		if l == nil {
			return errors.New("hipopay: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithClock sets the client's only clock, used for the Timestamp header and
// any date logic.
func WithClock(now func() time.Time) Option {
	return func(c *clientConfig) error {
		if now == nil {
			return errors.New("hipopay: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithMaxRetries sets how many times a call that is safe to repeat (every
// GET, and [Client.Refund]) is retried after a network error, HTTP 429 or
// 5xx; default 2, 0 disables retries. Any other POST is re-sent only when
// it provably never left (a dial or DNS failure).
func WithMaxRetries(n int) Option {
	return func(c *clientConfig) error {
		if n < 0 {
			return fmt.Errorf("hipopay: WithMaxRetries: %d is negative", n)
		}
		c.maxRetries = n
		return nil
	}
}

// WithRetryBackoff sets the first retry delay (100 ms by default; each
// retry doubles it, with jitter, up to 5 s). Tests against a fake HipoPay
// that injects failures shorten it. A non-positive d is an error.
func WithRetryBackoff(d time.Duration) Option {
	return func(c *clientConfig) error {
		if d <= 0 {
			return fmt.Errorf("hipopay: WithRetryBackoff: %v is not positive", d)
		}
		c.backoffBase = d
		return nil
	}
}

// ValidMerchantNo returns nil for a merchant number [NewClient] accepts,
// else why not: it is empty, or holds a space or control character (the
// MerchantNO header cannot carry it). The CLI and hipopaytest apply it too.
func ValidMerchantNo(no string) error {
	if strings.TrimSpace(no) == "" {
		return errors.New("hipopay: merchant number is empty")
	}
	if strings.ContainsFunc(no, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return errors.New("hipopay: merchant number has spaces or control characters")
	}
	return nil
}

// NewClient returns a client for merchantNo signing with key.
//
// By default it calls [ProductionBaseURL], verifies notifications with
// HipoPay's production callback key, and sends through a tuned clone of
// [http.DefaultTransport] with a 30 s timeout; while something such as
// httpmock has replaced http.DefaultTransport (before or after NewClient),
// it sends through that instead. It refuses an empty merchant number, a
// nil key or one under 2048 bits, and invalid options.
func NewClient(merchantNo string, key *rsa.PrivateKey, opts ...Option) (*Client, error) {
	if err := ValidMerchantNo(merchantNo); err != nil {
		return nil, err
	}
	signer, err := NewSigner(key) // its errors already say "hipopay: private key ..."
	if err != nil {
		return nil, err
	}
	cfg := clientConfig{now: time.Now, maxRetries: defaultRetries, backoffBase: 100 * time.Millisecond}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	rawBase := cfg.baseURL
	if rawBase == "" {
		rawBase = ProductionBaseURL
		if cfg.sandbox {
			rawBase = SandboxBaseURL
		}
	}
	base, err := parseBaseURL(rawBase)
	if err != nil {
		return nil, err
	}
	// WithBaseURL(SandboxBaseURL) is the sandbox too: its notifications
	// are signed with the sandbox key.
	if base.String() == SandboxBaseURL {
		cfg.sandbox = true
	}
	c := &Client{
		merchantNo:  merchantNo,
		signer:      signer,
		baseURL:     base,
		hipopayKey:  cfg.hipopayKey,
		sandbox:     cfg.sandbox,
		logger:      cfg.logger,
		now:         cfg.now,
		maxRetries:  cfg.maxRetries,
		backoffBase: cfg.backoffBase,
		hc:          cfg.hc,
		streamHC:    cfg.hc,
	}
	if c.hipopayKey == nil {
		if c.hipopayKey, err = CallbackPublicKey(cfg.sandbox); err != nil {
			return nil, err
		}
	}
	if c.hc == nil {
		transport := newTransport()
		c.hc = &http.Client{Timeout: defaultTimeout, Transport: transport, CheckRedirect: noRedirects}
		// The reconciliation file can take longer than 30 s to stream;
		// its download is bounded by the caller's context instead.
		c.streamHC = &http.Client{Transport: transport, CheckRedirect: noRedirects}
	}
	return c, nil
}

// CallbackPublicKey returns HipoPay's published callback public key that
// signs its notifications: the sandbox key or the production key. Both are
// embedded in the SDK.
func CallbackPublicKey(sandbox bool) (*rsa.PublicKey, error) {
	keyPEM := productionCallbackKeyPEM
	if sandbox {
		keyPEM = sandboxCallbackKeyPEM
	}
	pub, err := ParsePublicKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("hipopay: embedded callback key: %w", err)
	}
	return pub, nil
}

// noRedirects stops the default client from following redirects: a signed
// request (and a declaration's buyer identity) goes to HipoPay's host only.
// A redirect answer is an *APIError.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// newTransport is the default transport: see defaultTransport.
func newTransport() http.RoundTripper {
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &defaultTransport{}
	}
	t := dt.Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = defaultTimeout
	return &defaultTransport{seen: dt, tuned: t}
}

// defaultTransport is the transport of a client built without
// WithHTTPClient. It sends through a clone of http.DefaultTransport made
// at NewClient and tuned to pool connections per host for concurrent
// callers (Go's default keeps only 2 idle per host), TLS settings
// untouched; but while http.DefaultTransport is not the value NewClient
// saw (httpmock.Activate replaced it, even after NewClient), through
// http.DefaultTransport as it is at send time.
type defaultTransport struct {
	seen  *http.Transport // http.DefaultTransport at NewClient; nil when it was no *http.Transport
	tuned *http.Transport // the tuned clone of seen
}

func (t *defaultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	dt := http.DefaultTransport
	if t.tuned != nil {
		// seen is a pointer: the comparison cannot panic, whatever dt is.
		if cur, ok := dt.(*http.Transport); ok && cur == t.seen {
			return t.tuned.RoundTrip(req)
		}
	}
	if dt == nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("hipopay: http.DefaultTransport is nil")
	}
	return dt.RoundTrip(req)
}

// CloseIdleConnections closes the tuned transport's idle connections (for
// http.Client.CloseIdleConnections).
func (t *defaultTransport) CloseIdleConnections() {
	if t.tuned != nil {
		t.tuned.CloseIdleConnections()
	}
}

func parseBaseURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("hipopay: base URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("hipopay: base URL %q: want an absolute http or https URL", rawURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("hipopay: base URL %q: must not have a query or fragment", rawURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// MerchantNo returns the merchant number the client signs as.
func (c *Client) MerchantNo() string { return c.merchantNo }

// BaseURL returns the API base URL the client calls, ending in "/".
func (c *Client) BaseURL() string { return c.baseURL.String() }

// HipoPayPublicKey returns the key the client verifies notifications with.
func (c *Client) HipoPayPublicKey() *rsa.PublicKey { return c.hipopayKey }

// Sandbox reports whether the client calls HipoPay's sandbox: made
// [WithSandbox], or [WithBaseURL] given [SandboxBaseURL].
func (c *Client) Sandbox() bool { return c.sandbox }
