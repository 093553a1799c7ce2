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
	if !found || !sameAmount(want, n) {
		// Record it (a table of payments to look into) and alert someone:
		// a person must sort it out with HipoPay. Retries cannot.
		logger.ErrorContext(ctx, "ALERT: a paid notification does not match the order; not marked paid, to be looked into",
			"payment_no", n.PaymentNo, "out_trade_id", n.OutTradeID, "order_found", found,
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
