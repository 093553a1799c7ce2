// Command notify-server answers HipoPay's payment notifications with the
// hipopay SDK's handler, processing each payment exactly once through a
// database: a SQLite file for a single instance (the default), or
// PostgreSQL for several instances behind a load balancer.
//
//	notify-server -hipopay-key hipopay_callback_public.pem                   # SQLite, file:notifications.db
//	notify-server -hipopay-key key.pem -db 'postgres://user:pass@db:5432/shop' -addr :8080
//	notify-server -hipopay-key key.pem -db 'host=db user=shop password=... dbname=shop'
//	notify-server -merchant-no 1000123 -merchant-key private.pem -sandbox   # HipoPay's embedded sandbox callback key
//
// -db is PostgreSQL when it is a postgres:// or postgresql:// URL or
// libpq's keyword form (host=... dbname=...); SQLite only when it says so
// (sqlite:PATH, file:PATH) or is a path (ending in .db, .sqlite or
// .sqlite3, or holding a '/'), with no '=', '@' or '://'; anything else is
// refused. With -merchant-no and -merchant-key the handler goes through a
// Client, which confirms each notification with HipoPay (GET payment)
// before processing it; -base-url points that at another HipoPay, such as
// the mock.
//
// It checks its flags before touching the database, creates its tables at
// start, serves POST /hipopay/notify (and GET /healthz, which pings the
// database), and marks each paid order in the table merchant_orders in the
// same transaction as the store's mark. On SIGINT or SIGTERM it stops
// taking connections and waits up to 30 s for deliveries in flight. As in
// the SDK's examples/notify-server (its in-memory sibling),
// HIPOPAY_MERCHANT_NO, HIPOPAY_PRIVATE_KEY, HIPOPAY_SANDBOX=1 and
// HIPOPAY_BASE_URL may stand for -merchant-no, -merchant-key, -sandbox and
// -base-url.
package main

