// The API commands: one per endpoint, printing HipoPay's answer as JSON
// with HipoPay's field names.

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// apiConfig is how an API command reaches HipoPay: flags, defaulting to
// the environment.
type apiConfig struct {
	merchant   string
	key        string
	baseURL    string
	sandbox    bool
	timeout    time.Duration
	sandboxErr error
}

// apiTimeout is the default -timeout of the API commands but bill.
const apiTimeout = time.Minute

// addAPIFlags adds the flags of an API command, with the default -timeout
// apiTimeout.
func addAPIFlags(fs *flag.FlagSet) *apiConfig {
	return addAPIFlagsWithTimeout(fs, apiTimeout, "give up after this long")
}

// addAPIFlagsWithTimeout is addAPIFlags with another default -timeout (0: no
// limit) and its description.
func addAPIFlagsWithTimeout(fs *flag.FlagSet, timeout time.Duration, timeoutUsage string) *apiConfig {
	c := &apiConfig{}
	fs.StringVar(&c.merchant, "merchant", os.Getenv("HIPOPAY_MERCHANT_NO"), "merchant number; default $HIPOPAY_MERCHANT_NO")
	fs.StringVar(&c.key, "key", os.Getenv("HIPOPAY_PRIVATE_KEY"), "merchant private key PEM file; default $HIPOPAY_PRIVATE_KEY")
	fs.StringVar(&c.baseURL, "base-url", os.Getenv("HIPOPAY_BASE_URL"), "API base URL (a mock's); default $HIPOPAY_BASE_URL, else production or sandbox")
	sandbox := false
	if v := os.Getenv("HIPOPAY_SANDBOX"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			c.sandboxErr = fmt.Errorf("HIPOPAY_SANDBOX=%q is not a boolean", v)
		}
		sandbox = b
	}
	fs.BoolVar(&c.sandbox, "sandbox", sandbox, "call HipoPay's sandbox; default $HIPOPAY_SANDBOX")
	fs.DurationVar(&c.timeout, "timeout", timeout, timeoutUsage)
	return c
}

// requireCredentials notes a missing merchant number or key.
func (c *apiConfig) requireCredentials(p *usageProblems) {
	if c.merchant == "" {
		p.need("-merchant (or HIPOPAY_MERCHANT_NO)")
	}
	if c.key == "" {
		p.need("-key (or HIPOPAY_PRIVATE_KEY)")
	}
}

// newClient builds the SDK client from the flags and environment; the
// merchant number and key were checked by requireCredentials.
func (c *apiConfig) newClient() (*hipopay.Client, error) {
	if c.sandboxErr != nil {
		return nil, c.sandboxErr
	}
	key, err := hipopay.LoadPrivateKey(c.key)
	if err != nil {
		return nil, err
	}
	var opts []hipopay.Option
	if c.sandbox {
		opts = append(opts, hipopay.WithSandbox())
	}
	if c.baseURL != "" {
		opts = append(opts, hipopay.WithBaseURL(c.baseURL))
	}
	return hipopay.NewClient(c.merchant, key, opts...)
}

