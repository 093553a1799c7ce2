// Command hipopay is HipoPay from the command line: make and check keys and
// signatures, call every endpoint against the sandbox, production or a
// mock, download the reconciliation file, and run the fake HipoPay of
// package hipopaytest as a server.
//
//	go install github.com/hipopay-go/hipopay/cmd/hipopay@latest
//
//	hipopay keygen -dir ~/hipopay-keys
//	hipopay sign -key ~/hipopay-keys/private.pem -timestamp 1550548767 amount=8.88 currency=HKD
//	hipopay mock -addr 127.0.0.1:8080
//	hipopay place-order -out-trade-id ORDER-1 -amount 8.88 -currency HKD ...
//	hipopay bill -start 20240301 -end 20240331 -out bill.txt
//
// Run "hipopay -h" for every command, "hipopay COMMAND -h" for its flags.
//
// Exit status: 0 done; 1 error (network, file, timeout); 2 usage (a flag
// missing or invalid); 3 HipoPay answered but refused (a business error
// such as PAYMENT_NOT_FOUND, a refund with status FAIL).
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
	"strings"
	"syscall"

	hipopay "github.com/hipopay-go/hipopay"
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
		"keygen":              {"make a merchant key pair in -dir: PKCS#8 private.pem (0600) and PKIX public.pem", runKeygen},
		"sign":                {"print the to-be-signed string and the signature of request parameters", runSign},
		"verify-notification": {"check the signature of a captured payment notification", runVerifyNotification},
		"mock":                {"run the fake HipoPay on an address until interrupted", runMock},
		"pay":                 {"pay an order on a mock (POST _mock/pay): PAID, then the notification", runPay},
		"place-order":         {"place an order of any payment method (-method; POST wechatpay/mini_program/payment by default)", runPlaceOrder},
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

// Exit statuses, as "hipopay -h" documents them.
const (
	exitOK      = 0 // done
	exitFailed  = 1 // failed: network, file, timeout, a mock that refused
	exitUsage   = 2 // the command line is wrong
	exitRefused = 3 // HipoPay answered, and refused what was asked
)

// exitStatusHelp is the exit statuses, for the help texts.
const exitStatusHelp = `Exit status: 0 done; 1 error (network, file, timeout); 2 usage (a flag
missing or invalid, or a value the SDK refuses before sending); 3 HipoPay
answered but refused (a business error such as PAYMENT_NOT_FOUND or
ILLEGAL_SECURITY_PROFILE, a refund with status FAIL).
`

// errUsage marks a mistake in the command line: exit status 2, the flag
// package or usageError has already said what is wrong.
var errUsage = errors.New("usage")

// exitError is a failure with its own exit status and message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// run runs the command line args (without the program name) and returns
// the exit status (see exitStatusHelp). An interrupt (SIGINT, SIGTERM)
// cancels the command's context.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runContext is run with the caller's context.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "hipopay: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	code := exitStatus(err)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp), errors.Is(err, errUsage):
		// Nothing to say, or said already.
	default:
		var ee *exitError
		if errors.As(err, &ee) && ee.msg == "" {
			break
		}
		fmt.Fprintf(stderr, "hipopay %s: %s\n", name, errorText(err))
	}
	return code
}

// exitStatus maps a command's error to the exit status.
func exitStatus(err error) int {
	var ee *exitError
	var apiErr *hipopay.APIError
	var verr *hipopay.ValidationError
	var conflict *hipopay.RefundConflictError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage), errors.As(err, &verr):
		return exitUsage
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &conflict):
		return exitRefused
	case errors.As(err, &apiErr) && apiErr.Code != "" && !apiErr.Temporary():
		// HipoPay's own answer {"is_success": false, "error": CODE}; a
		// 5xx, a proxy's page or a body that is not HipoPay's is an error.
		return exitRefused
	}
	return exitFailed
}

// errorText is err's message without the "hipopay: " prefixes each layer
// of the SDK adds: the CLI names itself once, in front.
func errorText(err error) string {
	parts := strings.Split(err.Error(), ": ")
	kept := parts[:0]
	for _, p := range parts {
		if p != "hipopay" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ": ")
}

// usage writes "hipopay -h": the commands, the common flags, the exit
// statuses.
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

Install: go install github.com/hipopay-go/hipopay/cmd/hipopay@latest

`+exitStatusHelp)
}

// newFlagSet returns a flag set for a command that reports to stderr.
func newFlagSet(name, args string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: hipopay %s [flags] %s\n\n%s.\n\nFlags:\n", name, args, commands()[name].summary)
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\n"+exitStatusHelp)
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

// usageProblems collects what is wrong with a command line, so that it is
// reported at once: every missing required flag in one list, then the
// other mistakes.
type usageProblems struct {
	missing []string // e.g. "-amount", "-payment-no or -out-trade-id"
	invalid []string // e.g. "-bits 1024 is under 2048"
}

// require notes flag as missing when its value is empty.
func (p *usageProblems) require(flag, value string) {
	if value == "" {
		p.missing = append(p.missing, "-"+flag)
	}
}

// requireFlags is require for name, value pairs.
func (p *usageProblems) requireFlags(pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		p.require(pairs[i], pairs[i+1])
	}
}

// requireOneOf notes the flags as missing when none of them has a value.
func (p *usageProblems) requireOneOf(flags []string, values ...string) {
	for _, v := range values {
		if v != "" {
			return
		}
	}
	p.missing = append(p.missing, "-"+strings.Join(flags, " or -"))
}

// need notes something missing that is not a single flag, e.g. an
// argument.
func (p *usageProblems) need(what string) { p.missing = append(p.missing, what) }

// invalidf notes a mistake other than a missing flag.
func (p *usageProblems) invalidf(format string, args ...any) {
	p.invalid = append(p.invalid, fmt.Sprintf(format, args...))
}

// report returns nil when nothing is wrong; otherwise it writes one line
// listing every problem, then the usage, and returns errUsage.
func (p *usageProblems) report(fs *flag.FlagSet) error {
	var all []string
	if len(p.missing) > 0 {
		all = append(all, "missing "+strings.Join(p.missing, ", "))
	}
	all = append(all, p.invalid...)
	if len(all) == 0 {
		return nil
	}
	return usageError(fs, "%s", strings.Join(all, "; "))
}
