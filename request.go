// The one request path: every endpoint goes through Client.do (or
// Client.stream for the reconciliation file), which encodes, signs, sends,
// retries as the call allows, logs, redacts and decodes.

package hipopay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-querystring/query"
)

// call is one API call: what do and stream need to send it. Its zero
// value is the safe kind: a POST, Version 1.0, never re-sent once it may
// have reached HipoPay.
type call struct {
	method  string // http.MethodGet, or http.MethodPost ("" is POST)
	path    string // relative to the base URL, e.g. "payment"
	version string // the Version header; "" is "1.0" ("3.0" for download_bill)
	params  url.Values
	// idempotent marks a POST that is safe to send again (Refund, through
	// out_refund_id): retried like a GET.
	idempotent bool
	// secrets are values (a buyer's identity) that must not reach an
	// error, should HipoPay echo them back.
	secrets []string
	// rawTilde signs (and sends) '~' raw instead of the documented %7E.
	rawTilde bool
}

// resendable reports whether cl may be sent again once it may have
// reached HipoPay: a GET (a read) or an idempotent POST. Anything else is
// re-sent only when it provably never left (a dial or DNS failure).
func (cl call) resendable() bool { return cl.method == http.MethodGet || cl.idempotent }

// encodeParams turns a request struct with `url` tags into parameters.
func encodeParams(req any) url.Values {
	v, err := query.Values(req)
	if err != nil {
		// query.Values fails only for non-struct input: a bug here.
		panic("hipopay: encoding request: " + err.Error())
	}
	return v
}

// reply is a decoded successful answer, its HTTP status and its body
// (secrets redacted), for the errors found later.
type reply struct {
	Envelope
	status int
	body   []byte
}

// doOnce sends cl (with its retries) and decodes the "response" object of
// a successful answer into out; it returns the whole answer (its
// return_message, its HTTP status). A business error, an HTTP error status
// or a body that is not HipoPay's answer is an *APIError.
func (c *Client) doOnce(ctx context.Context, cl call, out any) (*reply, error) {
	resp, red, err := c.send(ctx, c.hc, cl)
	if err != nil {
		return nil, err
	}
	defer drainAndClose(resp.Body)
	env, err := readAnswer(resp.StatusCode, resp.Body, red)
	if err != nil {
		return nil, err
	}
	if len(env.Response) == 0 || string(env.Response) == "null" {
		return nil, &APIError{StatusCode: resp.StatusCode, Message: "answer has no response object", Body: snippet(env.body)}
	}
	if err := unmarshalLenient(env.Response, out); err != nil {
		return nil, red.redactError(&APIError{StatusCode: resp.StatusCode, Message: "decoding response: " + err.Error(), Body: snippet(env.body)})
	}
	return env, nil
}

// readAnswer reads an answer of HTTP status status (at most
// maxResponseBytes), redacts red's secrets from it and decodes HipoPay's
// envelope: anything but a successful answer is an *APIError, redacted.
func readAnswer(status int, r io.Reader, red redactor) (*reply, error) {
	body, err := readLimited(r, maxResponseBytes)
	body = red.bytes(body)
	if err != nil {
		return nil, &APIError{StatusCode: status, Message: "reading answer: " + err.Error(), Body: snippet(body)}
	}
	env, err := decodeEnvelope(status, body)
	if err != nil {
		// A decoded message may hold an echo that was escaped in the body.
		return nil, red.redactError(err)
	}
	env.body = body
	return env, nil
}

// decodeEnvelope reads HipoPay's answer; anything but a successful one is
// an *APIError carrying the HTTP status.
func decodeEnvelope(status int, body []byte) (*reply, error) {
	var env Envelope
	if err := unmarshalLenient(body, &env); errors.Is(err, errNoIsSuccess) {
		return nil, &APIError{StatusCode: status, Message: "answer has no is_success", Body: snippet(body)}
	} else if err != nil {
		msg := "answer is not HipoPay's JSON"
		if status < 200 || status > 299 {
			msg = http.StatusText(status)
		}
		return nil, &APIError{StatusCode: status, Message: msg, Body: snippet(body)}
	}
	if !env.IsSuccess {
		return nil, &APIError{StatusCode: status, Code: env.Error, Message: env.ErrorMessage}
	}
	if status < 200 || status > 299 {
		return nil, &APIError{StatusCode: status, Message: http.StatusText(status), Body: snippet(body)}
	}
	return &reply{Envelope: env, status: status}, nil
}

