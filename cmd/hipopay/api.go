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
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// apiConfig is how an API command reaches HipoPay: flags, defaulting to
// the environment.
type apiConfig struct {
	merchant string
	key      string
	baseURL  string
	sandbox  bool
	timeout  time.Duration
	sandboxE error
}

// apiTimeout is the default -timeout of the API commands but bill.
const apiTimeout = time.Minute

// addAPIFlags adds the flags of an API command, with the default -timeout
// apiTimeout.
func addAPIFlags(fs *flag.FlagSet) *apiConfig {
	return addAPIFlagsTimeout(fs, apiTimeout, "give up after this long")
}

// addAPIFlagsTimeout is addAPIFlags with another default -timeout (0: no
// limit) and its description.
func addAPIFlagsTimeout(fs *flag.FlagSet, timeout time.Duration, timeoutUsage string) *apiConfig {
	c := &apiConfig{}
	fs.StringVar(&c.merchant, "merchant", os.Getenv("HIPOPAY_MERCHANT_NO"), "merchant number; default $HIPOPAY_MERCHANT_NO")
	fs.StringVar(&c.key, "key", os.Getenv("HIPOPAY_PRIVATE_KEY"), "merchant private key PEM file; default $HIPOPAY_PRIVATE_KEY")
	fs.StringVar(&c.baseURL, "base-url", os.Getenv("HIPOPAY_BASE_URL"), "API base URL (a mock's); default $HIPOPAY_BASE_URL, else production or sandbox")
	sandbox := false
	if v := os.Getenv("HIPOPAY_SANDBOX"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			c.sandboxE = fmt.Errorf("HIPOPAY_SANDBOX=%q is not a boolean", v)
		}
		sandbox = b
	}
	fs.BoolVar(&c.sandbox, "sandbox", sandbox, "call HipoPay's sandbox; default $HIPOPAY_SANDBOX")
	fs.DurationVar(&c.timeout, "timeout", timeout, timeoutUsage)
	return c
}

