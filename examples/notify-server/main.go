// Command notify-server receives HipoPay's payment notifications: a small
// net/http server a merchant can copy. It verifies each notification with
// HipoPay's callback key (embedded in the SDK), runs the merchant's
// function once per payment, answers "success", and shuts down gracefully.
//
//	HIPOPAY_MERCHANT_NO=1000001 HIPOPAY_PRIVATE_KEY=private.key HIPOPAY_SANDBOX=1 \
//	    go run ./examples/notify-server -addr :8080
//
// Give HipoPay https://your.host/hipopay/notify as the order's notify_url
// (behind a TLS-terminating proxy).
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hipopay-go/hipopay"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, logger); err != nil {
		logger.Error("notify-server", "error", err)
		os.Exit(1)
	}
}

func run(addr string, logger *slog.Logger) error {
	keyPath := os.Getenv("HIPOPAY_PRIVATE_KEY")
	if keyPath == "" {
		return errors.New("set HIPOPAY_PRIVATE_KEY to the path of your PEM private key, and HIPOPAY_MERCHANT_NO")
	}
	key, err := hipopay.LoadPrivateKey(keyPath)
	if err != nil {
		return err
	}
	opts := []hipopay.Option{hipopay.WithLogger(logger)}
	if sandbox, _ := strconv.ParseBool(os.Getenv("HIPOPAY_SANDBOX")); sandbox {
		// Sandbox API and HipoPay's sandbox callback key.
		opts = append(opts, hipopay.WithSandbox())
	}
	client, err := hipopay.NewClient(os.Getenv("HIPOPAY_MERCHANT_NO"), key, opts...)
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
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}

	// Stop on Ctrl-C or SIGTERM, letting notifications in flight finish.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveErr := make(chan error, 1)
	go func() {
		logger.Info("listening", "addr", addr)
		serveErr <- srv.ListenAndServe()
	}()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
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

// markPaid is where the merchant records the payment. In a real shop: look
// up the order n.OutTradeID, check n.Amount and n.Currency against it, mark
// it paid and commit, in one transaction. Return an error (the database is
// down, the amount does not match) and HipoPay delivers the notification
// again later.
func markPaid(ctx context.Context, logger *slog.Logger, n *hipopay.PaymentNotification) error {
	logger.InfoContext(ctx, "payment received",
		"payment_no", n.PaymentNo, "out_trade_id", n.OutTradeID,
		"amount", n.Amount, "currency", n.Currency, "finish_time", n.FinishTime)
	return nil
}
