package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExitStatusIsDocumented: "hipopay -h", every "hipopay COMMAND -h" and
// the README name the four exit statuses.
func TestExitStatusIsDocumented(t *testing.T) {
	want := []string{"Exit status: 0 done; 1 error", "2 usage", "3 HipoPay\nanswered but refused"}
	code, out, _ := runCLI(t, "-h")
	require.Equal(t, 0, code)
	for _, w := range want {
		assert.Contains(t, out, w)
	}
	assert.Contains(t, out, "go install github.com/hipopay-go/hipopay/cmd/hipopay@latest")
	for name := range commands() {
		code, _, errOut := runCLI(t, name, "-h")
		require.Equal(t, 0, code, name)
		for _, w := range want {
			assert.Contains(t, errOut, w, name)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, w := range []string{"go install github.com/hipopay-go/hipopay/cmd/hipopay@latest", "| 0 |", "| 1 |", "| 2 |", "| 3 |"} {
		assert.True(t, strings.Contains(string(readme), w), "README.md lacks %q", w)
	}
	assert.False(t, strings.Contains(string(readme), "go run ./cmd/hipopay"), "the README shows the installed form, hipopay ...")
	assert.False(t, strings.Contains(string(readme), "keygen -out keys/"), "never a key directory inside the module")
}

// TestMissingFlagsReportedAtOnce: every missing required flag is listed in
// one error line, with exit status 2, before anything is sent.
func TestMissingFlagsReportedAtOnce(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"place-order"}, "missing -out-trade-id, -amount, -currency, -product-info, -appid, -openid, -client-ip, -merchant (or HIPOPAY_MERCHANT_NO), -key (or HIPOPAY_PRIVATE_KEY)"},
		{[]string{"place-order", "-amount", "8.88", "-appid", "wx1", "-merchant", "M1"}, "missing -out-trade-id, -currency, -product-info, -openid, -client-ip, -key (or HIPOPAY_PRIVATE_KEY)"},
		{[]string{"payment", "-key", "k.pem"}, "missing -payment-no or -out-trade-id, -merchant (or HIPOPAY_MERCHANT_NO)"},
		{[]string{"forex-rate"}, "missing -currency, -merchant (or HIPOPAY_MERCHANT_NO), -key (or HIPOPAY_PRIVATE_KEY)"},
		{[]string{"refund", "-amount", "1.00"}, "missing -payment-no, -out-refund-id, -merchant"},
		{[]string{"refund-status"}, "missing -refund-no or -out-refund-id, -merchant"},
		{[]string{"declare", "-customs", "SHENZHEN"}, "missing -out-order-no, -payment-no, -mch-customs-no, -sub-order-no, -sub-order-amount, -transport-amount, -product-amount, -merchant"},
		{[]string{"redeclare"}, "missing -payment-no or -out-order-no or -sub-order-no, -customs, -mch-customs-no, -merchant"},
		{[]string{"declaration"}, "missing -payment-no or -out-order-no or -sub-order-no, -customs, -merchant"},
		{[]string{"bill", "-format", "xml"}, "missing -start, -merchant (or HIPOPAY_MERCHANT_NO), -key (or HIPOPAY_PRIVATE_KEY); -format \"xml\": want raw, csv or jsonl"},
		{[]string{"bill", "-start", "2019-01-01", "-merchant", "M", "-key", "k"}, `-start "2019-01-01" is not YYYYMMDD`},
		{[]string{"sign"}, "missing -key"},
		{[]string{"verify-notification"}, "missing -timestamp, -signature, the fields (-body FILE or name=value arguments)"},
		{[]string{"pay"}, "missing -base-url (or HIPOPAY_BASE_URL, the mock's base URL), PAYMENT_NO"},
		{[]string{"keygen", "-bits", "1024"}, "missing -dir; -bits 1024 is under 2048"},
		{[]string{"keygen", "-dir", "a", "-out", "b"}, `-dir "a" and -out "b" differ`},
		{[]string{"mock", "-retry", "soon", "-expiry", "-1s"}, `-expiry -1s is negative; -retry: "soon" is not a duration`},
		{[]string{"payment", "-payment-no", "x", "extra"}, `missing -merchant (or HIPOPAY_MERCHANT_NO), -key (or HIPOPAY_PRIVATE_KEY); unexpected arguments ["extra"]`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := runCLIWithin(t, 10e9, tc.args...)
			assert.Equal(t, 2, code, errOut)
			assert.Empty(t, out)
			first, _, _ := strings.Cut(errOut, "\n")
			assert.Equal(t, "hipopay "+tc.args[0]+": ", first[:len("hipopay "+tc.args[0]+": ")], "one error line first")
			assert.Contains(t, first, tc.want)
			assert.Equal(t, 1, strings.Count(errOut, "hipopay "+tc.args[0]+":"), "one error, not one per flag:\n%s", errOut)
			assert.Contains(t, errOut, "Usage: hipopay "+tc.args[0])
		})
	}
}

