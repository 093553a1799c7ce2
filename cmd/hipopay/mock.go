// The fake HipoPay as a server (mock) and paying its orders by hand (pay).

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
)

// runMock serves the fake HipoPay on -addr until ctx ends (an interrupt),
// printing its base URL, merchant number and key files, then each
// notification delivery.
func runMock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseMockFlags(args, stderr)
	if err != nil {
		return err
	}
	keys, cleanup, err := prepareMockKeys(cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	out := &lockedWriter{w: stdout}
	srv, err := startMock(cfg, keys, out)
	if err != nil {
		return err
	}
	defer srv.Close()
	if keys.hipopayPublic, err = writeHipoPayKey(srv, keys.dir, cfg.force); err != nil {
		return err
	}
	printMockBanner(out, srv, keys)
	<-ctx.Done()
	fmt.Fprintf(out, "stopping\n")
	return nil
}

// mockConfig is the mock command's flags, checked.
type mockConfig struct {
	addr      string
	merchant  string // "" = a random HP... number
	keyPath   string // "" = a fresh key
	keyOut    string // "" = a temporary directory
	force     bool
	intervals []time.Duration // nil = HipoPay's schedule
	expiry    time.Duration   // 0 = never
}

// parseMockFlags parses and checks the mock command's flags, reporting
// every mistake at once.
func parseMockFlags(args []string, stderr io.Writer) (*mockConfig, error) {
	fs := newFlagSet("mock", "", stderr)
	cfg := &mockConfig{}
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	fs.StringVar(&cfg.merchant, "merchant", "", "merchant number to register (default: a random HP... number)")
	fs.StringVar(&cfg.keyPath, "key", "", "that merchant's private key PEM (default: a fresh 2048-bit key, written to -keyout)")
	fs.StringVar(&cfg.keyOut, "keyout", "", "directory to write the merchant's keys and HipoPay's public key to (default: a temporary directory, removed on exit)")
	fs.BoolVar(&cfg.force, "force", false, "overwrite key files that already exist in -keyout")
	retry := fs.String("retry", "", "notification retry intervals, comma-separated, e.g. 1s,5s (default HipoPay's 1s,2s,4s,8s,60s,60s,60s,600s,600s,1800s)")
	fs.DurationVar(&cfg.expiry, "expiry", 0, "unpaid orders become EXPIRED after this long (default: never)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	var problems usageProblems
	if fs.NArg() > 0 {
		problems.invalidf("unexpected arguments %q", fs.Args())
	}
	if cfg.expiry < 0 {
		problems.invalidf("-expiry %v is negative", cfg.expiry)
	}
	if cfg.merchant != "" {
		if err := hipopay.ValidMerchantNo(cfg.merchant); err != nil {
			problems.invalidf("-merchant %q: %v", cfg.merchant, err)
		}
	}
	if *retry != "" {
		cfg.intervals = []time.Duration{}
		for _, s := range strings.Split(*retry, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil || d < 0 {
				problems.invalidf("-retry: %q is not a duration", s)
			}
			cfg.intervals = append(cfg.intervals, d)
		}
	}
	if err := problems.report(fs); err != nil {
		return nil, err
	}
	if cfg.merchant == "" {
		cfg.merchant = fmt.Sprintf("HP%010d", mrand.Int64N(1e10))
	}
	return cfg, nil
}

// mockKeys is the merchant's key and where the mock's key files are.
type mockKeys struct {
	merchant        *rsa.PrivateKey
	dir             string // where the key files are written
	merchantPrivate string // the merchant's private key file (-key, or written to dir)
	hipopayPublic   string // HipoPay's public key file, once written
}

// prepareMockKeys loads -key or makes a fresh key, and writes it to the
// key directory (-keyout, or a temporary one that cleanup removes). It
// refuses before writing anything when a file it would write exists and
// -force is not given.
func prepareMockKeys(cfg *mockConfig) (keys *mockKeys, cleanup func(), err error) {
	cleanup = func() {}
	keys = &mockKeys{dir: cfg.keyOut, merchantPrivate: cfg.keyPath}
	generated := cfg.keyPath == ""
	if generated {
		if keys.merchant, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, nil, err
		}
	} else if keys.merchant, err = hipopay.LoadPrivateKey(cfg.keyPath); err != nil {
		return nil, nil, err
	}

	files := []string{"hipopay_public.pem"}
	if generated {
		files = append(files, "merchant_private.pem", "merchant_public.pem")
	}
	if keys.dir == "" {
		if keys.dir, err = os.MkdirTemp("", "hipopay-mock-"); err != nil {
			return nil, nil, err
		}
		dir := keys.dir
		cleanup = func() { os.RemoveAll(dir) }
	} else {
		if !cfg.force {
			// Refuse before writing anything: no half-replaced set of keys.
			for _, name := range files {
				path := filepath.Join(keys.dir, name)
				if _, err := os.Lstat(path); err == nil {
					return nil, nil, fmt.Errorf("%s exists (use -force to overwrite)", path)
				} else if !os.IsNotExist(err) {
					return nil, nil, err
				}
			}
		}
		if err := os.MkdirAll(keys.dir, 0o700); err != nil {
			return nil, nil, err
		}
	}
	if generated {
		if keys.merchantPrivate, _, err = writeKeyPair(keys.dir, "merchant_private.pem", "merchant_public.pem", keys.merchant, cfg.force); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	return keys, cleanup, nil
}

// startMock listens on -addr and starts the fake with the merchant,
// printing each notification delivery to out.
func startMock(cfg *mockConfig, keys *mockKeys, out io.Writer) (*hipopaytest.Server, error) {
	l, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	opts := []hipopaytest.Option{
		hipopaytest.WithListener(l),
		hipopaytest.WithMerchant(cfg.merchant, keys.merchant),
		hipopaytest.WithDeliveryHook(func(paymentNo string, d hipopaytest.Delivery) {
			fmt.Fprintf(out, "notification of %s, delivery %d: %s\n", paymentNo, d.Attempt, describeDelivery(d))
		}),
	}
	if cfg.intervals != nil {
		opts = append(opts, hipopaytest.WithRetryIntervals(cfg.intervals...))
	}
	if cfg.expiry > 0 {
		opts = append(opts, hipopaytest.WithOrderExpiry(cfg.expiry))
	}
	return hipopaytest.NewServer(opts...), nil
}

// describeDelivery says how a notification delivery went: the merchant's
// answer (its body cut short) or the error, and whether it counts as
// acknowledged.
func describeDelivery(d hipopaytest.Delivery) string {
	body := d.Body
	if len(body) > 60 {
		body = body[:60] + "..."
	}
	result := fmt.Sprintf("HTTP %d %q", d.StatusCode, body)
	if d.Err != nil {
		result = d.Err.Error()
	}
	if d.Acknowledged {
		return result + " (acknowledged)"
	}
	return result + " (not acknowledged)"
}

// writeHipoPayKey writes the public key the mock signs notifications with
// into dir, as hipopay_public.pem, and returns its path.
func writeHipoPayKey(srv *hipopaytest.Server, dir string, force bool) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(srv.PublicKey())
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "hipopay_public.pem")
	return path, writeKeyFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644, force)
}