// client builds the SDK client; fs reports a missing merchant or key.
func (c *apiConfig) client(fs *flag.FlagSet) (*hipopay.Client, error) {
	if c.sandboxE != nil {
		return nil, c.sandboxE
	}
	if c.merchant == "" || c.key == "" {
		return nil, usageError(fs, "the merchant number and key are required (-merchant and -key, or HIPOPAY_MERCHANT_NO and HIPOPAY_PRIVATE_KEY)")
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

// context bounds ctx by -timeout, if any; ctx itself ends on an interrupt.
func (c *apiConfig) context(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// apiCommand parses an API command's flags (added by define) and runs call
// with a client, printing its result as JSON.
func apiCommand(ctx context.Context, name, argsUsage string, args []string, stdout, stderr io.Writer,
	define func(fs *flag.FlagSet) func(fs *flag.FlagSet) error,
	call func(ctx context.Context, c *hipopay.Client) (any, error)) error {
	fs := newFlagSet(name, argsUsage, stderr)
	cfg := addAPIFlags(fs)
	check := define(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments %q", fs.Args())
	}
	if check != nil {
		if err := check(fs); err != nil {
			return err
		}
	}
	client, err := cfg.client(fs)
	if err != nil {
		return err
	}
	ctx, cancel := cfg.context(ctx)
	defer cancel()
	out, err := call(ctx, client)
	if err != nil {
		return err
	}
	return printJSON(stdout, out)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func required(fs *flag.FlagSet, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return usageError(fs, "-%s is required", pairs[i])
		}
	}
	return nil
}

func runPlaceOrder(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var req hipopay.PlaceOrderRequest
	var currency string
	return apiCommand(ctx, "place-order", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*flag.FlagSet) error {
		fs.StringVar(&req.OutTradeID, "out-trade-id", "", "your order number (required)")
		fs.StringVar(&req.Amount, "amount", "", "amount, e.g. 8.88; no decimals in JPY and KRW (required)")
		fs.StringVar(&currency, "currency", "", "pricing currency, e.g. HKD (required)")
		fs.StringVar(&req.ProductInfo, "product-info", "", "product description (required)")
		fs.StringVar(&req.AppID, "appid", "", "the mini-program's WeChat appid (required)")
		fs.StringVar(&req.OpenID, "openid", "", "the buyer's openid (required)")
		fs.StringVar(&req.ClientIP, "client-ip", "", "the buyer's IP address (required)")
		fs.StringVar(&req.NotifyURL, "notify-url", "", "where HipoPay posts the payment notification")
		fs.BoolVar(&req.IsRMB, "rmb", false, "price the order in CNY (is_rmb=TRUE)")
		return func(fs *flag.FlagSet) error {
			req.Currency = hipopay.Currency(currency)
			return required(fs, "out-trade-id", req.OutTradeID, "amount", req.Amount, "currency", currency,
				"product-info", req.ProductInfo, "appid", req.AppID, "openid", req.OpenID, "client-ip", req.ClientIP)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		p, err := c.PlaceOrder(ctx, &req)
		if err != nil {
			return nil, err
		}
		return paymentOut(p), nil
	})
}

func runPayment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var q hipopay.PaymentQuery
	return apiCommand(ctx, "payment", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*flag.FlagSet) error {
		fs.StringVar(&q.PaymentNo, "payment-no", "", "HipoPay's payment number")
		fs.StringVar(&q.OutTradeID, "out-trade-id", "", "your order number")
		return func(fs *flag.FlagSet) error {
			if q.PaymentNo == "" && q.OutTradeID == "" {
				return usageError(fs, "-payment-no or -out-trade-id is required")
			}
			return nil
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		p, err := c.GetPayment(ctx, q)
		if err != nil {
			return nil, err
		}
		return paymentOut(p), nil
	})
}

func runForexRate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var currency string
	return apiCommand(ctx, "forex-rate", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*flag.FlagSet) error {
		fs.StringVar(&currency, "currency", "", "currency, e.g. USD (required)")
		return func(fs *flag.FlagSet) error { return required(fs, "currency", currency) }
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		r, err := c.GetForexRate(ctx, hipopay.Currency(currency))
		if err != nil {
			return nil, err
		}
		return map[string]string{"currency": string(r.Currency), "forex_rate": r.Rate}, nil
	})
}

func runRefund(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var req hipopay.RefundRequest
	return apiCommand(ctx, "refund", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*flag.FlagSet) error {
		fs.StringVar(&req.PaymentNo, "payment-no", "", "HipoPay's payment number (required)")
		fs.StringVar(&req.OutRefundID, "out-refund-id", "", "your refund number; reuse it to retry (required)")
		fs.StringVar(&req.RefundAmount, "amount", "", "amount to refund (default: the whole payment)")
		return func(fs *flag.FlagSet) error {
			return required(fs, "payment-no", req.PaymentNo, "out-refund-id", req.OutRefundID)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		r, err := c.Refund(ctx, &req)
		if err != nil {
			return nil, err
		}
		return refundOut(r), nil
	})
}

func runRefundStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var q hipopay.RefundQuery
	return apiCommand(ctx, "refund-status", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*flag.FlagSet) error {
		fs.StringVar(&q.RefundNo, "refund-no", "", "HipoPay's refund number")
		fs.StringVar(&q.OutRefundID, "out-refund-id", "", "your refund number")
		return func(fs *flag.FlagSet) error {
			if q.RefundNo == "" && q.OutRefundID == "" {
				return usageError(fs, "-refund-no or -out-refund-id is required")
			}
			return nil
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		r, err := c.GetRefund(ctx, q)
		if err != nil {
			return nil, err
		}
		return refundOut(r), nil
	})
}

