// Command notify-server receives HipoPay's payment notifications: a small
// net/http server a merchant can copy. It verifies each notification with
// HipoPay's callback key (embedded in the SDK, or -hipopay-key), confirms
// it with HipoPay, runs the merchant's function once per payment, answers
// "success", logs every request, and shuts down gracefully.
//
//	HIPOPAY_MERCHANT_NO=1000001 HIPOPAY_PRIVATE_KEY=private.key HIPOPAY_SANDBOX=1 \
//	    go run ./examples/notify-server -addr :8080
//
// Give HipoPay https://your.host/hipopay/notify as the order's notify_url
// (behind a TLS-terminating proxy).
//
// Against "hipopay mock": export the variables the mock prints
// (HIPOPAY_BASE_URL, HIPOPAY_MERCHANT_NO, HIPOPAY_PRIVATE_KEY), then
//
//	go run ./examples/notify-server -addr 127.0.0.1:9000 -hipopay-key /tmp/hipopay-mock-.../hipopay_public.pem
//
// where the key file is the "HipoPay key" the mock printed (it also serves
// it at GET _mock/hipopay_public.pem). Place an order with -notify-url
// http://127.0.0.1:9000/hipopay/notify and "hipopay pay" it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hipopay-go/hipopay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "notify-server:", err)
		os.Exit(1)
	}
}

// errUsage is a mistake in the command line, already reported.
var errUsage = errors.New("usage")

// config is the server's command line and environment.
type config struct {
	addr       string
	hipopayKey string // HipoPay's public key file; "" = the embedded one
	baseURL    string // "" = HipoPay's production or sandbox API
	sandbox    bool
	logLevel   slog.Level
	merchantNo string
	privateKey string
}

// parseConfig reads the flags and the environment.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	cfg := &config{merchantNo: getenv("HIPOPAY_MERCHANT_NO"), privateKey: getenv("HIPOPAY_PRIVATE_KEY")}
	fs := flag.NewFlagSet("notify-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", ":8080", "listen address")
	fs.StringVar(&cfg.hipopayKey, "hipopay-key", "", "HipoPay's public key file (PEM) to verify notifications with, e.g. the one \"hipopay mock\" prints; default the key embedded in the SDK (sandbox with HIPOPAY_SANDBOX)")
	fs.StringVar(&cfg.baseURL, "base-url", getenv("HIPOPAY_BASE_URL"), "HipoPay's API, asked to confirm each notification (a mock's base URL); default $HIPOPAY_BASE_URL, else production or sandbox")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "debug (also each call to HipoPay), info (each request and payment), warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "notify-server: unexpected arguments %q\n", fs.Args())
		return nil, errUsage
	}
	if v := getenv("HIPOPAY_SANDBOX"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("HIPOPAY_SANDBOX=%q is not a boolean", v)
		}
		cfg.sandbox = b
	}
	if cfg.merchantNo == "" || cfg.privateKey == "" {
		return nil, errors.New("set HIPOPAY_MERCHANT_NO and HIPOPAY_PRIVATE_KEY (the path of your PEM private key)")
	}
	return cfg, nil
}

// newClient builds the client: it confirms notifications with HipoPay and
// lends the handler HipoPay's key.
func newClient(cfg *config, logger *slog.Logger) (*hipopay.Client, error) {
	key, err := hipopay.LoadPrivateKey(cfg.privateKey)
	if err != nil {
		return nil, err
	}
	opts := []hipopay.Option{hipopay.WithLogger(logger)}
	if cfg.sandbox {
		// Sandbox API and HipoPay's sandbox callback key.
		opts = append(opts, hipopay.WithSandbox())
	}
	if cfg.baseURL != "" {
		opts = append(opts, hipopay.WithBaseURL(cfg.baseURL))
	}
	if cfg.hipopayKey != "" {
		pub, err := hipopay.LoadPublicKey(cfg.hipopayKey)
		if err != nil {
			return nil, err
		}
		opts = append(opts, hipopay.WithHipoPayPublicKey(pub))
	}
	return hipopay.NewClient(cfg.merchantNo, key, opts...)
}