// TestExitStatuses: 0 done, 1 error, 2 usage, 3 HipoPay answered but
// refused, against a fake HipoPay.
func TestExitStatuses(t *testing.T) {
	clearEnv(t)
	s := hipopaytest.NewServer()
	t.Cleanup(s.Close)
	keyFile := writeKey(t, s)
	conn := []string{"-merchant", s.MerchantNo, "-key", keyFile, "-base-url", s.URL}
	cmd := func(name string, args ...string) []string { return append(append([]string{name}, conn...), args...) }
	placed := func(outTradeID string) string {
		t.Helper()
		code, out, errOut := runCLI(t, cmd("place-order", "-out-trade-id", outTradeID, "-amount", "8.88", "-currency", "HKD",
			"-product-info", "tea", "-appid", "wx1", "-openid", "o1", "-client-ip", "127.0.0.1")...)
		require.Equal(t, 0, code, errOut)
		var p map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &p))
		return p["payment_no"].(string)
	}
	paymentNo := placed("EXIT-1")
	require.NoError(t, s.Pay(paymentNo))

	// Another key than the one the fake knows: HipoPay refuses the signature.
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	otherKeyFile := filepath.Join(t.TempDir(), "other.pem")
	der, err := x509.MarshalPKCS8PrivateKey(otherKey)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(otherKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))

	// An address nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "http://" + l.Addr().String() + "/"
	require.NoError(t, l.Close())

	for _, tc := range []struct {
		name   string
		args   []string
		setup  func()
		code   int
		stdout string // a substring of standard output
		stderr string // a substring of standard error
	}{
		{"done", cmd("payment", "-payment-no", paymentNo), nil, 0, `"status": "PAID"`, ""},
		{"a partial refund", cmd("refund", "-payment-no", paymentNo, "-out-refund-id", "R1", "-amount", "1.00"), nil, 0, `"status": "SUCCESS"`, ""},

		{"unknown payment", cmd("payment", "-payment-no", "nope"), nil, 3, "", "hipopay payment: PAYMENT_NOT_FOUND: Order not found"},
		{"unknown payment by order number", cmd("payment", "-out-trade-id", "nope"), nil, 3, "", "PAYMENT_NOT_FOUND"},
		{"refund refused: FAIL", cmd("refund", "-payment-no", paymentNo, "-out-refund-id", "R2", "-amount", "100.00"), nil, 3, `"status": "FAIL"`, "result code 0008"},
		{"refund of an unpaid order", cmd("refund", "-payment-no", placed("EXIT-2"), "-out-refund-id", "R3"), nil, 3, `"result_code": "0004"`, "HipoPay refused the refund"},
		{"unsupported currency", cmd("forex-rate", "-currency", "XYZ"), nil, 3, "", "CURRENCY_NOT_SUPPORT"},
		{"signature refused", []string{"payment", "-merchant", s.MerchantNo, "-key", otherKeyFile, "-base-url", s.URL, "-payment-no", paymentNo}, nil, 3, "", "ILLEGAL_SECURITY_PROFILE"},
		{"unknown merchant", []string{"payment", "-merchant", "NOBODY", "-key", keyFile, "-base-url", s.URL, "-payment-no", paymentNo}, nil, 3, "", "ILLEGAL_SECURITY_PROFILE"},

		{"HipoPay down (5xx after the retries)", cmd("payment", "-payment-no", paymentNo), func() { s.FailNext("GET payment", http.StatusServiceUnavailable, 3) }, 1, "", "HTTP 503"},
		{"nobody listening", []string{"payment", "-merchant", s.MerchantNo, "-key", keyFile, "-base-url", closedURL, "-payment-no", "x"}, nil, 1, "", "connection refused"},
		{"no such key file", []string{"payment", "-merchant", s.MerchantNo, "-key", filepath.Join(t.TempDir(), "nope.pem"), "-base-url", s.URL, "-payment-no", "x"}, nil, 1, "", "nope.pem"},

		{"unknown flag", cmd("payment", "-frobnicate"), nil, 2, "", "flag provided but not defined"},
		{"an amount the SDK refuses before sending", cmd("refund", "-payment-no", paymentNo, "-out-refund-id", "R4", "-amount", "1.234"), nil, 2, "", "refund_amount"},
		{"a malformed order", cmd("place-order", "-out-trade-id", "EXIT-3", "-amount", "abc", "-currency", "HKD", "-product-info", "tea",
			"-appid", "wx1", "-openid", "o1", "-client-ip", "127.0.0.1"), nil, 2, "", "invalid amount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			code, out, errOut := runCLIWithin(t, 30e9, tc.args...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			assert.Contains(t, out, tc.stdout)
			assert.Contains(t, errOut, tc.stderr)
			assert.NotContains(t, errOut, ": hipopay: ", "the prefix is not repeated")
		})
	}
}

// TestKeygenDir: keygen writes into -dir, refuses to overwrite, and warns
// when the directory is inside a git repository.
func TestKeygenDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "merchant keys")
	code, out, errOut := runCLI(t, "keygen", "-dir", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, filepath.Join(dir, "private.pem"))
	assert.Empty(t, errOut)
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "a directory it makes is the owner's alone")

	priv, err := os.ReadFile(filepath.Join(dir, "private.pem"))
	require.NoError(t, err)
	code, _, errOut = runCLI(t, "keygen", "-dir", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, filepath.Join(dir, "private.pem")+" exists (use -force to overwrite)")
	again, err := os.ReadFile(filepath.Join(dir, "private.pem"))
	require.NoError(t, err)
	assert.Equal(t, priv, again, "left as it was")

	// An existing public.pem alone is not overwritten either.
	dir2 := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir2, "public.pem"), []byte("mine"), 0o644))
	code, _, errOut = runCLI(t, "keygen", "-dir", dir2)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "public.pem exists")
	b, err := os.ReadFile(filepath.Join(dir2, "public.pem"))
	require.NoError(t, err)
	assert.Equal(t, "mine", string(b))

	// Inside a git work tree: written, with a warning.
	repo := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(repo, ".git"), 0o755))
	code, _, errOut = runCLI(t, "keygen", "-dir", filepath.Join(repo, "keys"))
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "warning: ")
	assert.Contains(t, errOut, "inside the git repository "+repo)
}
