package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testdata = "../../testdata/"

// runCLI runs a command line and returns its exit status and outputs.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runContext(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// clearEnv keeps the developer's HIPOPAY_* variables out of a test.
func clearEnv(t *testing.T) {
	for _, k := range []string{"HIPOPAY_MERCHANT_NO", "HIPOPAY_PRIVATE_KEY", "HIPOPAY_BASE_URL", "HIPOPAY_SANDBOX", "HIPOPAY_CERT_ID", "HIPOPAY_BUYER_NAME"} {
		t.Setenv(k, "")
	}
}

type vectors struct {
	Key   string `json:"key"`
	Cases []struct {
		Name         string      `json:"name"`
		Timestamp    string      `json:"timestamp"`
		Params       [][2]string `json:"params"`
		StringToSign string      `json:"string_to_sign"`
		Signature    string      `json:"signature"`
	} `json:"cases"`
}

func loadVectors(t *testing.T, name string) vectors {
	t.Helper()
	b, err := os.ReadFile(testdata + name)
	require.NoError(t, err)
	var v vectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Cases)
	return v
}

func pairs(params [][2]string) []string {
	var out []string
	for _, p := range params {
		out = append(out, p[0]+"="+p[1])
	}
	return out
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

func TestSignVectors(t *testing.T) {
	clearEnv(t)
	vf := loadVectors(t, "request_signing_vectors.json")
	for _, keyFile := range []string{"merchant_private_pkcs1.pem", "merchant_private_pkcs8.pem"} {
		for _, tc := range vf.Cases {
			t.Run(keyFile+"/"+tc.Name, func(t *testing.T) {
				args := append([]string{"sign", "-key", testdata + keyFile, "-timestamp", tc.Timestamp}, pairs(tc.Params)...)
				code, out, errOut := runCLI(t, args...)
				require.Equal(t, 0, code, errOut)
				l := lines(out)
				require.Len(t, l, 2)
				assert.Equal(t, tc.StringToSign, l[0])
				assert.Equal(t, tc.Signature, l[len(l)-1])
			})
		}
	}
}

func TestSignUsage(t *testing.T) {
	clearEnv(t)
	code, _, errOut := runCLI(t, "sign", "amount=1")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "missing -key")
	code, _, _ = runCLI(t, "sign", "-key", testdata+"merchant_private_pkcs8.pem", "novalue")
	assert.Equal(t, 2, code)
	code, _, errOut = runCLI(t, "sign", "-key", testdata+"nope.pem", "a=1")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "nope.pem")
	// The default timestamp is now.
	code, out, _ := runCLI(t, "sign", "-key", testdata+"merchant_private_pkcs8.pem", "a=b c")
	require.Equal(t, 0, code)
	assert.Regexp(t, `^a=b%20c,\d{10}$`, lines(out)[0])
}