// withTimeout bounds ctx by -timeout, if any; ctx itself ends on an
// interrupt.
func (c *apiConfig) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// runAPICommand parses an API command's flags (defined by defineFlags, whose
// returned function notes what is missing or wrong once they are parsed),
// reports every usage problem at once, then runs call with a client and
// prints its result as JSON. call may return a result and an error both
// (a refund HipoPay refused): the result is printed, the error decides
// the exit status.
func runAPICommand(ctx context.Context, name, argsUsage string, args []string, stdout, stderr io.Writer,
	defineFlags func(fs *flag.FlagSet) func(p *usageProblems),
	call func(ctx context.Context, c *hipopay.Client) (any, error)) error {
	fs := newFlagSet(name, argsUsage, stderr)
	cfg := addAPIFlags(fs)
	check := defineFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var problems usageProblems
	if check != nil {
		check(&problems)
	}
	cfg.requireCredentials(&problems)
	if fs.NArg() > 0 {
		problems.invalidf("unexpected arguments %q", fs.Args())
	}
	if err := problems.report(fs); err != nil {
		return err
	}
	client, err := cfg.newClient()
	if err != nil {
		return err
	}
	ctx, cancel := cfg.withTimeout(ctx)
	defer cancel()
	out, err := call(ctx, client)
	if out != nil {
		if perr := printJSON(stdout, out); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

// printJSON writes v as indented JSON, HTML characters as they are.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func runPlaceOrder(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var req hipopay.PlaceOrderRequest
	var currency, method string
	return runAPICommand(ctx, "place-order", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*usageProblems) {
		fs.StringVar(&method, "method", "WeChatMiniProgram", "payment method: a Go constant's name (AlipayQR) or its path (alipay/qrcode/payment); see README \"Payment methods\"")
		fs.StringVar(&req.OutTradeID, "out-trade-id", "", "your order number (required)")
		fs.StringVar(&req.Amount, "amount", "", "amount, e.g. 8.88; no decimals in JPY and KRW (required)")
		fs.StringVar(&currency, "currency", "", "pricing currency, e.g. HKD (required; HKD on WeChat's HK wallet)")
		fs.StringVar(&req.ProductInfo, "product-info", "", "product description (required)")
		fs.StringVar(&req.AppID, "appid", "", "WeChat appid: the mini-program's or the app's (mini-programs, apps)")
		fs.StringVar(&req.OpenID, "openid", "", "the buyer's openid (mini-programs, official accounts)")
		fs.StringVar(&req.AuthCode, "auth-code", "", "the buyer's payment code, scanned (barcodes)")
		fs.StringVar(&req.ReturnURL, "return-url", "", "where the buyer returns after paying (AlipayWap)")
		fs.BoolVar(&req.HKWallet, "hk-wallet", false, "pay with the AlipayHK wallet (AlipayWap, AlipayWeb, AlipayQR, AlipayBarcode)")
		fs.StringVar(&req.ResponseVersion, "response-version", "", "e.g. 3.0: the notification gains pay_rate, bank_type, promotion_detail")
		fs.StringVar(&req.ClientIP, "client-ip", "", "the buyer's IP address (required)")
		fs.StringVar(&req.NotifyURL, "notify-url", "", "where HipoPay posts the payment notification")
		fs.BoolVar(&req.IsRMB, "rmb", false, "price the order in CNY (is_rmb=TRUE)")
		return func(p *usageProblems) {
			req.Currency = hipopay.Currency(currency)
			m, ok := parseMethod(method)
			if !ok {
				p.invalidf("-method %q is not a payment method (%s)", method, strings.Join(methodNames(), ", "))
			}
			req.Method = m
			p.requireFlags("out-trade-id", req.OutTradeID, "amount", req.Amount, "currency", currency, "product-info", req.ProductInfo)
			for _, wire := range m.RequiredFields() {
				name, value := strings.ReplaceAll(wire, "_", "-"), ""
				if f := fs.Lookup(name); f != nil {
					value = f.Value.String()
				}
				p.require(name, value)
			}
			p.require("client-ip", req.ClientIP)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		p, err := c.PlaceOrder(ctx, &req)
		if err != nil {
			return nil, err
		}
		return paymentOutput(p)
	})
}

// paymentMethods names every payment method by its Go constant.
func paymentMethods() map[string]hipopay.PaymentMethod {
	return map[string]hipopay.PaymentMethod{
		"WeChatMiniProgram": hipopay.WeChatMiniProgram, "WeChatMiniProgramHK": hipopay.WeChatMiniProgramHK,
		"WeChatOfficialAccount": hipopay.WeChatOfficialAccount, "WeChatOfficialAccountHK": hipopay.WeChatOfficialAccountHK,
		"WeChatApp": hipopay.WeChatApp, "WeChatAppHK": hipopay.WeChatAppHK, "WeChatWebQR": hipopay.WeChatWebQR,
		"WeChatDeviceQR": hipopay.WeChatDeviceQR, "WeChatBarcode": hipopay.WeChatBarcode, "AlipayApp": hipopay.AlipayApp,
		"AlipayWap": hipopay.AlipayWap, "AlipayWeb": hipopay.AlipayWeb, "AlipayQR": hipopay.AlipayQR,
		"AlipayBarcode": hipopay.AlipayBarcode,
	}
}

// parseMethod reads -method: a constant's name (any case) or a path.
func parseMethod(s string) (hipopay.PaymentMethod, bool) {
	for name, m := range paymentMethods() {
		if strings.EqualFold(s, name) {
			return m, true
		}
	}
	m := hipopay.PaymentMethod(strings.Trim(s, "/"))
	return m, m.Known() && m != ""
}

// methodNames lists the constants' names, in hipopay.PaymentMethods order.
func methodNames() []string {
	byMethod := map[hipopay.PaymentMethod]string{}
	for name, m := range paymentMethods() {
		byMethod[m] = name
	}
	var out []string
	for _, m := range hipopay.PaymentMethods() {
		out = append(out, byMethod[m])
	}
	return out
}

func runPayment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var q hipopay.PaymentQuery
	return runAPICommand(ctx, "payment", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*usageProblems) {
		fs.StringVar(&q.PaymentNo, "payment-no", "", "HipoPay's payment number")
		fs.StringVar(&q.OutTradeID, "out-trade-id", "", "your order number")
		return func(p *usageProblems) {
			p.requireOneOf([]string{"payment-no", "out-trade-id"}, q.PaymentNo, q.OutTradeID)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		p, err := c.GetPayment(ctx, q)
		if err != nil {
			return nil, err
		}
		return paymentOutput(p)
	})
}

