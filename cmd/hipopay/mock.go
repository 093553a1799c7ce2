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
	"errors"
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
	"unicode"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
)

// runMock serves the fake HipoPay on -addr until ctx ends (an interrupt),
// printing its base URL, merchant number and key files, then each
// notification delivery.
func runMock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("mock", "", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (port 0: any free port)")
	merchant := fs.String("merchant", "", "merchant number to register (default: a random HP... number)")
	keyPath := fs.String("key", "", "that merchant's private key PEM (default: a fresh 2048-bit key, written to -keyout)")
	keyOut := fs.String("keyout", "", "directory to write the merchant's keys and HipoPay's public key to (default: a temporary directory, removed on exit)")
	force := fs.Bool("force", false, "overwrite key files that already exist in -keyout")
	retry := fs.String("retry", "", "notification retry intervals, comma-separated, e.g. 1s,5s (default HipoPay's 1s,2s,4s,8s,60s,60s,60s,600s,600s,1800s)")
	expiry := fs.Duration("expiry", 0, "unpaid orders become EXPIRED after this long (default: never)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments %q", fs.Args())
	}
	if *expiry < 0 {
		return usageError(fs, "-expiry %v is negative", *expiry)
	}
	if *merchant != "" {
		if err := checkMerchantNo(*merchant); err != nil {
			return usageError(fs, "-merchant %q: %v", *merchant, err)
		}
	}
	var intervals []time.Duration
	if *retry != "" {
		for _, s := range strings.Split(*retry, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil || d < 0 {
				return usageError(fs, "-retry: %q is not a duration", s)
			}
			intervals = append(intervals, d)
		}
	}

	var key *rsa.PrivateKey
	var err error
	generated := *keyPath == ""
	if generated {
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return err
		}
	} else if key, err = hipopay.LoadPrivateKey(*keyPath); err != nil {
		return err
	}
	if *merchant == "" {
		*merchant = fmt.Sprintf("HP%010d", mrand.Int64N(1e10))
	}

	dir := *keyOut
	files := []string{"hipopay_public.pem"}
	if generated {
		files = append(files, "merchant_private.pem", "merchant_public.pem")
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "hipopay-mock-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else {
		if !*force {
			// Refuse before writing anything: no half-replaced set of keys.
			for _, name := range files {
				path := filepath.Join(dir, name)
				if _, err := os.Lstat(path); err == nil {
					return fmt.Errorf("%s exists (use -force to overwrite)", path)
				} else if !os.IsNotExist(err) {
					return err
				}
			}
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	merchantKeyPath := *keyPath
	if generated {
		if merchantKeyPath, _, err = writeKeyPair(dir, "merchant_private.pem", "merchant_public.pem", key, *force); err != nil {
			return err
		}
	}

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(stdout, format, args...)
	}
	opts := []hipopaytest.Option{
		hipopaytest.WithListener(l),
		hipopaytest.WithMerchant(*merchant, key),
		hipopaytest.WithDeliveryHook(func(paymentNo string, d hipopaytest.Delivery) {
			body := d.Body
			if len(body) > 60 {
				body = body[:60] + "..."
			}
			result := fmt.Sprintf("HTTP %d %q", d.StatusCode, body)
			if d.Err != nil {
				result = d.Err.Error()
			}
			ack := "not acknowledged"
			if d.Acknowledged {
				ack = "acknowledged"
			}
			say("notification of %s, delivery %d: %s (%s)\n", paymentNo, d.Attempt, result, ack)
		}),
	}
	if *retry != "" {
		opts = append(opts, hipopaytest.WithRetryIntervals(intervals...))
	}
	if *expiry > 0 {
		opts = append(opts, hipopaytest.WithOrderExpiry(*expiry))
	}
	srv := hipopaytest.NewServer(opts...)
	defer srv.Close()

	pubDER, err := x509.MarshalPKIXPublicKey(srv.PublicKey())
	if err != nil {
		return err
	}
	hipopayKeyPath := filepath.Join(dir, "hipopay_public.pem")
	if err := writeNew(hipopayKeyPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644, *force); err != nil {
		return err
	}

	say(`fake HipoPay listening (Ctrl-C to stop)
base URL:         %s
dashboard:        %s_mock/dashboard
merchant number:  %s
merchant key:     %s
HipoPay key:      %s (verifies its notifications)

export HIPOPAY_BASE_URL=%s HIPOPAY_MERCHANT_NO=%s HIPOPAY_PRIVATE_KEY=%s
hipopay place-order -out-trade-id ORDER-1 -amount 8.88 -currency HKD -product-info test -appid wx1 -openid o1 -client-ip 127.0.0.1 -notify-url http://127.0.0.1:9000/notify
hipopay pay PAYMENT_NO
`, srv.URL, srv.URL, srv.MerchantNo, merchantKeyPath, hipopayKeyPath, srv.URL, srv.MerchantNo, merchantKeyPath)
	<-ctx.Done()
	say("stopping\n")
	return nil
}

// checkMerchantNo refuses a merchant number that cannot identify a
// merchant: blank, with white space around it (HTTP trims it from the
// MerchantNO header) or holding a control character (no HTTP header can).
func checkMerchantNo(no string) error {
	switch {
	case strings.TrimSpace(no) == "":
		return errors.New("a merchant number must not be blank")
	case strings.TrimSpace(no) != no:
		return errors.New("a merchant number must not start or end with white space")
	case strings.IndexFunc(no, unicode.IsControl) >= 0:
		return errors.New("a merchant number must not hold control characters")
	}
	return nil
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
	if fs.NArg() != 1 {
		return usageError(fs, "give one PAYMENT_NO")
	}
	if *base == "" {
		return usageError(fs, "-base-url (or HIPOPAY_BASE_URL) is required: the mock's base URL")
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
	var answer struct {
		IsSuccess    bool            `json:"is_success"`
		Response     json.RawMessage `json:"response"`
		ErrorMessage string          `json:"error_message"`
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