// stream sends c and returns the body of a successful answer unread; a JSON
// error body becomes an *APIError. Used by DownloadBill.
func (c *Client) stream(ctx context.Context, cl call) (io.ReadCloser, error) {
	resp, red, err := c.send(ctx, c.streamHC, cl)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	if resp.StatusCode < 200 || resp.StatusCode > 299 || looksLikeJSON(br) {
		defer drainAndClose(resp.Body)
		env, err := readAnswer(resp.StatusCode, br, red)
		if err != nil {
			return nil, err
		}
		return nil, &APIError{StatusCode: resp.StatusCode, Message: "expected the reconciliation file, got a JSON answer", Body: snippet(env.body)}
	}
	return &drainCloser{Reader: br, body: resp.Body}, nil
}

// looksLikeJSON peeks at the first non-blank byte of a body (after a BOM).
func looksLikeJSON(br *bufio.Reader) bool {
	head, _ := br.Peek(512)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && head[0] == '{'
}

// drainCloser drains (a bounded amount of) the body on Close so that the
// connection can be reused.
type drainCloser struct {
	io.Reader
	body io.ReadCloser
}

func (d *drainCloser) Close() error {
	_, _ = io.CopyN(io.Discard, d.body, 256<<10)
	return d.body.Close()
}

// send signs and sends c, retrying as its policy allows, and returns the
// final answer with its body unread, and the call's secrets (every
// Signature sent, cl.secrets) to redact from what comes back. Only the
// returned response's body is left open.
func (c *Client) send(ctx context.Context, hc *http.Client, cl call) (*http.Response, redactor, error) {
	if ctx == nil {
		return nil, nil, errors.New("hipopay: nil context")
	}
	if err := validUTF8(cl.params); err != nil {
		return nil, nil, err
	}
	if cl.method != http.MethodGet {
		cl.method = http.MethodPost
	}
	if cl.version == "" {
		cl.version = apiVersion
	}
	red := append(redactor(nil), cl.secrets...)
	canon := buildCanonical(cl.params, valuesDocumented)
	if cl.rawTilde || c.rawTilde.Load() { // do fixes cl.rawTilde; stream takes the learned rule
		canon = buildCanonical(cl.params, valuesTildeKept)
	}
	for attempt := 1; ; attempt++ {
		resp, sig, connected, err := c.attempt(ctx, hc, cl, canon, attempt)
		if sig != "" {
			red = append(red, sig)
		}
		retryable, cause, after := c.shouldRetry(ctx, cl, resp, connected, err)
		if !retryable || attempt > c.maxRetries {
			return resp, red, err
		}
		delay := c.backoff(attempt, after)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			// Waiting would outlive the caller: give up with what we have.
			return resp, red, err
		}
		if resp != nil {
			drainAndClose(resp.Body)
		}
		c.log(ctx, slog.LevelWarn, "hipopay: retrying",
			slog.String("method", cl.method), slog.String("path", c.baseURL.Path+cl.path),
			slog.Int("attempt", attempt), slog.String("cause", cause), slog.Duration("delay", delay))
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, nil, fmt.Errorf("hipopay: %s %s: %w (after %d attempts, last: %s)", cl.method, cl.path, ctx.Err(), attempt, cause)
		case <-timer.C:
		}
	}
}

// validUTF8 refuses a parameter value that is not valid UTF-8 (GBK text,
// say): HipoPay reads every value as UTF-8.
func validUTF8(params url.Values) error {
	bad := ""
	for name, vs := range params {
		for _, v := range vs {
			if !utf8.ValidString(v) && (bad == "" || name < bad) {
				bad = name
			}
		}
	}
	if bad != "" {
		return invalid(bad, "is not valid UTF-8 text (HipoPay reads every value as UTF-8)")
	}
	return nil
}