func runDeclare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var req hipopay.DeclarationRequest
	var customs, action string
	return apiCommand(ctx, "declare", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*flag.FlagSet) error {
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
		return func(fs *flag.FlagSet) error {
			req.Customs, req.ActionType = hipopay.CustomsCode(customs), hipopay.ActionType(action)
			return required(fs, "out-order-no", req.OutOrderNo, "payment-no", req.PaymentNo, "customs", customs,
				"mch-customs-no", req.MchCustomsNo, "sub-order-no", req.SubOrderNo, "sub-order-amount", req.SubOrderAmount,
				"transport-amount", req.TransportAmount, "product-amount", req.ProductAmount)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		d, err := c.Declare(ctx, &req)
		if err != nil {
			return nil, err
		}
		return declarationOut(d), nil
	})
}

func runRedeclare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var req hipopay.RedeclarationRequest
	var customs string
	return apiCommand(ctx, "redeclare", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*flag.FlagSet) error {
		fs.StringVar(&req.PaymentNo, "payment-no", "", "HipoPay's payment number")
		fs.StringVar(&req.OutOrderNo, "out-order-no", "", "your order number")
		fs.StringVar(&req.SubOrderNo, "sub-order-no", "", "your sub-order number (when the order was split)")
		fs.StringVar(&customs, "customs", "", "customs code (required)")
		fs.StringVar(&req.MchCustomsNo, "mch-customs-no", "", "your customs registration number (required)")
		return func(fs *flag.FlagSet) error {
			req.Customs = hipopay.CustomsCode(customs)
			if req.PaymentNo == "" && req.OutOrderNo == "" && req.SubOrderNo == "" {
				return usageError(fs, "one of -payment-no, -out-order-no, -sub-order-no is required")
			}
			return required(fs, "customs", customs, "mch-customs-no", req.MchCustomsNo)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		d, err := c.Redeclare(ctx, &req)
		if err != nil {
			return nil, err
		}
		return declarationOut(d), nil
	})
}

func runDeclaration(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var q hipopay.DeclarationQuery
	var customs string
	return apiCommand(ctx, "declaration", "", args, stdout, stderr, func(fs *flag.FlagSet) func(*flag.FlagSet) error {
		fs.StringVar(&q.PaymentNo, "payment-no", "", "HipoPay's payment number")
		fs.StringVar(&q.OutOrderNo, "out-order-no", "", "your order number")
		fs.StringVar(&q.SubOrderNo, "sub-order-no", "", "your sub-order number (when the order was split)")
		fs.StringVar(&customs, "customs", "", "customs code (required)")
		return func(fs *flag.FlagSet) error {
			q.Customs = hipopay.CustomsCode(customs)
			if q.PaymentNo == "" && q.OutOrderNo == "" && q.SubOrderNo == "" {
				return usageError(fs, "one of -payment-no, -out-order-no, -sub-order-no is required")
			}
			return required(fs, "customs", customs)
		}
	}, func(ctx context.Context, c *hipopay.Client) (any, error) {
		d, err := c.GetDeclaration(ctx, q)
		if err != nil {
			return nil, err
		}
		return declarationOut(d), nil
	})
}

// Output with HipoPay's field names; times as HipoPay writes them (UTC+8),
// omitted when unset.

type prepayOutput struct {
	NonceStr  string `json:"nonceStr"`
	OrderNo   string `json:"order_no"`
	PaySign   string `json:"paySign"`
	PrepayID  string `json:"prepay_id"`
	TimeStamp string `json:"timeStamp"`
	// RequestPayment is the object for wx.requestPayment (WeChat's classic
	// JSAPI convention).
	RequestPayment hipopay.WxRequestPayment `json:"wx_request_payment"`
}

type paymentOutput struct {
	Amount       string        `json:"amount"`
	Currency     string        `json:"currency"`
	ExchangeRate string        `json:"exchange_rate,omitempty"`
	OutTradeID   string        `json:"out_trade_id"`
	PaymentNo    string        `json:"payment_no"`
	Status       string        `json:"status"`
	ProductInfo  string        `json:"product_info"`
	TradeTime    string        `json:"trade_time,omitempty"`
	FinishTime   string        `json:"finish_time,omitempty"`
	TradeType    string        `json:"trade_type"`
	PrepayParams *prepayOutput `json:"prepay_params,omitempty"`
}