import (
	"context"
	"crypto/rsa"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Getenv, logger, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		logger.Error("notify-server stopped", "error", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	addr        string
	path        string
	db          string
	table       string
	hipopayKey  string
	merchantNo  string
	merchantKey string
	sandbox     bool
	baseURL     string
}

// parseFlags reads the command line; getenv gives the flags' defaults from
// the environment.
func parseFlags(args []string, getenv func(string) string) (*config, error) {
	var c config
	sandbox, _ := strconv.ParseBool(getenv("HIPOPAY_SANDBOX"))
	fs := flag.NewFlagSet("notify-server", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "localhost:8080", "address to listen on (\":8080\" for every interface)")
	fs.StringVar(&c.path, "path", "/hipopay/notify", "path of the notify_url")
	fs.StringVar(&c.db, "db", "file:notifications.db", "database: PostgreSQL (postgres://..., or libpq's host=... dbname=...; several instances) or a SQLite file (sqlite:PATH, file:PATH, or a path ending in .db; one instance)")
	fs.StringVar(&c.table, "table", sqlstore.DefaultTable, "table of processed notifications")
	fs.StringVar(&c.hipopayKey, "hipopay-key", "", "PEM file of HipoPay's callback public key; without it, the SDK's embedded key (needs -merchant-no and -merchant-key)")
	fs.StringVar(&c.merchantNo, "merchant-no", getenv("HIPOPAY_MERCHANT_NO"), "merchant number, to use the SDK's embedded HipoPay key through a Client ($HIPOPAY_MERCHANT_NO)")
	fs.StringVar(&c.merchantKey, "merchant-key", getenv("HIPOPAY_PRIVATE_KEY"), "PEM file of the merchant's private key, with -merchant-no ($HIPOPAY_PRIVATE_KEY)")
	fs.BoolVar(&c.sandbox, "sandbox", sandbox, "with -merchant-no: HipoPay's sandbox callback key instead of the production one ($HIPOPAY_SANDBOX)")
	fs.StringVar(&c.baseURL, "base-url", getenv("HIPOPAY_BASE_URL"), "with -merchant-no: HipoPay's API that confirms each notification, e.g. the mock's base URL ($HIPOPAY_BASE_URL; default production, or sandbox with -sandbox)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if c.hipopayKey == "" && (c.merchantNo == "" || c.merchantKey == "") {
		return nil, errors.New("give -hipopay-key, or -merchant-no and -merchant-key to use the SDK's embedded HipoPay key")
	}
	if err := checkPath(c.path); err != nil {
		return nil, err
	}
	if err := checkTable(c.table); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkPath refuses a -path that http.ServeMux would panic on or never
// match: empty, not starting with '/', a method or host pattern, a
// wildcard, a bad %-escape (net/http answers 400 to any request for it),
// an unclean path, or the health check's own path.
func checkPath(p string) (err error) {
	switch {
	case p == "":
		return errors.New("-path is empty: give the path of your notify_url, e.g. /hipopay/notify")
	case strings.ContainsAny(p, " \t\r\n"):
		return fmt.Errorf("-path %q: a path only, no method or spaces (the server takes POST itself)", p)
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("-path %q must start with '/'", p)
	case strings.ContainsAny(p, "{}"):
		return fmt.Errorf("-path %q: no wildcards ({...}) in the notify path", p)
	case !validEscapes(p):
		return fmt.Errorf("-path %q has a bad %%-escape: no request can reach it (write %%25 for a literal '%%')", p)
	case p != "/" && path.Clean(p) != strings.TrimSuffix(p, "/"):
		return fmt.Errorf("-path %q is not a clean path (%s)", p, path.Clean(p))
	case p == healthPath:
		return fmt.Errorf("-path %q is the health check's path", p)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("-path %q: %v", p, r)
		}
	}()
	http.NewServeMux().Handle(p, http.NotFoundHandler())
	return nil
}

// validEscapes reports whether every '%' in p starts a valid escape.
func validEscapes(p string) bool {
	_, err := url.PathUnescape(p)
	return err == nil
}

// checkTable refuses a -table that is the server's own table of orders,
// in any spelling: the store's marks and the orders cannot share a table.
func checkTable(table string) error {
	name := strings.ToLower(table)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	if name == ordersTable {
		return fmt.Errorf("-table %q is the table the server marks orders paid in (%s): choose another", table, ordersTable)
	}
	return nil
}

// openDatabase opens the -db database (see parseDSN). A SQLite DSN without
// pragmas gets a 5 s busy timeout and WAL mode.
func openDatabase(d *database) (*sql.DB, error) {
	dsn := d.dsn
	if d.dialect == sqlstore.SQLite && !strings.Contains(dsn, "_pragma=") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}
	db, err := sql.Open(d.driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", d.dialect, err)
	}
	if d.dialect == sqlstore.Postgres {
		// A payment being processed holds a connection; keep them all
		// open between bursts, and renew them after a failover.
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxLifetime(30 * time.Minute)
	}
	return db, nil
}

// ordersTable is the example merchant's table of orders; healthPath the
// health check's path.
const (
	ordersTable = "merchant_orders"
	healthPath  = "/healthz"
)

// ordersDDL is the example merchant's table of orders. paid_count is how
// many times the order was marked paid: exactly-once processing keeps it
// at 1 (integration's chaos test counts on it).
func ordersDDL(d sqlstore.Dialect) string {
	paidAt := "TIMESTAMPTZ"
	if d == sqlstore.SQLite {
		paidAt = "TEXT"
	}
	return `CREATE TABLE IF NOT EXISTS ` + ordersTable + ` (
    out_trade_id TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    payment_no   TEXT NOT NULL,
    amount       TEXT NOT NULL,
    currency     TEXT NOT NULL,
    paid_at      ` + paidAt + ` NOT NULL,
    paid_count   INTEGER NOT NULL DEFAULT 1
)`
}