func TestKeygen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	code, out, errOut := runCLI(t, "keygen", "-out", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, filepath.Join(dir, "private.pem"))

	privPEM, err := os.ReadFile(filepath.Join(dir, "private.pem"))
	require.NoError(t, err)
	block, _ := pem.Decode(privPEM)
	require.NotNil(t, block)
	assert.Equal(t, "PRIVATE KEY", block.Type, "PKCS#8, as OpenSSL 3 writes")
	_, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	st, err := os.Stat(filepath.Join(dir, "private.pem"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	priv, err := hipopay.LoadPrivateKey(filepath.Join(dir, "private.pem"))
	require.NoError(t, err)
	pub, err := hipopay.LoadPublicKey(filepath.Join(dir, "public.pem"))
	require.NoError(t, err)
	assert.True(t, pub.Equal(&priv.PublicKey))
	assert.Equal(t, 2048, priv.N.BitLen())
	pubPEM, err := os.ReadFile(filepath.Join(dir, "public.pem"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(pubPEM), "-----BEGIN PUBLIC KEY-----"))

	// Never overwritten by accident.
	code, _, errOut = runCLI(t, "keygen", "-out", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "exists")
	code, _, _ = runCLI(t, "keygen", "-out", dir, "-force")
	assert.Equal(t, 0, code)
	again, err := hipopay.LoadPrivateKey(filepath.Join(dir, "private.pem"))
	require.NoError(t, err)
	assert.False(t, again.Equal(priv))

	code, _, _ = runCLI(t, "keygen")
	assert.Equal(t, 2, code)
	code, _, _ = runCLI(t, "keygen", "-out", dir, "-bits", "1024")
	assert.Equal(t, 2, code)
}

func TestVerifyNotification(t *testing.T) {
	vf := loadVectors(t, "notification_vectors.json")
	pubkey := testdata + "fake_hipopay_public.pem"
	for _, tc := range vf.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			args := append([]string{"verify-notification", "-pubkey", pubkey, "-timestamp", tc.Timestamp, "-signature", tc.Signature}, pairs(tc.Params)...)
			code, out, errOut := runCLI(t, args...)
			require.Equal(t, 0, code, errOut)
			assert.Equal(t, []string{tc.StringToSign, "signature OK"}, lines(out))

			// The same as a captured body.
			form := url.Values{}
			for _, p := range tc.Params {
				form.Add(p[0], p[1])
			}
			body := filepath.Join(t.TempDir(), "body")
			require.NoError(t, os.WriteFile(body, []byte(form.Encode()+"\n"), 0o600))
			code, _, errOut = runCLI(t, "verify-notification", "-pubkey", pubkey, "-timestamp", tc.Timestamp, "-signature", tc.Signature, "-body", body)
			assert.Equal(t, 0, code, errOut)

			// Another timestamp, or HipoPay's real keys: invalid.
			args[4] = tc.Timestamp + "0"
			code, _, errOut = runCLI(t, args...)
			assert.Equal(t, 1, code)
			assert.Contains(t, errOut, "signature INVALID")
			code, _, errOut = runCLI(t, "verify-notification", "-sandbox", "-timestamp", tc.Timestamp, "-signature", tc.Signature, "-body", body)
			assert.Equal(t, 1, code)
			assert.NotContains(t, errOut, tc.Signature, "the signature is not repeated")
		})
	}
	code, _, _ := runCLI(t, "verify-notification", "-timestamp", "1")
	assert.Equal(t, 2, code)
	code, _, _ = runCLI(t, "verify-notification", "-sandbox", "-production", "-timestamp", "1", "-signature", "x", "a=b")
	assert.Equal(t, 2, code)
}