func paymentOut(p *hipopay.Payment) paymentOutput {
	out := paymentOutput{
		Amount: p.Amount, Currency: string(p.Currency), ExchangeRate: p.ExchangeRate, OutTradeID: p.OutTradeID,
		PaymentNo: p.PaymentNo, Status: string(p.Status), ProductInfo: p.ProductInfo,
		TradeTime: hipopayTime(p.TradeTime), FinishTime: hipopayTime(p.FinishTime), TradeType: p.TradeType,
	}
	if pp := p.PrepayParams; pp != nil {
		out.PrepayParams = &prepayOutput{
			NonceStr: pp.NonceStr, OrderNo: pp.OrderNo, PaySign: pp.PaySign, PrepayID: pp.PrepayID, TimeStamp: pp.TimeStamp,
			RequestPayment: pp.RequestPayment(),
		}
	}
	return out
}

type refundOutput struct {
	RefundNo      string `json:"refund_no"`
	OutRefundID   string `json:"out_refund_id"`
	Status        string `json:"status"`
	RefundAmount  string `json:"refund_amount"`
	PaymentNo     string `json:"payment_no"`
	FinishTime    string `json:"finish_time,omitempty"`
	ResultCode    string `json:"result_code,omitempty"`
	ResultMessage string `json:"result_message,omitempty"` // the result-code table's message
	FailMessage   string `json:"fail_message,omitempty"`
	ReturnMessage string `json:"return_message,omitempty"`
}

func refundOut(r *hipopay.Refund) refundOutput {
	return refundOutput{
		RefundNo: r.RefundNo, OutRefundID: r.OutRefundID, Status: string(r.Status), RefundAmount: r.RefundAmount,
		PaymentNo: r.PaymentNo, FinishTime: hipopayTime(r.FinishTime), ResultCode: string(r.ResultCode),
		ResultMessage: r.ResultCode.Message(), FailMessage: r.FailMessage, ReturnMessage: r.ReturnMessage,
	}
}

type declarationOutput struct {
	OutOrderNo       string          `json:"out_order_no"`
	PaymentNo        string          `json:"payment_no"`
	Customs          string          `json:"customs"`
	WechatpayNo      string          `json:"wechatpay_no,omitempty"`
	State            string          `json:"state"`
	ModifyTime       string          `json:"modify_time,omitempty"`
	VerDept          string          `json:"ver_dept,omitempty"`
	PayTransactionID string          `json:"pay_transaction_id,omitempty"`
	SubOrderNo       string          `json:"sub_order_no,omitempty"`
	SubOrderAmount   string          `json:"sub_order_amount,omitempty"`
	TransportAmount  string          `json:"transport_amount,omitempty"`
	ProductAmount    string          `json:"product_amount,omitempty"`
	CertCheckResult  string          `json:"cert_check_result,omitempty"`
	Explanation      string          `json:"explanation,omitempty"`
	RawResponse      json.RawMessage `json:"raw_response,omitempty"` // the customs' document, decoded from its string
}

func declarationOut(d *hipopay.Declaration) declarationOutput {
	out := declarationOutput{
		OutOrderNo: d.OutOrderNo, PaymentNo: d.PaymentNo, Customs: string(d.Customs), WechatpayNo: d.WechatpayNo,
		State: string(d.State), ModifyTime: hipopayTime(d.ModifyTime), VerDept: string(d.VerDept),
		PayTransactionID: d.PayTransactionID, SubOrderNo: d.SubOrderNo, SubOrderAmount: d.SubOrderAmount,
		TransportAmount: d.TransportAmount, ProductAmount: d.ProductAmount, CertCheckResult: string(d.CertCheckResult),
		Explanation: d.Explanation,
	}
	if d.RawResponse != nil && json.Valid(d.RawResponse.JSON) {
		out.RawResponse = d.RawResponse.JSON
	}
	return out
}

func hipopayTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(hipopay.ChinaTimeZone()).Format("2006-01-02 15:04:05")
}