// markOrderPaid is the example merchant's processing: it marks the order
// paid in the store's transaction, so that the order and the store's mark
// commit together. A real merchant would update an order it created when
// placing it, and check that the amount and currency are what it charged.
func markOrderPaid(d sqlstore.Dialect) hipopay.NotificationFunc {
	q := `INSERT INTO ` + ordersTable + ` (out_trade_id, status, payment_no, amount, currency, paid_at)
VALUES ($1, 'PAID', $2, $3, $4, $5)
ON CONFLICT (out_trade_id) DO UPDATE SET status = 'PAID', payment_no = excluded.payment_no,
    amount = excluded.amount, currency = excluded.currency, paid_at = excluded.paid_at,
    paid_count = ` + ordersTable + `.paid_count + 1`
	if d == sqlstore.SQLite {
		q = strings.NewReplacer("$1", "?", "$2", "?", "$3", "?", "$4", "?", "$5", "?").Replace(q)
	}
	return func(ctx context.Context, n *hipopay.PaymentNotification) error {
		tx, ok := sqlstore.TxFromContext(ctx)
		if !ok {
			return errors.New("no database transaction in the context")
		}
		if n.Status != hipopay.PaymentStatusPaid {
			return nil // HipoPay notifies paid orders only: nothing to mark
		}
		if n.OutTradeID == "" {
			return fmt.Errorf("payment %s: no out_trade_id", n.PaymentNo)
		}
		var paidAt any = n.FinishTime.UTC()
		if d == sqlstore.SQLite {
			paidAt = n.FinishTime.UTC().Format(time.RFC3339)
		}
		if _, err := tx.ExecContext(ctx, q, n.OutTradeID, n.PaymentNo, n.Amount, string(n.Currency), paidAt); err != nil {
			return fmt.Errorf("mark order %s paid: %w", n.OutTradeID, err)
		}
		return nil
	}
}

// newHandler wires the SDK's notification handler to store.
func newHandler(c *config, store *sqlstore.Store, fn hipopay.NotificationFunc, logger *slog.Logger) (http.Handler, error) {
	opts := []hipopay.HandlerOption{hipopay.WithStore(store), hipopay.WithHandlerLogger(logger)}
	var pub *rsa.PublicKey
	if c.hipopayKey != "" {
		k, err := hipopay.LoadPublicKey(c.hipopayKey)
		if err != nil {
			return nil, fmt.Errorf("HipoPay key: %w", err)
		}
		pub = k
	}
	if c.merchantNo == "" {
		return hipopay.NewNotificationHandler(pub, fn, opts...), nil
	}
	key, err := hipopay.LoadPrivateKey(c.merchantKey)
	if err != nil {
		return nil, fmt.Errorf("merchant key: %w", err)
	}
	clientOpts := []hipopay.Option{hipopay.WithLogger(logger)}
	if c.sandbox {
		clientOpts = append(clientOpts, hipopay.WithSandbox())
	}
	if pub != nil {
		clientOpts = append(clientOpts, hipopay.WithHipoPayPublicKey(pub))
	}
	if c.baseURL != "" {
		clientOpts = append(clientOpts, hipopay.WithBaseURL(c.baseURL))
	}
	client, err := hipopay.NewClient(c.merchantNo, key, clientOpts...)
	if err != nil {
		return nil, err
	}
	return client.NotificationHandler(fn, opts...), nil
}

// run serves until ctx ends, then shuts down gracefully. ready, when not
// nil, is told the address it listens on. It fails on bad flags, a database
// it cannot set up, a key that does not load, or an address it cannot
// listen on.
func run(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger, ready func(addr string)) error {
	c, err := parseFlags(args, getenv)
	if err != nil {
		return err
	}
	d, err := parseDSN(c.db)
	if err != nil {
		return err
	}
	dialect := d.dialect
	db, err := openDatabase(d) // sql.Open: no connection yet
	if err != nil {
		return err
	}
	defer db.Close()
	store, err := sqlstore.New(db, dialect, sqlstore.WithTable(c.table))
	if err != nil {
		return err
	}
	logger.Info("notify-server database", d.logAttrs...)
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := store.CreateTable(setupCtx); err != nil {
		return err
	}
	if _, err := db.ExecContext(setupCtx, ordersDDL(dialect)); err != nil {
		return fmt.Errorf("create %s: %w", ordersTable, err)
	}

	h, err := newHandler(c, store, markOrderPaid(dialect), logger)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(c.path, h)
	mux.HandleFunc("GET "+healthPath, func(w http.ResponseWriter, r *http.Request) {
		pingCtx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.PingContext(pingCtx); err != nil {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	logger.Info("notify-server listening", "addr", ln.Addr().String(), "path", c.path, "db", dialect.String(), "table", store.Table())
	if ready != nil {
		ready(ln.Addr().String())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("notify-server shutting down")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
