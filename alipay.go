// Alipay's own calls: the reference exchange rate (GET alipay/forex_rate)
// and customs declarations of Alipay payments (POST alipay/declaration,
// POST alipay/redeclaration, GET alipay/declaration). HipoPay's reference
// does not document them: the fields are those its official SDKs send,
// and the answers are decoded into the WeChat declaration's type by
// inference (see README.md, "Payment methods").

package hipopay

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
)

// GetAlipayForexRate returns HipoPay's reference exchange rate for
// currency on Alipay, decoded like [Client.GetForexRate]'s (inferred: no
// source shows the answer).
//
// HipoPay endpoint: GET alipay/forex_rate.
//
// A malformed currency code is a [*ValidationError]; one HipoPay does not
// support is [ErrCurrencyNotSupported]. Retried like every read.
func (c *Client) GetAlipayForexRate(ctx context.Context, currency Currency) (*ForexRate, error) {
	q := forexQuery{currency}
	if err := q.validate(); err != nil {
		return nil, err
	}
	var f ForexRate
	if _, err := c.do(ctx, call{method: http.MethodGet, path: "alipay/forex_rate", params: encodeParams(q)}, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// AlipayDeclarationRequest declares an Alipay payment to a customs office.
// CertID and Name identify the buyer for an identity check: send both or
// neither. They never appear in the SDK's logs or errors, nor when the
// request itself is printed or logged.
type AlipayDeclarationRequest struct {
	OutOrderNo          string      `url:"out_order_no"`          // the merchant's order number (required)
	PaymentNo           string      `url:"payment_no"`            // HipoPay's payment number (required)
	Customs             CustomsCode `url:"customs"`               // customs office (required)
	MchCustomsNo        string      `url:"mch_customs_no"`        // the merchant's customs registration number (required)
	MerchantCustomsName string      `url:"merchant_customs_name"` // the merchant's name registered at customs (required)
	SubOrderNo          string      `url:"sub_order_no"`          // the merchant's sub-order number (required)
	SubOrderAmount      string      `url:"sub_order_amount"`      // decimal, at most two places (required)
	CertID              string      `url:"cert_id,omitempty"`     // the buyer's ID card number (personal data)
	Name                string      `url:"name,omitempty"`        // the buyer's name (personal data)
}

func (r *AlipayDeclarationRequest) validate() error {
	if r == nil {
		return invalid("request", "is nil")
	}
	for _, f := range []struct{ name, value string }{
		{"out_order_no", r.OutOrderNo}, {"payment_no", r.PaymentNo}, {"mch_customs_no", r.MchCustomsNo},
		{"merchant_customs_name", r.MerchantCustomsName}, {"sub_order_no", r.SubOrderNo},
	} {
		if err := required(f.name, f.value); err != nil {
			return err
		}
	}
	if err := validCustoms("customs", r.Customs); err != nil {
		return err
	}
	if err := validAmount("sub_order_amount", r.SubOrderAmount, CNY); err != nil {
		return err
	}
	return validIdentity(r.CertID, r.Name)
}

// String prints the request with the buyer's CertID and Name redacted.
func (r AlipayDeclarationRequest) String() string {
	r.CertID, r.Name = redact(r.CertID), redact(r.Name)
	type plain AlipayDeclarationRequest // no String method: no recursion
	return fmt.Sprintf("%+v", plain(r))
}

// GoString is String, so that %#v redacts too.
func (r AlipayDeclarationRequest) GoString() string { return r.String() }

// Format prints the request redacted whatever the verb.
func (r AlipayDeclarationRequest) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, "hipopay.AlipayDeclarationRequest", r.String())
}

// MarshalJSON writes the request with the buyer's CertID and Name
// redacted, for JSON loggers; it is not what is sent to HipoPay.
func (r AlipayDeclarationRequest) MarshalJSON() ([]byte, error) {
	r.CertID, r.Name = redact(r.CertID), redact(r.Name)
	type plain AlipayDeclarationRequest // no MarshalJSON method: no recursion
	return json.Marshal(plain(r))
}

// LogValue logs the request with the buyer's CertID and Name redacted.
func (r AlipayDeclarationRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("out_order_no", r.OutOrderNo), slog.String("payment_no", r.PaymentNo),
		slog.String("customs", string(r.Customs)), slog.String("sub_order_no", r.SubOrderNo),
		slog.String("cert_id", redact(r.CertID)), slog.String("name", redact(r.Name)))
}

