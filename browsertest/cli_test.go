package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildCLI builds cmd/hipopay of the SDK in this checkout (the replace
// directive) into a temporary directory.
func buildCLI(t *testing.T, ctx context.Context) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds the hipopay CLI")
	bin := filepath.Join(t.TempDir(), "hipopay")
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "github.com/hipopay-go/hipopay/cmd/hipopay").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// mockBanner is what `hipopay mock` says on start.
type mockBanner struct {
	baseURL, dashboard, merchantNo, keyPath string
}

// startMock runs `hipopay mock` on a free port until the test ends (then
// interrupts it and checks that it stopped cleanly) and reads its banner.
func startMock(t *testing.T, bin string, args ...string) mockBanner {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"mock", "-addr", "127.0.0.1:0", "-keyout", t.TempDir()}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	rest := &lockedBuffer{}
	banner := make(chan map[string]string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		fields, found := map[string]string{}, banner
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			_, _ = rest.Write([]byte(line + "\n"))
			for _, name := range []string{"base URL", "dashboard", "merchant number", "merchant key"} {
				if v, ok := strings.CutPrefix(line, name+":"); ok {
					fields[name] = strings.TrimSpace(v)
				}
			}
			if strings.HasPrefix(line, "export ") && found != nil {
				found <- fields
				found = nil
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt) // the process this test started
		done := make(chan error, 1)
		go func() { <-copied; done <- cmd.Wait() }()
		select {
		case err := <-done:
			assert.NoError(t, err, "hipopay mock exits cleanly on an interrupt; stderr: %s", stderr.String())
			assert.Contains(t, rest.String(), "stopping")
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("hipopay mock did not stop on an interrupt")
		}
	})
	select {
	case f := <-banner:
		return mockBanner{baseURL: f["base URL"], dashboard: f["dashboard"], merchantNo: f["merchant number"], keyPath: f["merchant key"]}
	case <-time.After(30 * time.Second):
		t.Fatalf("hipopay mock printed no banner; stdout:\n%s\nstderr:\n%s", rest.String(), stderr.String())
	}
	return mockBanner{}
}

// TestDashboardWithCLIMock runs the built `hipopay mock`, whose banner
// names the dashboard, places an order with the CLI, finds it in the page
// as Chromium renders it, pays it with `hipopay pay` and redelivers its
// notification with the curl form of the button (POST _mock/redeliver).
func TestDashboardWithCLIMock(t *testing.T) {
	b := newBrowser(t, 1280, 900, false, 100*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	bin := buildCLI(t, ctx)
	notify := httptestSuccess(t)
	m := startMock(t, bin, "-retry", "1h")
	require.NotEmpty(t, m.baseURL)
	assert.Equal(t, m.baseURL+"_mock/dashboard", m.dashboard, "the banner names the dashboard")

	cli := func(args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "HIPOPAY_BASE_URL="+m.baseURL, "HIPOPAY_MERCHANT_NO="+m.merchantNo, "HIPOPAY_PRIVATE_KEY="+m.keyPath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "hipopay %s: %s", strings.Join(args, " "), stderr.String())
		return out
	}
	var placed struct {
		PaymentNo  string `json:"payment_no"`
		OutTradeID string `json:"out_trade_id"`
		Status     string `json:"status"`
	}
	out := cli("place-order", "-out-trade-id", "CLI-ORDER-7", "-amount", "8.88", "-currency", "HKD", "-product-info", "test",
		"-appid", "wx1", "-openid", "o1", "-client-ip", "127.0.0.1", "-notify-url", notify.url)
	require.NoError(t, json.Unmarshal(out, &placed), "%s", out)
	require.NotEmpty(t, placed.PaymentNo)

	b.run("opening the dashboard", chromedp.Navigate(m.dashboard))
	b.waitFor("the CLI's order", exists(orderSel(placed.PaymentNo), "CLI-ORDER-7", "8.88 HKD", "INIT"))
	assert.Contains(t, b.text(".banner"), "fake HipoPay, not for real money")

	cli("pay", placed.PaymentNo)
	b.waitFor("the order paid", exists(orderSel(placed.PaymentNo), "PAID"))
	b.waitFor("its delivery", exists(deliverySel(placed.PaymentNo, 1), "200 OK", "success"))

	// The redeliver button's curl form: POST _mock/redeliver?payment_no=N.
	resp, err := http.Post(m.baseURL+"_mock/redeliver?payment_no="+placed.PaymentNo, "", nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), `"is_success":true`)
	b.waitFor("the redelivery", exists(deliverySel(placed.PaymentNo, 2), "2 (redeliver)", "200 OK", "success"))
	assert.Equal(t, 2, notify.count())
}

// successServer is a notify_url that answers "success" and counts.
type successServer struct {
	url string
	mu  sync.Mutex
	n   int
}

func (s *successServer) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

func httptestSuccess(t *testing.T) *successServer {
	t.Helper()
	s := &successServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.n++
		s.mu.Unlock()
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/notify"
	return s
}