func runForexRate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var currency string
	return runAPICommand(ctx, "forex-rate", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*usageProblems) {
		fs.StringVar(&currency, "currency", "", "currency, e.g. USD (required)")
		return func(p *usageProblems) { p.require("currency", currency) }
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		r, err := c.GetForexRate(ctx, hipopay.Currency(currency))
		if err != nil {
			return nil, err
		}
		return r, nil
	})
}

func runRefund(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var req hipopay.RefundRequest
	return runAPICommand(ctx, "refund", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*usageProblems) {
		fs.StringVar(&req.PaymentNo, "payment-no", "", "HipoPay's payment number (required)")
		fs.StringVar(&req.OutRefundID, "out-refund-id", "", "your refund number; reuse it to retry (required)")
		fs.StringVar(&req.RefundAmount, "amount", "", "amount to refund (default: the whole payment)")
		return func(p *usageProblems) {
			p.requireFlags("payment-no", req.PaymentNo, "out-refund-id", req.OutRefundID)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		r, err := c.Refund(ctx, &req)
		if err != nil {
			return nil, err
		}
		out, err := refundOutput(r)
		if err == nil && r.Status == hipopay.RefundStatusFail {
			// Printed, and exit status 3: HipoPay refused it.
			err = &exitError{code: exitRefused, msg: fmt.Sprintf(
				"HipoPay refused the refund: result code %s (%s)%s", r.ResultCode, r.ResultCode.Message(), retryHint(r.ResultCode))}
		}
		return out, err
	})
}

func runRefundStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var q hipopay.RefundQuery
	return runAPICommand(ctx, "refund-status", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*usageProblems) {
		fs.StringVar(&q.RefundNo, "refund-no", "", "HipoPay's refund number")
		fs.StringVar(&q.OutRefundID, "out-refund-id", "", "your refund number")
		return func(p *usageProblems) {
			p.requireOneOf([]string{"refund-no", "out-refund-id"}, q.RefundNo, q.OutRefundID)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		r, err := c.GetRefund(ctx, q)
		if err != nil {
			return nil, err
		}
		return refundOutput(r)
	})
}