// AlipayRedeclarationRequest re-declares an Alipay payment already
// declared. Identify it by SubOrderNo when the order was split, otherwise
// by PaymentNo or OutOrderNo.
type AlipayRedeclarationRequest struct {
	PaymentNo           string      `url:"payment_no,omitempty"`
	OutOrderNo          string      `url:"out_order_no,omitempty"`
	SubOrderNo          string      `url:"sub_order_no,omitempty"`
	Customs             CustomsCode `url:"customs"`               // required
	MchCustomsNo        string      `url:"mch_customs_no"`        // required
	MerchantCustomsName string      `url:"merchant_customs_name"` // required
}

func (r *AlipayRedeclarationRequest) validate() error {
	if r == nil {
		return invalid("request", "is nil")
	}
	if err := validIdentified(r.PaymentNo, r.OutOrderNo, r.SubOrderNo); err != nil {
		return err
	}
	if err := validCustoms("customs", r.Customs); err != nil {
		return err
	}
	if err := required("mch_customs_no", r.MchCustomsNo); err != nil {
		return err
	}
	return required("merchant_customs_name", r.MerchantCustomsName)
}

// AlipayDeclarationQuery identifies an Alipay declaration by exactly one
// of PaymentNo, OutOrderNo and SubOrderNo (no customs, unlike WeChat's).
type AlipayDeclarationQuery struct {
	PaymentNo  string `url:"payment_no,omitempty"`
	OutOrderNo string `url:"out_order_no,omitempty"`
	SubOrderNo string `url:"sub_order_no,omitempty"`
}

func (q AlipayDeclarationQuery) validate() error {
	given := ""
	for _, f := range []struct{ name, value string }{
		{"payment_no", q.PaymentNo}, {"out_order_no", q.OutOrderNo}, {"sub_order_no", q.SubOrderNo},
	} {
		if f.value == "" {
			continue
		}
		if blank(f.value) {
			return invalid(f.name, "is blank")
		}
		if given != "" {
			return invalid(f.name, "give exactly one of payment_no, out_order_no, sub_order_no (%s is given too)", given)
		}
		given = f.name
	}
	if given == "" {
		return invalid("payment_no", "one of payment_no, out_order_no or sub_order_no is required")
	}
	return nil
}

// DeclareAlipay declares a paid Alipay payment to a customs office. The
// answer is decoded as a [Declaration] by inference: no source shows it.
//
// HipoPay endpoint: POST alipay/declaration.
//
// Invalid input (a missing field, cert_id without name) is a
// [*ValidationError] before any network call. Never re-sent once it may
// have reached HipoPay: query it with [Client.GetAlipayDeclaration].
// HipoPay's refusals are [*APIError]; no error holds cert_id or name.
func (c *Client) DeclareAlipay(ctx context.Context, req *AlipayDeclarationRequest) (*Declaration, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	return c.declarationCall(ctx, call{method: http.MethodPost, path: "alipay/declaration",
		params: encodeParams(req), secrets: []string{req.CertID, req.Name}})
}

// RedeclareAlipay re-declares an Alipay payment to customs; the answer is
// decoded as a [Declaration] by inference.
//
// HipoPay endpoint: POST alipay/redeclaration.
//
// A request without an identifier, customs, mch_customs_no or
// merchant_customs_name is a [*ValidationError] before any network call.
// Never re-sent once it may have reached HipoPay. HipoPay's refusals are
// [*APIError].
func (c *Client) RedeclareAlipay(ctx context.Context, req *AlipayRedeclarationRequest) (*Declaration, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	return c.declarationCall(ctx, call{method: http.MethodPost, path: "alipay/redeclaration", params: encodeParams(req)})
}

// GetAlipayDeclaration returns the state of an Alipay customs declaration;
// the answer is decoded as a [Declaration] by inference.
//
// HipoPay endpoint: GET alipay/declaration.
//
// A query with no identifier, or more than one, is a [*ValidationError].
// Retried on network errors, 429 and 5xx. HipoPay's refusals are
// [*APIError].
func (c *Client) GetAlipayDeclaration(ctx context.Context, q AlipayDeclarationQuery) (*Declaration, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	return c.declarationCall(ctx, call{method: http.MethodGet, path: "alipay/declaration", params: encodeParams(q)})
}