// attempt sends one signed request. connected reports whether a connection
// to the server was obtained, i.e. whether HipoPay may have seen it.
func (c *Client) attempt(ctx context.Context, hc *http.Client, cl call, canon string, n int) (resp *http.Response, sig string, connected bool, err error) {
	ts := strconv.FormatInt(c.now().Unix(), 10)
	sig, err = c.signer.SignString(canon + "," + ts)
	if err != nil {
		return nil, "", false, err
	}
	u := *c.baseURL
	u.Path += cl.path
	path := u.Path
	if u.RawPath != "" {
		u.RawPath += cl.path
	}
	var body io.Reader
	if cl.method == http.MethodGet {
		u.RawQuery = canon
	} else {
		body = strings.NewReader(canon)
	}
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected = true }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), cl.method, u.String(), body)
	if err != nil {
		return nil, sig, false, fmt.Errorf("hipopay: %s %s: %w", cl.method, cl.path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "hipopay-go/"+Version)
	req.Header.Set("MerchantNO", c.merchantNo)
	req.Header.Set("Version", cl.version)
	req.Header.Set("Timestamp", ts)
	req.Header.Set("Signature", sig)

	// A fresh shallow copy per request: redirects are never followed,
	// whatever client was given, and the caller's client is not modified
	// (a transport swapped into it later is still used).
	once := *hc
	once.CheckRedirect = noRedirects
	start := time.Now()
	resp, err = once.Do(req)
	elapsed := time.Since(start)
	if err != nil {
		c.log(ctx, slog.LevelDebug, "hipopay: request",
			slog.String("method", cl.method), slog.String("path", path), slog.Int("attempt", n),
			slog.Duration("duration", elapsed), slog.String("error", redactURLError(err).Error()))
		return nil, sig, connected, fmt.Errorf("hipopay: %s %s: %w", cl.method, cl.path, redactURLError(err))
	}
	c.log(ctx, slog.LevelDebug, "hipopay: request",
		slog.String("method", cl.method), slog.String("path", path), slog.Int("attempt", n),
		slog.Int("status", resp.StatusCode), slog.Duration("duration", elapsed))
	return resp, sig, true, nil
}

// shouldRetry decides whether an attempt's outcome may be retried under
// cl's policy, why, and what Retry-After asked for.
func (c *Client) shouldRetry(ctx context.Context, cl call, resp *http.Response, connected bool, err error) (bool, string, time.Duration) {
	if err != nil {
		// The caller's context ended: nothing more may be tried. A timeout
		// of the http.Client itself is retried like any network error.
		if ctx.Err() != nil {
			return false, "", 0
		}
		if !cl.resendable() && (connected || !neverSent(err)) {
			return false, "", 0
		}
		return true, err.Error(), 0
	}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
		return false, "", 0
	}
	if !cl.resendable() {
		return false, "", 0
	}
	// The wait is real time: an HTTP date is measured against the
	// answer's own Date, else the real clock (not WithClock's).
	now, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		now = time.Now()
	}
	return true, "HTTP " + strconv.Itoa(resp.StatusCode), parseRetryAfter(resp.Header.Get("Retry-After"), now)
}

// neverSent reports whether err proves the request never left: the
// connection could not be made at all (DNS failure, connection refused,
// dial timeout). Anything else may have reached HipoPay.
func neverSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// backoff is the delay before retry number attempt: exponential from the
// base (about 100 ms) with jitter, capped, or what Retry-After asked for.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, maxRetryAfter)
	}
	d := c.backoffBase << (attempt - 1)
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	// Jitter on top: between the exponential delay and half as much again,
	// still capped.
	return min(d+rand.N(d/2+1), maxBackoff)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// redactURLError drops the query string (the call's parameters) from the
// URL that net/http puts in its errors.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.RawQuery != "" {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

func (c *Client) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if c.logger == nil {
		return
	}
	c.logger.LogAttrs(ctx, level, msg, attrs...)
}

// readLimited reads all of r, failing if it holds more than limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return b[:limit], fmt.Errorf("answer larger than %d bytes", limit)
	}
	return b, nil
}

func drainAndClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, maxResponseBytes)
	_ = body.Close()
}

// snippet is a short, printable prefix of an unexpected body for errors.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > errorSnippetBytes {
		s = s[:errorSnippetBytes]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return strings.ToValidUTF8(s, "?")
}