func runDeclare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var req hipopay.DeclarationRequest
	var customs, action string
	return runAPICommand(ctx, "declare", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*usageProblems) {
		fs.StringVar(&req.OutOrderNo, "out-order-no", "", "your order number (required)")
		fs.StringVar(&req.PaymentNo, "payment-no", "", "HipoPay's payment number (required)")
		fs.StringVar(&customs, "customs", "", "customs code, e.g. SHENZHEN (required)")
		fs.StringVar(&req.MchCustomsNo, "mch-customs-no", "", "your customs registration number (required)")
		fs.IntVar(&req.Duty, "duty", 0, "duty in 0.01 CNY, for the customs that want it")
		fs.StringVar(&action, "action", "", "ADD (default) or MODIFY")
		fs.StringVar(&req.SubOrderNo, "sub-order-no", "", "your sub-order number (required)")
		fs.StringVar(&req.SubOrderAmount, "sub-order-amount", "", "sub-order amount = transport + product (required)")
		fs.StringVar(&req.TransportAmount, "transport-amount", "", "logistics charge (required)")
		fs.StringVar(&req.ProductAmount, "product-amount", "", "product price (required)")
		fs.StringVar(&req.CertID, "cert-id", os.Getenv("HIPOPAY_CERT_ID"), "buyer's ID card number, for an identity check; default $HIPOPAY_CERT_ID (prefer it: flags stay in shell history)")
		fs.StringVar(&req.Name, "name", os.Getenv("HIPOPAY_BUYER_NAME"), "buyer's name, with -cert-id; default $HIPOPAY_BUYER_NAME")
		return func(p *usageProblems) {
			req.Customs, req.ActionType = hipopay.CustomsCode(customs), hipopay.ActionType(action)
			p.requireFlags("out-order-no", req.OutOrderNo, "payment-no", req.PaymentNo, "customs", customs,
				"mch-customs-no", req.MchCustomsNo, "sub-order-no", req.SubOrderNo, "sub-order-amount", req.SubOrderAmount,
				"transport-amount", req.TransportAmount, "product-amount", req.ProductAmount)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		d, err := c.Declare(ctx, &req)
		if err != nil {
			return nil, err
		}
		return declarationOutput(d)
	})
}

func runRedeclare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var req hipopay.RedeclarationRequest
	var customs string
	return runAPICommand(ctx, "redeclare", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*usageProblems) {
		fs.StringVar(&req.PaymentNo, "payment-no", "", "HipoPay's payment number")
		fs.StringVar(&req.OutOrderNo, "out-order-no", "", "your order number")
		fs.StringVar(&req.SubOrderNo, "sub-order-no", "", "your sub-order number (when the order was split)")
		fs.StringVar(&customs, "customs", "", "customs code (required)")
		fs.StringVar(&req.MchCustomsNo, "mch-customs-no", "", "your customs registration number (required)")
		return func(p *usageProblems) {
			req.Customs = hipopay.CustomsCode(customs)
			p.requireOneOf([]string{"payment-no", "out-order-no", "sub-order-no"}, req.PaymentNo, req.OutOrderNo, req.SubOrderNo)
			p.requireFlags("customs", customs, "mch-customs-no", req.MchCustomsNo)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		d, err := c.Redeclare(ctx, &req)
		if err != nil {
			return nil, err
		}
		return declarationOutput(d)
	})
}

func runDeclaration(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var q hipopay.DeclarationQuery
	var customs string
	return runAPICommand(ctx, "declaration", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*usageProblems) {
		fs.StringVar(&q.PaymentNo, "payment-no", "", "HipoPay's payment number")
		fs.StringVar(&q.OutOrderNo, "out-order-no", "", "your order number")
		fs.StringVar(&q.SubOrderNo, "sub-order-no", "", "your sub-order number (when the order was split)")
		fs.StringVar(&customs, "customs", "", "customs code (required)")
		return func(p *usageProblems) {
			q.Customs = hipopay.CustomsCode(customs)
			p.requireOneOf([]string{"payment-no", "out-order-no", "sub-order-no"}, q.PaymentNo, q.OutOrderNo, q.SubOrderNo)
			p.require("customs", customs)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		d, err := c.GetDeclaration(ctx, q)
		if err != nil {
			return nil, err
		}
		return declarationOutput(d)
	})
}

// formatHipoPayTime writes t as HipoPay does (UTC+8); "" for the zero time.
func formatHipoPayTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(hipopay.ChinaTimeZone()).Format("2006-01-02 15:04:05")
}

// retryHint says whether trying the refund again may help, by the
// reference's result-code table.
func retryHint(code hipopay.RefundResultCode) string {
	if code.Retryable() {
		return "; trying again may help"
	}
	return ""
}