// printMockBanner tells how to reach the mock: its URL, merchant, key
// files, and commands to try.
func printMockBanner(out io.Writer, srv *hipopaytest.Server, keys *mockKeys) {
	fmt.Fprintf(out, `fake HipoPay listening (Ctrl-C to stop)
base URL:         %s
dashboard:        %s_mock/dashboard
merchant number:  %s
merchant key:     %s
HipoPay key:      %s (verifies its notifications)

export HIPOPAY_BASE_URL=%s HIPOPAY_MERCHANT_NO=%s HIPOPAY_PRIVATE_KEY=%s
hipopay place-order -out-trade-id ORDER-1 -amount 8.88 -currency HKD -product-info test -appid wx1 -openid o1 -client-ip 127.0.0.1 -notify-url http://127.0.0.1:9000/hipopay/notify
hipopay pay PAYMENT_NO

A notify_url to try it with, from a clone of the SDK (same exports):
go run ./examples/notify-server -addr 127.0.0.1:9000 -hipopay-key %s
`, srv.URL, srv.URL, srv.MerchantNo, keys.merchantPrivate, keys.hipopayPublic, srv.URL, srv.MerchantNo, keys.merchantPrivate, keys.hipopayPublic)
}

// lockedWriter serialises writes from several goroutines (the banner and
// the delivery hook).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// runPay pays (or fails) an order on a running mock through its unsigned
// _mock/pay endpoint, and prints the payment.
func runPay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pay", "PAYMENT_NO", stderr)
	base := fs.String("base-url", os.Getenv("HIPOPAY_BASE_URL"), "the mock's base URL; default $HIPOPAY_BASE_URL")
	fail := fs.Bool("fail", false, "make the payment fail instead (FAIL, no notification)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var problems usageProblems
	if *base == "" {
		problems.need("-base-url (or HIPOPAY_BASE_URL, the mock's base URL)")
	}
	switch {
	case fs.NArg() == 0:
		problems.need("PAYMENT_NO")
	case fs.NArg() > 1:
		problems.invalidf("give one PAYMENT_NO, not %d arguments", fs.NArg())
	}
	if err := problems.report(fs); err != nil {
		return err
	}
	action := "pay"
	if *fail {
		action = "fail"
	}
	target := strings.TrimSuffix(*base, "/") + "/_mock/" + action + "?payment_no=" + url.QueryEscape(fs.Arg(0))
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	var answer hipopay.Envelope
	if resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("the mock refused the request: %s", strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("%s is not a hipopay mock (HTTP %d)", *base, resp.StatusCode)
	}
	if !answer.IsSuccess {
		return fmt.Errorf("%s", answer.ErrorMessage)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, answer.Response, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = stdout.Write(out.Bytes())
	return err
}