// HipoPay's own signed notifications verify; re-cut (payment_no swallows
// settle_currency: the same signed string, other fields) they are refused,
// as a body and as name=value arguments.
func TestVerifyNotificationRealAndRecut(t *testing.T) {
	b, err := os.ReadFile(testdata + "real_notifications.json")
	require.NoError(t, err)
	var file struct {
		Cases []struct {
			Name      string      `json:"name"`
			Key       string      `json:"key"`
			Timestamp string      `json:"timestamp"`
			Signature string      `json:"signature"`
			Fields    [][2]string `json:"fields"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &file))
	require.Len(t, file.Cases, 2)
	for _, tc := range file.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			verify := func(body string, fields [][2]string) (codes [2]int, outs [2]string) {
				path := filepath.Join(t.TempDir(), "body")
				require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
				head := []string{"verify-notification", "-" + tc.Key, "-timestamp", tc.Timestamp, "-signature", tc.Signature}
				codes[0], outs[0], _ = runCLI(t, append(head, "-body", path)...)
				codes[1], outs[1], _ = runCLI(t, append(head, pairs(fields)...)...)
				return codes, outs
			}
			encode := func(fields [][2]string) string {
				var parts []string
				for _, p := range fields {
					parts = append(parts, url.QueryEscape(p[0])+"="+url.QueryEscape(p[1]))
				}
				return strings.Join(parts, "&")
			}
			codes, outs := verify(encode(tc.Fields), tc.Fields)
			assert.Equal(t, [2]int{0, 0}, codes)
			for _, out := range outs {
				assert.Contains(t, out, "signature OK")
			}

			var settle string
			var recut [][2]string
			for _, p := range tc.Fields {
				if p[0] == "settle_currency" {
					settle = p[1]
				}
			}
			require.NotEmpty(t, settle)
			for _, p := range tc.Fields {
				switch p[0] {
				case "settle_currency":
				case "payment_no":
					recut = append(recut, [2]string{p[0], p[1] + "&settle_currency=" + settle})
				default:
					recut = append(recut, p)
				}
			}
			codes, outs = verify(encode(recut), recut)
			assert.Equal(t, [2]int{1, 1}, codes, "a re-cut notification is refused")
			for _, out := range outs {
				assert.NotContains(t, out, "signature OK")
			}
		})
	}
}

func TestUsage(t *testing.T) {
	code, out, _ := runCLI(t, "-h")
	assert.Equal(t, 0, code)
	for name := range commands() {
		assert.Contains(t, out, name)
	}
	code, _, errOut := runCLI(t)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "Usage")
	code, _, errOut = runCLI(t, "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)
	code, _, errOut = runCLI(t, "payment", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "-out-trade-id")
}

// writeKey writes a private key as PKCS#8 PEM.
func writeKey(t *testing.T, s *hipopaytest.Server) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(s.MerchantKey)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "merchant.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return path
}

// TestAPICommands calls every endpoint's command against a fake HipoPay.
func TestAPICommands(t *testing.T) {
	clearEnv(t)
	s := hipopaytest.NewServer()
	t.Cleanup(s.Close)
	conn := []string{"-merchant", s.MerchantNo, "-key", writeKey(t, s), "-base-url", s.URL}
	call := func(cmd string, args ...string) map[string]any {
		t.Helper()
		code, out, errOut := runCLI(t, append(append([]string{cmd}, conn...), args...)...)
		require.Equal(t, 0, code, errOut)
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		return v
	}

	p := call("place-order", "-out-trade-id", "CLI-1", "-amount", "8.88", "-currency", "HKD", "-product-info", "Matcha latte",
		"-appid", "wx3zzzzzzz4", "-openid", "o1", "-client-ip", "127.0.0.1")
	assert.Equal(t, "INIT", p["status"])
	paymentNo := p["payment_no"].(string)
	pp := p["prepay_params"].(map[string]any)
	assert.Equal(t, "prepay_id="+pp["prepay_id"].(string), pp["wx_request_payment"].(map[string]any)["package"])
	assert.Equal(t, "INIT", call("payment", "-out-trade-id", "CLI-1")["status"])

	require.NoError(t, s.Pay(paymentNo))
	got := call("payment", "-payment-no", paymentNo)
	assert.Equal(t, "PAID", got["status"])
	assert.Equal(t, "1.0000000000", got["exchange_rate"]) // HKD order, HKD settlement
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, got["finish_time"])

	assert.Equal(t, "USD", call("forex-rate", "-currency", "USD")["currency"])

	r1 := call("refund", "-payment-no", paymentNo, "-out-refund-id", "CLI-R1", "-amount", "1.00")
	assert.Equal(t, "SUCCESS", r1["status"])
	assert.Equal(t, "0000", r1["result_code"])
	assert.Equal(t, "SUCCESS", call("refund-status", "-out-refund-id", "CLI-R1")["status"])
	// A refund HipoPay refuses is printed, with exit status 3.
	code, out, errOut := runCLI(t, append(append([]string{"refund"}, conn...), "-payment-no", paymentNo, "-out-refund-id", "CLI-R2", "-amount", "100.00")...)
	assert.Equal(t, 3, code, errOut)
	var r map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, "0008", r["result_code"])
	assert.Equal(t, "Payment refundable not enough.", r["result_message"])
	assert.Contains(t, errOut, "refused the refund: result code 0008")

	t.Setenv("HIPOPAY_CERT_ID", "510921199308772318")
	t.Setenv("HIPOPAY_BUYER_NAME", "Lisa")
	d := call("declare", "-out-order-no", "CLI-1", "-payment-no", paymentNo, "-customs", "SHENZHEN", "-mch-customs-no", "123456789BTW",
		"-sub-order-no", "CLI-1-A", "-sub-order-amount", "8.88", "-transport-amount", "1.00", "-product-amount", "7.88")
	assert.Equal(t, "SUBMITTED", d["state"])
	assert.Equal(t, "SAME", d["cert_check_result"])
	raw := d["raw_response"].(map[string]any)
	assert.Equal(t, paymentNo, raw["out_trade_no"])
	assert.Regexp(t, `^\d{14}$`, raw["modify_time"])
	assert.Equal(t, "SUCCESS", call("declaration", "-sub-order-no", "CLI-1-A", "-customs", "SHENZHEN")["state"])
	assert.Equal(t, "SUBMITTED", call("redeclare", "-payment-no", paymentNo, "-customs", "SHENZHEN", "-mch-customs-no", "123456789BTW")["state"])

	// The bill to a file, and to standard output.
	today := time.Now().In(hipopay.ChinaTimeZone()).Format("20060102")
	file := filepath.Join(t.TempDir(), "bill.txt")
	code, out, errOut = runCLI(t, append(append([]string{"bill"}, conn...), "-start", today, "-end", today, "-out", file)...)
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, out)
	assert.Empty(t, errOut, "no progress when stderr is not a terminal")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	bill := lines(string(b))
	require.Len(t, bill, 4)
	assert.Equal(t, hipopaytest.BillHeader, bill[1])
	assert.True(t, strings.HasPrefix(bill[2], "Collection via WeChat Pay,"))
	assert.True(t, strings.HasPrefix(bill[3], "Refund,"))
	code, out, _ = runCLI(t, append(append([]string{"bill"}, conn...), "-start", today)...)
	require.Equal(t, 0, code)
	assert.Equal(t, string(b), out)
	// Converted with the SDK's BillReader.
	code, out, errOut = runCLI(t, append(append([]string{"bill"}, conn...), "-start", today, "-format", "csv")...)
	require.Equal(t, 0, code, errOut)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.Equal(t, "Currency", rows[0][18])
	assert.Equal(t, []string{"Collection via WeChat Pay", paymentNo, "CLI-1", "8.79", "", "8.79", "8.88", "1", "0.09", "HKD"},
		[]string{rows[1][0], rows[1][2], rows[1][3], rows[1][4], rows[1][5], rows[1][6], rows[1][7], rows[1][8], rows[1][9], rows[1][18]})
	// A refund line names the refund by its refund_no and leaves External
	// order No. empty, as the reference's sample does.
	assert.Equal(t, []string{"Refund", r1["refund_no"].(string), "", "-0.99", "1.00", paymentNo, "CLI-1"},
		[]string{rows[2][0], rows[2][2], rows[2][3], rows[2][5], rows[2][10], rows[2][11], rows[2][12]})
	code, out, errOut = runCLI(t, append(append([]string{"bill"}, conn...), "-start", today, "-format", "jsonl", "-out", file)...)
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, out)
	b, err = os.ReadFile(file)
	require.NoError(t, err)
	jl := lines(string(b))
	require.Len(t, jl, 2)
	var first map[string]any
	require.NoError(t, json.Unmarshal([]byte(jl[0]), &first))
	assert.Equal(t, map[string]any{"value": "8.79", "currency": "HKD"}, first["credit"])
	assert.Equal(t, paymentNo, first["order_no"])
	assert.NotContains(t, first, "debit", "empty cells are left out")
	code, _, _ = runCLI(t, append(append([]string{"bill"}, conn...), "-start", today, "-format", "xml")...)
	assert.Equal(t, 2, code)

	code, _, errOut = runCLI(t, append(append([]string{"bill"}, conn...), "-start", "2019-01-01")...)
	assert.Equal(t, 2, code, errOut)

	// HipoPay's business errors: exit 3, the code on stderr.
	code, _, errOut = runCLI(t, append(append([]string{"payment"}, conn...), "-payment-no", "nope")...)
	assert.Equal(t, 3, code)
	assert.Contains(t, errOut, "PAYMENT_NOT_FOUND")
	code, _, errOut = runCLI(t, append(append([]string{"forex-rate"}, conn...), "-currency", "XYZ")...)
	assert.Equal(t, 3, code)
	assert.Contains(t, errOut, "CURRENCY_NOT_SUPPORT")
	// Usage errors: exit 2.
	code, _, _ = runCLI(t, append([]string{"payment"}, conn...)...)
	assert.Equal(t, 2, code)
	code, _, errOut = runCLI(t, "payment", "-payment-no", "x")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "HIPOPAY_MERCHANT_NO")

	// The environment instead of flags.
	t.Setenv("HIPOPAY_MERCHANT_NO", s.MerchantNo)
	t.Setenv("HIPOPAY_PRIVATE_KEY", conn[3])
	t.Setenv("HIPOPAY_BASE_URL", s.URL)
	code, out, errOut = runCLI(t, "payment", "-payment-no", paymentNo)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"status": "PAID"`)
	t.Setenv("HIPOPAY_SANDBOX", "maybe")
	code, _, errOut = runCLI(t, "payment", "-payment-no", paymentNo)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "HIPOPAY_SANDBOX")
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMock runs "hipopay mock" in-process, then completes a payment by
// hand with the CLI against it.
func TestMock(t *testing.T) {
	clearEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- runContext(ctx, []string{"mock", "-addr", "127.0.0.1:0", "-retry", "1ms,1ms"}, &stdout, &stderr)
	}()

	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `:\s+(\S+)`).FindStringSubmatch(stdout.String())
		if m == nil {
			return ""
		}
		return m[1]
	}
	require.Eventually(t, func() bool { return field("HipoPay key") != "" }, 20*time.Second, 10*time.Millisecond, stderr.String())
	base, merchant, keyPath := field("base URL"), field("merchant number"), field("merchant key")
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/$`, base)
	st, err := os.Stat(keyPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	hipopayKey, err := hipopay.LoadPublicKey(field("HipoPay key"))
	require.NoError(t, err)

	// A merchant server receiving the notification.
	received := make(chan url.Values, 4)
	notify := newNotifyServer(t, hipopayKey, received)

	conn := []string{"-merchant", merchant, "-key", keyPath, "-base-url", base}
	code, out, errOut := runCLI(t, append(append([]string{"place-order"}, conn...), "-out-trade-id", "MOCK-1", "-amount", "1200",
		"-currency", "JPY", "-product-info", "抹茶ラテ", "-appid", "wx1", "-openid", "o1", "-client-ip", "127.0.0.1", "-notify-url", notify)...)
	require.Equal(t, 0, code, errOut)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	paymentNo := p["payment_no"].(string)

	code, out, errOut = runCLI(t, "pay", "-base-url", base, paymentNo)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"status": "PAID"`)
	select {
	case form := <-received:
		assert.Equal(t, paymentNo, form.Get("payment_no"))
		assert.Equal(t, "1200", form.Get("amount"))
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "delivery 1: HTTP 200") }, 5*time.Second, 10*time.Millisecond)

	code, _, errOut = runCLI(t, "pay", "-base-url", base, paymentNo)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not INIT")
	code, out, errOut = runCLI(t, append(append([]string{"payment"}, conn...), "-out-trade-id", "MOCK-1")...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `"status": "PAID"`)

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("mock did not stop")
	}
	_, err = os.Stat(keyPath)
	assert.True(t, os.IsNotExist(err), "the temporary key directory is removed")

	code, _, _ = runCLI(t, "mock", "-addr", "256.0.0.1:99999")
	assert.Equal(t, 1, code)
	code, _, _ = runCLI(t, "mock", "-retry", "soon")
	assert.Equal(t, 2, code)
}