// run serves until ctx ends, then shuts down, letting notifications in
// flight finish. Logs go to logOut; ready, if not nil, is told the address
// once listening.
func run(ctx context.Context, args []string, getenv func(string) string, logOut io.Writer, ready func(addr string)) error {
	cfg, err := parseConfig(args, getenv, logOut)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: cfg.logLevel}))
	client, err := newClient(cfg, logger)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	// The handler answers HipoPay: 200 "success" once markPaid returned
	// nil (or for a payment already processed), 500 to have HipoPay retry.
	mux.Handle("/hipopay/notify", client.NotificationHandler(func(ctx context.Context, n *hipopay.PaymentNotification) error {
		return markPaid(ctx, logger, n)
	}))

	srv := &http.Server{
		Handler:           logRequests(logger, mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	l, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	keyUsed := cfg.hipopayKey
	if keyUsed == "" {
		keyUsed = "embedded production callback key"
		if cfg.sandbox {
			keyUsed = "embedded sandbox callback key"
		}
	}
	api := cfg.baseURL
	if api == "" {
		api = hipopay.ProductionBaseURL
		if cfg.sandbox {
			api = hipopay.SandboxBaseURL
		}
	}
	logger.Info("listening", "addr", l.Addr().String(), "notify_path", "/hipopay/notify",
		"merchant_no", cfg.merchantNo, "hipopay_key", keyUsed, "hipopay_api", api)
	if ready != nil {
		ready(l.Addr().String())
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(l) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logRequests logs each request with its answer's status and duration:
// a refused notification (401 bad signature, 400, 500) is never silent.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelInfo
		if rec.status >= 400 {
			level = slog.LevelWarn
		}
		logger.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration", time.Since(start).Round(time.Microsecond), "remote", r.RemoteAddr)
	})
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// markPaid is where the merchant records the payment. In a real shop, in
// one database transaction: look up the order n.OutTradeID, check that
// HipoPay's amount and currency are what the order charged, mark it paid,
// commit.
//
// Return an error only for a failure that a later delivery can get past
// (the database is down): HipoPay then delivers the notification again, up
// to 10 more times over almost an hour. A notification that will never fit
// the order (another amount or currency, an order you do not know) is not
// mended by delivering it again: do not mark the order paid, record the
// mismatch and alert a person, and return nil so that HipoPay stops.
func markPaid(ctx context.Context, logger *slog.Logger, n *hipopay.PaymentNotification) error {
	if n.Status != hipopay.PaymentStatusPaid {
		// HipoPay notifies paid orders only; anything else is noted, not
		// acted on.
		logger.WarnContext(ctx, "notification of a payment that is not PAID: nothing to do",
			"payment_no", n.PaymentNo, "out_trade_id", n.OutTradeID, "status", n.Status)
		return nil
	}
	want, found, err := lookupOrder(ctx, n.OutTradeID)
	if err != nil {
		return err // HipoPay delivers again later
	}
	switch {
	case !found:
		// Record it (a table of payments to look into) and alert someone.
		logger.ErrorContext(ctx, "ALERT: payment for an order this shop does not know: not marked paid, to be looked into (this example keeps no orders: replace lookupOrder)",
			"payment_no", n.PaymentNo, "out_trade_id", n.OutTradeID, "paid_amount", n.Amount, "paid_currency", n.Currency)
		return nil
	case !sameAmount(want, n):
		// A person must sort it out with HipoPay. Retries cannot.
		logger.ErrorContext(ctx, "ALERT: a paid notification does not match the order; not marked paid, to be looked into",
			"payment_no", n.PaymentNo, "out_trade_id", n.OutTradeID,
			"order_amount", want.Amount, "order_currency", want.Currency,
			"paid_amount", n.Amount, "paid_currency", n.Currency)
		return nil
	}
	logger.InfoContext(ctx, "payment received: order marked paid",
		"payment_no", n.PaymentNo, "out_trade_id", n.OutTradeID,
		"amount", n.Amount, "currency", n.Currency, "finish_time", n.FinishTime)
	return nil
}

// order is what the merchant charged for an order.
type order struct {
	Amount   string // decimal, as sent to HipoPay, e.g. "8.88"
	Currency hipopay.Currency
}

// lookupOrder stands for the merchant's own order table: what the order
// outTradeID was charged, and whether it exists. This example keeps no
// orders, so every notification is reported as for an unknown order:
// replace it with a query, in the same transaction as the update.
func lookupOrder(ctx context.Context, outTradeID string) (order, bool, error) {
	_, _ = ctx, outTradeID
	return order{}, false, nil
}

// sameAmount reports whether the notification's amount and currency are
// the order's, comparing exact minor units ("8.8" and "8.80" agree).
func sameAmount(o order, n *hipopay.PaymentNotification) bool {
	if o.Currency != n.Currency {
		return false
	}
	want, err := hipopay.ParseAmount(o.Amount, o.Currency)
	if err != nil {
		return false
	}
	got, err := hipopay.ParseAmount(n.Amount, n.Currency)
	return err == nil && got == want
}
