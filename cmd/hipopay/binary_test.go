package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildCLI builds the hipopay command into a temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the command: not in -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	bin := filepath.Join(t.TempDir(), "hipopay")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// TestBuiltCLIAgainstMock builds the command, runs "hipopay mock" as its
// own process and drives it as a script would, reading exit statuses; a
// cross-site POST to the mock is refused while the CLI's own pay works.
func TestBuiltCLIAgainstMock(t *testing.T) {
	bin := buildCLI(t)
	mock := exec.Command(bin, "mock", "-addr", "127.0.0.1:0", "-retry", "1ms")
	mock.Env = append(os.Environ(), "HIPOPAY_BASE_URL=", "HIPOPAY_MERCHANT_NO=", "HIPOPAY_PRIVATE_KEY=", "HIPOPAY_SANDBOX=")
	stdout, err := mock.StdoutPipe()
	require.NoError(t, err)
	var mockErr syncBuffer
	mock.Stderr = &mockErr
	require.NoError(t, mock.Start())
	exited := make(chan error, 1)
	go func() { exited <- mock.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = mock.Process.Kill()
			<-exited
		}
	})

	// Read the banner.
	banner := map[string]string{}
	lines := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`^(base URL|merchant number|merchant key|HipoPay key):\s+(\S+)`)
	for lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			banner[m[1]] = m[2]
		}
		if _, ok := banner["HipoPay key"]; ok {
			break
		}
	}
	require.Len(t, banner, 4, "mock banner; stderr: %s", mockErr.String())
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	base := banner["base URL"]

	env := append(os.Environ(), "HIPOPAY_BASE_URL="+base, "HIPOPAY_MERCHANT_NO="+banner["merchant number"],
		"HIPOPAY_PRIVATE_KEY="+banner["merchant key"], "HIPOPAY_SANDBOX=")
	hipopay := func(args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), out.String(), errOut.String()
		}
		require.NoError(t, err)
		return 0, out.String(), errOut.String()
	}
	place := func(outTradeID string) string {
		t.Helper()
		code, out, errOut := hipopay("place-order", "-out-trade-id", outTradeID, "-amount", "8.88", "-currency", "HKD",
			"-product-info", "tea", "-appid", "wx1", "-openid", "o1", "-client-ip", "127.0.0.1")
		require.Equal(t, 0, code, errOut)
		var p map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &p))
		return p["payment_no"].(string)
	}

	paymentNo := place("BIN-1")
	code, out, errOut := hipopay("pay", paymentNo)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"status": "PAID"`)
	code, out, errOut = hipopay("refund", "-payment-no", paymentNo, "-out-refund-id", "BIN-R1", "-amount", "1.00")
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"status": "SUCCESS"`)
	code, out, errOut = hipopay("refund", "-payment-no", paymentNo, "-out-refund-id", "BIN-R2", "-amount", "100.00")
	assert.Equal(t, 3, code, errOut)
	assert.Contains(t, out, `"status": "FAIL"`)
	code, _, errOut = hipopay("payment", "-payment-no", "nope")
	assert.Equal(t, 3, code)
	assert.Contains(t, errOut, "PAYMENT_NOT_FOUND")
	code, _, errOut = hipopay("refund")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "missing -payment-no, -out-refund-id")
	code, _, _ = hipopay("pay", paymentNo) // already paid: the mock refuses
	assert.Equal(t, 1, code)

	// A web page's form POST to the mock: refused, nothing paid.
	second := place("BIN-2")
	req, err := http.NewRequest(http.MethodPost, base+"_mock/pay", strings.NewReader("payment_no="+second))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s", body)
	code, out, _ = hipopay("payment", "-payment-no", second)
	require.Equal(t, 0, code)
	assert.Contains(t, out, `"status": "INIT"`)
	code, out, errOut = hipopay("pay", second)
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"status": "PAID"`)

	// An interrupt stops the mock with status 0.
	require.NoError(t, mock.Process.Signal(os.Interrupt))
	select {
	case err := <-exited:
		stopped = true
		assert.NoError(t, err, mockErr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the mock did not stop on an interrupt")
	}
}

// TestGitIgnoresPrivateKeys: the private keys the tools write are ignored
// by git, the repository's test keys are not.
func TestGitIgnoresPrivateKeys(t *testing.T) {
	gitTool, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git on PATH")
	}
	root, err := exec.Command(gitTool, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not in a git work tree")
	}
	ignored := func(path string) bool {
		cmd := exec.Command(gitTool, "check-ignore", "-q", "--no-index", path)
		cmd.Dir = strings.TrimSpace(string(root))
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			return false
		}
		require.NoError(t, err, path)
		return true
	}
	for _, p := range []string{"private.pem", "keys/private.pem", "merchant-keys/private.pem", "mockkeys/merchant_private.pem",
		"cmd/hipopay/private.pem", "private.key", "shop/private.key"} {
		assert.True(t, ignored(p), "%s must be ignored", p)
	}
	for _, p := range []string{"testdata/merchant_private_pkcs1.pem", "testdata/merchant_private_pkcs8.pem", "testdata/fake_hipopay_private.pem",
		"integration/testdata/fake_hipopay_private.pem", "keys/hipopay_sandbox_callback_public.pem", "public.pem", "hipopay_public.pem"} {
		assert.False(t, ignored(p), "%s must stay tracked", p)
	}
}