// newNotifyServer is a merchant's notify_url: it verifies each
// notification with pub, passes its form on, and acknowledges it.
func newNotifyServer(t *testing.T, pub *rsa.PublicKey, received chan<- url.Values) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		if err != nil || hipopay.VerifyNotificationSignature(pub, form, r.Header.Get("Timestamp"), r.Header.Get("Signature")) != nil {
			http.Error(w, "bad notification", http.StatusUnauthorized)
			return
		}
		received <- form
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/notify"
}

// TestBillConversionOfTheSample converts the reference's example file.
func TestBillConversionOfTheSample(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, billToCSV(&out, strings.NewReader(hipopaytest.BillSampleText)))
	rows, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.Equal(t, []string{"Refund", "2019-01-04 10:50:34", "2019010410503295208356067", "", "", "-0.99", "1.06", "", "", "", "1.00",
		"2019010211070452703917004", "13260056057_wechat_1546398424000", "", "", "", "", "WECHATPAYCN", "HKD"}, rows[3])

	out.Reset()
	require.NoError(t, billToJSONL(&out, strings.NewReader(hipopaytest.BillSampleText)))
	assert.Len(t, lines(out.String()), 3)
	assert.Contains(t, lines(out.String())[0], `"external_order_no":"13260056057_wechat_1546397710000"`)

	// A file that is not a reconciliation file fails.
	assert.Error(t, billToCSV(io.Discard, strings.NewReader("hello\nworld,1\n")))
}

