// Command hipopay is HipoPay from the command line: make and check keys and
// signatures, call every endpoint against the sandbox, production or a
// mock, download the reconciliation file, and run the fake HipoPay of
// package hipopaytest as a server.
//
//	hipopay keygen -out keys/
//	hipopay sign -key keys/private.pem -timestamp 1550548767 amount=8.88 currency=HKD
//	hipopay mock -addr 127.0.0.1:8080
//	hipopay place-order -out-trade-id ORDER-1 -amount 8.88 -currency HKD ...
//	hipopay bill -start 20240301 -end 20240331 -out bill.txt
//
// Run "hipopay -h" for every command, "hipopay COMMAND -h" for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands by name.
func commands() map[string]command {
	return map[string]command{
		"keygen":              {"make a merchant key pair: PKCS#8 private.pem (0600) and PKIX public.pem", runKeygen},
		"sign":                {"print the to-be-signed string and the signature of request parameters", runSign},
		"verify-notification": {"check the signature of a captured payment notification", runVerifyNotification},
		"mock":                {"run the fake HipoPay on an address until interrupted", runMock},
		"pay":                 {"pay an order on a mock (POST _mock/pay): PAID, then the notification", runPay},
		"place-order":         {"place a mini-program order (POST wechatpay/mini_program/payment)", runPlaceOrder},
		"payment":             {"query a payment (GET payment)", runPayment},
		"forex-rate":          {"query the reference exchange rate (GET wechatpay/forex_rate)", runForexRate},
		"refund":              {"refund a payment, in full or in part (POST payment_refund)", runRefund},
		"refund-status":       {"query a refund (GET payment_refund)", runRefundStatus},
		"declare":             {"declare a sub-order to customs (POST wechatpay/declaration)", runDeclare},
		"redeclare":           {"re-declare to customs (POST wechatpay/redeclaration)", runRedeclare},
		"declaration":         {"query a customs declaration (GET wechatpay/declaration)", runDeclaration},
		"bill":                {"download the reconciliation file (GET download_bill)", runBill},
	}
}

// errUsage marks a mistake in the command line: exit status 2, the flag
// package has already said what is wrong.
var errUsage = errors.New("usage")

// exitError is a failure with its own exit status and message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// run runs the command line args (without the program name) and returns
// the exit status: 0 on success, 1 on failure, 2 on a usage error. An
// interrupt (SIGINT, SIGTERM) cancels the command's context.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runContext is run with the caller's context.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "hipopay: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		return ee.code
	default:
		fmt.Fprintf(stderr, "hipopay %s: %v\n", name, err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `hipopay: HipoPay from the command line.

Usage: hipopay COMMAND [flags] [arguments]   ("hipopay COMMAND -h" for its flags)

Commands:
`)
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-20s %s\n", n, cmds[n].summary)
	}
	fmt.Fprint(w, `
The API commands take -merchant, -key, -base-url and -sandbox, or the
environment variables HIPOPAY_MERCHANT_NO, HIPOPAY_PRIVATE_KEY (a PEM file),
HIPOPAY_BASE_URL and HIPOPAY_SANDBOX. They print the answer as JSON.
Flags go before arguments.
`)
}

// newFlagSet returns a flag set for a command that reports to stderr.
func newFlagSet(name, args string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: hipopay %s [flags] %s\n\n%s.\n\nFlags:\n", name, args, commands()[name].summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, mapping the flag package's errors to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// usageError reports a mistake in the command line and shows the usage.
func usageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "hipopay %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return errUsage
}
