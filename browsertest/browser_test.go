package browsertest

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	hipopay "github.com/hipopay-go/hipopay"
)

// chromiumPath finds Chromium: HIPOPAY_CHROMIUM, /usr/bin/chromium, or a
// chromium or Chrome on PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("HIPOPAY_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("HIPOPAY_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium: not at /usr/bin/chromium, no chromium or google-chrome on PATH, HIPOPAY_CHROMIUM unset " +
		"(install it with `apt-get install chromium`; .ci/browser.sh does)")
}

// browser is a headless Chromium tab and what it requested.
type browser struct {
	ctx context.Context
	t   *testing.T

	mu       sync.Mutex
	requests []string // every URL the page requested
}

// newBrowser starts headless Chromium with a fresh profile and a window of
// width × height (a phone's touch screen when mobile), for the rest of the
// test (at most limit). It skips the test when there is no Chromium.
func newBrowser(t *testing.T, width, height int, mobile bool, limit time.Duration) *browser {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		t.Skip(err.Error())
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	b := &browser{t: t}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), limit)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf), chromedp.WithListener(b.listen))
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancelTimeout() })
	b.ctx = bctx
	var viewport []chromedp.EmulateViewportOption
	if mobile {
		viewport = append(viewport, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	enableNetwork := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{})
		return err
	})
	if err := chromedp.Do(bctx, enableNetwork, chromedp.EmulateViewport(int64(width), int64(height), viewport...)); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	return b
}

// listen records the URL of every request the page sends.
func (b *browser) listen(ev any) {
	if e, ok := ev.(*network.EventRequestWillBeSent); ok {
		b.mu.Lock()
		b.requests = append(b.requests, e.Request.URL)
		b.mu.Unlock()
	}
}

// run runs chromedp actions, failing the test with the page's text on error.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\nthe page says:\n%s", what, err, b.pageText())
	}
}

// eval evaluates a JavaScript expression in the page into out's type.
func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %v\nthe page says:\n%s", what, err, b.pageText())
	}
	return v
}

// pageText is the page's visible text (for failure messages).
func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// waitFor waits until the JavaScript expression is true in the page.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.t.Fatalf("waiting for %s: %v\nthe page says:\n%s", what, err, b.pageText())
	}
}

// text returns the innerText of the first element matching the CSS
// selector, "" when there is none.
func (b *browser) text(selector string) string {
	b.t.Helper()
	return eval[string](b, "reading "+selector,
		`(() => { const e = document.querySelector(`+js(selector)+`); return e ? e.innerText : ""; })()`)
}

// click presses a dashboard button like a user: a mouse click on it.
func (b *browser) click(action, paymentNo string) {
	b.t.Helper()
	sel := `button[data-action="` + action + `"][data-payment-no="` + paymentNo + `"]:not([disabled])`
	b.run("pressing "+action+" for "+paymentNo, chromedp.Click(chromedp.CSS(sel)))
}

// requested returns every URL the page requested so far.
func (b *browser) requested() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}

// orderSel is the CSS selector of an order's row; deliverySel that of a
// delivery attempt of its notification.
func orderSel(paymentNo string) string { return `#orders-body tr[data-payment-no="` + paymentNo + `"]` }

func deliverySel(paymentNo string, attempt int) string {
	return `[data-deliveries-for="` + paymentNo + `"] tr[data-attempt="` + strconv.Itoa(attempt) + `"]`
}

// js quotes a selector for a JavaScript expression.
func js(selector string) string { return strconv.Quote(selector) }

// exists is a JavaScript expression: the selector matches an element
// whose text contains every one of want.
func exists(selector string, want ...string) string {
	cond := `const e = document.querySelector(` + js(selector) + `); if (!e) return false; const t = e.innerText;`
	for _, w := range want {
		cond += ` if (!t.includes(` + strconv.Quote(w) + `)) return false;`
	}
	return `(() => { ` + cond + ` return true; })()`
}

// merchantServer is a merchant's notify_url: the SDK's notification
// handler (verifying with pub), whose processing fails, so that the
// handler answers HTTP 500, while failing is set.
type merchantServer struct {
	URL string

	mu       sync.Mutex
	failing  bool
	received int
}

func newMerchantServer(t *testing.T, pub *rsa.PublicKey) *merchantServer {
	t.Helper()
	m := &merchantServer{}
	handler := hipopay.NewNotificationHandler(pub, m.process)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.received++
		m.mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	m.URL = srv.URL + "/hipopay/notify"
	return m
}

func (m *merchantServer) process(context.Context, *hipopay.PaymentNotification) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing {
		return errors.New("the order database is down")
	}
	return nil
}

func (m *merchantServer) setFailing(f bool) { m.mu.Lock(); m.failing = f; m.mu.Unlock() }

func (m *merchantServer) count() int { m.mu.Lock(); defer m.mu.Unlock(); return m.received }