// runCLIWithin runs a command line that must end within d.
func runCLIWithin(t *testing.T, d time.Duration, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := runContext(ctx, args, &stdout, &stderr)
	require.NoError(t, ctx.Err(), "%q did not end by itself", args)
	return code, stdout.String(), stderr.String()
}

// TestMockRefusesBadSetup: a blank merchant number is a usage error, not
// a panic; key files in -keyout are not overwritten without -force.
func TestMockRefusesBadSetup(t *testing.T) {
	clearEnv(t)
	for _, merchant := range []string{" ", "\t", "  \n", " HP1", "HP1 ", "HP\n1", "HP\x001", "HP 1"} {
		code, _, errOut := runCLIWithin(t, 10*time.Second, "mock", "-addr", "127.0.0.1:0", "-merchant", merchant)
		assert.Equal(t, 2, code, "%q", merchant)
		assert.Contains(t, errOut, "-merchant", "%q", merchant)
		assert.Contains(t, errOut, "Usage: hipopay mock", "%q", merchant)
	}

	// Existing key files: refused, left as they were.
	for _, tc := range []struct {
		name  string
		file  string
		extra []string
	}{
		{"merchant key", "merchant_private.pem", nil},
		{"merchant public key", "merchant_public.pem", nil},
		{"HipoPay key", "hipopay_public.pem", nil},
		{"HipoPay key with -key", "hipopay_public.pem", []string{"-key", testdata + "merchant_private_pkcs8.pem"}},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, tc.file)
		require.NoError(t, os.WriteFile(path, []byte("mine"), 0o600))
		args := append([]string{"mock", "-addr", "127.0.0.1:0", "-keyout", dir}, tc.extra...)
		code, out, errOut := runCLIWithin(t, 10*time.Second, args...)
		assert.Equal(t, 1, code, tc.name)
		assert.Contains(t, errOut, path, tc.name)
		assert.Contains(t, errOut, "-force", tc.name)
		assert.NotContains(t, out, "listening", tc.name)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "mine", string(b), tc.name)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "%s: nothing else written", tc.name)
	}

	// With -force they are replaced.
	dir := t.TempDir()
	for _, name := range []string{"merchant_private.pem", "merchant_public.pem", "hipopay_public.pem"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("mine"), 0o600))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- runContext(ctx, []string{"mock", "-addr", "127.0.0.1:0", "-keyout", dir, "-force"}, &stdout, &stderr)
	}()
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "HipoPay key:") }, 20*time.Second, 10*time.Millisecond, stderr.String())
	_, err := hipopay.LoadPrivateKey(filepath.Join(dir, "merchant_private.pem"))
	require.NoError(t, err)
	_, err = hipopay.LoadPublicKey(filepath.Join(dir, "merchant_public.pem"))
	require.NoError(t, err)
	_, err = hipopay.LoadPublicKey(filepath.Join(dir, "hipopay_public.pem"))
	require.NoError(t, err)
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("mock did not stop")
	}
	_, err = os.Stat(filepath.Join(dir, "merchant_private.pem"))
	assert.NoError(t, err, "-keyout files stay")
}

