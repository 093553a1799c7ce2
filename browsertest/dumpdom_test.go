//go:build unix

package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dumpDOM runs Chromium as a plain process, as a one-line check would:
// chromium --headless --no-sandbox --disable-gpu [extra...] --dump-dom URL,
// and returns what it prints (the DOM after the page loaded). Its profile
// goes to a temporary HOME so that it shares nothing with another
// Chromium. It fails the test when Chromium has not finished within limit.
func dumpDOM(t *testing.T, url string, limit time.Duration, extra ...string) string {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		t.Skip(err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	args := append(append([]string{"--headless", "--no-sandbox", "--disable-gpu"}, extra...), "--dump-dom", url)
	cmd := exec.CommandContext(ctx, path, args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home+"/.config", "XDG_CACHE_HOME="+home+"/.cache")
	// Chromium's own processes (renderer, GPU, ...) are in its process
	// group: on the time limit, the whole group started here goes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("chromium %s did not finish within %s; it printed %d bytes; stderr ends:\n%s", strings.Join(args, " "), limit, stdout.Len(), tail(stderr.String(), 2000))
	}
	require.NoError(t, err, "chromium %s; stderr ends:\n%s", strings.Join(args, " "), tail(stderr.String(), 2000))
	t.Logf("chromium %s: %d bytes in %s", strings.Join(args, " "), stdout.Len(), time.Since(start).Round(time.Millisecond))
	return stdout.String()
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// TestDashboardDumpDOMWithCLIMock is the acceptance check: the built
// `hipopay mock` (whose banner names the dashboard), an order placed with
// `hipopay place-order`, and the page as headless Chromium prints it with
// --dump-dom, at once and with --virtual-time-budget (which never ends
// while the page holds a request open). Both show the order.
func TestDashboardDumpDOMWithCLIMock(t *testing.T) {
	if _, err := chromiumPath(); err != nil {
		t.Skip(err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	bin := buildCLI(t, ctx)
	m := startMock(t, bin)
	require.NotEmpty(t, m.dashboard, "the banner names the dashboard")

	cmd := exec.CommandContext(ctx, bin, "place-order", "-out-trade-id", "DUMP-ORDER-42", "-amount", "12.34", "-currency", "HKD",
		"-product-info", "test", "-appid", "wx1", "-openid", "o1", "-client-ip", "127.0.0.1")
	cmd.Env = append(os.Environ(), "HIPOPAY_BASE_URL="+m.baseURL, "HIPOPAY_MERCHANT_NO="+m.merchantNo, "HIPOPAY_PRIVATE_KEY="+m.keyPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "hipopay place-order: %s", stderr.String())
	var placed struct {
		PaymentNo string `json:"payment_no"`
	}
	require.NoError(t, json.Unmarshal(out, &placed), "%s", out)
	require.NotEmpty(t, placed.PaymentNo)

	for _, c := range []struct {
		name  string
		extra []string
		live  string // what #live says: the server's words, or the script's after its first poll
	}{
		{"at once", nil, ""},
		{"with --virtual-time-budget=3000", []string{"--virtual-time-budget=3000"}, "live (updated every second)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dom := dumpDOM(t, m.dashboard, 30*time.Second, c.extra...)
			if c.live != "" {
				assert.Contains(t, dom, `<span id="live" role="status">`+c.live+`</span>`, "the script polled and the page settled")
			}
			assert.Contains(t, dom, "DUMP-ORDER-42", "the order's out_trade_id is in the page")
			assert.Contains(t, dom, placed.PaymentNo, "its payment_no too")
			assert.Contains(t, dom, "12.34 HKD")
			assert.Contains(t, dom, "fake HipoPay, not for real money")
			assert.NotContains(t, dom, "Loading…")
		})
	}
}