// TestBillHasNoDefaultTimeout: the API commands give up after -timeout
// (one minute by default); bill streams a file that may take longer and
// has no default limit (an interrupt still stops it).
func TestBillHasNoDefaultTimeout(t *testing.T) {
	clearEnv(t)
	code, _, errOut := runCLI(t, "bill", "-h")
	require.Equal(t, 0, code)
	assert.Regexp(t, `(?m)^\s+-timeout duration\n\s+.*no limit`, errOut)
	assert.NotContains(t, errOut, "1m0s")
	code, _, errOut = runCLI(t, "payment", "-h")
	require.Equal(t, 0, code)
	assert.Contains(t, errOut, "(default 1m0s)")

	// The other commands are bounded by -timeout (default 1m, shown above).
	s := hipopaytest.NewServer()
	t.Cleanup(s.Close)
	conn := []string{"-merchant", s.MerchantNo, "-key", writeKey(t, s), "-base-url", s.URL}
	s.SetLatency(400 * time.Millisecond)
	today := time.Now().In(hipopay.ChinaTimeZone()).Format("20060102")

	code, _, errOut = runCLI(t, append(append([]string{"forex-rate"}, conn...), "-currency", "USD", "-timeout", "100ms")...)
	assert.Equal(t, 1, code, "-timeout bounds the other commands")
	assert.Contains(t, errOut, "deadline")

	code, out, errOut := runCLI(t, append(append([]string{"bill"}, conn...), "-start", today)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, hipopaytest.BillHeader)

	// -timeout still bounds it when given.
	code, _, errOut = runCLI(t, append(append([]string{"bill"}, conn...), "-start", today, "-timeout", "100ms")...)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "deadline")
}
