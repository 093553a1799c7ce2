package hipopaytest_test

// Alipay's own endpoints at the fake: the forex rate and the customs
// declarations of an Alipay payment, driven through the SDK.

import (
	"net/http"
	"net/url"
	"testing"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAlipayForexRate(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	ctx := ctxT(t)
	ali, err := c.GetAlipayForexRate(ctx, hipopay.USD)
	require.NoError(t, err)
	wx, err := c.GetForexRate(ctx, hipopay.USD)
	require.NoError(t, err)
	assert.Equal(t, hipopay.USD, ali.Currency)
	assert.Equal(t, wx.Rate, ali.Rate, "the fake's rates are the same for both wallets")
	_, err = c.GetAlipayForexRate(ctx, "XYZ")
	assert.ErrorIs(t, err, hipopay.ErrCurrencyNotSupported)
}

func TestAlipayDeclarationLifeCycle(t *testing.T) {
	s := newServer(t)
	c := s.Client()
	ctx := ctxT(t)
	p, err := c.PlaceOrder(ctx, methodRequest(hipopay.AlipayQR, "ALI-D1", ""))
	require.NoError(t, err)

	req := &hipopay.AlipayDeclarationRequest{OutOrderNo: "ALI-D1", PaymentNo: p.PaymentNo, Customs: hipopay.CustomsHangzhouZS,
		MchCustomsNo: "3301968ABC", MerchantCustomsName: "Matcha Trading Ltd", SubOrderNo: "ALI-D1-A", SubOrderAmount: "100.00",
		CertID: "510921199308772318", Name: "Lisa"}
	_, err = c.DeclareAlipay(ctx, req)
	var apiErr *hipopay.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodePaymentNotPaid, apiErr.Code)
	assert.NotContains(t, err.Error(), "510921199308772318")

	require.NoError(t, s.Pay(p.PaymentNo))
	d, err := c.DeclareAlipay(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateSubmitted, d.State)
	assert.Equal(t, p.PaymentNo, d.PaymentNo)
	assert.Equal(t, "ALI-D1-A", d.SubOrderNo)
	assert.Equal(t, "100.00", d.SubOrderAmount)
	assert.Equal(t, hipopay.CertCheckSame, d.CertCheckResult)
	assert.Empty(t, d.WechatpayNo)
	assert.Nil(t, d.RawResponse)

	again, err := c.DeclareAlipay(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, d.ModifyTime, again.ModifyTime, "declared again: answered as it is")

	q, err := c.GetAlipayDeclaration(ctx, hipopay.AlipayDeclarationQuery{SubOrderNo: "ALI-D1-A"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateSuccess, q.State, "moves one state on per query")
	for _, id := range []hipopay.AlipayDeclarationQuery{{PaymentNo: p.PaymentNo}, {OutOrderNo: "ALI-D1"}} {
		q, err := c.GetAlipayDeclaration(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "ALI-D1-A", q.SubOrderNo)
	}
	_, err = c.GetAlipayDeclaration(ctx, hipopay.AlipayDeclarationQuery{OutOrderNo: "NOPE"})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeDeclarationNotFound, apiErr.Code)

	require.NoError(t, s.SetDeclarationState(p.PaymentNo, hipopay.CustomsHangzhouZS, hipopay.DeclarationStateFail))
	q, err = c.GetAlipayDeclaration(ctx, hipopay.AlipayDeclarationQuery{PaymentNo: p.PaymentNo})
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateFail, q.State)
	assert.NotEmpty(t, q.Explanation)

	r, err := c.RedeclareAlipay(ctx, &hipopay.AlipayRedeclarationRequest{PaymentNo: p.PaymentNo, Customs: hipopay.CustomsHangzhouZS,
		MchCustomsNo: "3301968XYZ", MerchantCustomsName: "Matcha Trading Ltd"})
	require.NoError(t, err)
	assert.Equal(t, hipopay.DeclarationStateSubmitted, r.State)
	_, err = c.RedeclareAlipay(ctx, &hipopay.AlipayRedeclarationRequest{PaymentNo: p.PaymentNo, Customs: hipopay.CustomsNingbo,
		MchCustomsNo: "3301968XYZ", MerchantCustomsName: "Matcha Trading Ltd"})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeDeclarationNotFound, apiErr.Code)

	// The WeChat endpoints do not see Alipay's declarations, nor declare
	// an Alipay payment; nor does alipay/declaration a WeChat one.
	_, err = c.GetDeclaration(ctx, hipopay.DeclarationQuery{PaymentNo: p.PaymentNo, Customs: hipopay.CustomsHangzhouZS})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeDeclarationNotFound, apiErr.Code)
	_, err = c.Declare(ctx, &hipopay.DeclarationRequest{OutOrderNo: "ALI-D1", PaymentNo: p.PaymentNo, Customs: hipopay.CustomsHangzhouZS,
		MchCustomsNo: "M", SubOrderNo: "S", SubOrderAmount: "2.00", TransportAmount: "1.00", ProductAmount: "1.00"})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeInvalidParameter, apiErr.Code)

	w, err := c.PlaceOrder(ctx, order("WX-D1", "10.00", hipopay.HKD, ""))
	require.NoError(t, err)
	require.NoError(t, s.Pay(w.PaymentNo))
	wreq := *req
	wreq.PaymentNo, wreq.SubOrderNo = w.PaymentNo, "WX-D1-A"
	_, err = c.DeclareAlipay(ctx, &wreq)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, hipopaytest.CodeInvalidParameter, apiErr.Code)
}

// Alipay's endpoints take exactly their parameters.
func TestAlipayEndpointParameters(t *testing.T) {
	s := newServer(t)
	for _, tc := range []struct {
		method, path string
		params       url.Values
	}{
		{http.MethodGet, "alipay/declaration", url.Values{"payment_no": {"1"}, "customs": {"HANGZHOU_ZS"}}},
		{http.MethodGet, "alipay/declaration", url.Values{"payment_no": {"1"}, "out_order_no": {"2"}}},
		{http.MethodPost, "alipay/declaration", url.Values{"payment_no": {"1"}, "duty": {"1"}}},
		{http.MethodPost, "alipay/redeclaration", url.Values{"payment_no": {"1"}, "customs": {"HANGZHOU_ZS"}, "mch_customs_no": {"M"}}},
		{http.MethodGet, "alipay/forex_rate", url.Values{"currency": {"USD"}, "merchant_no": {s.MerchantNo}}},
	} {
		_, out := rawCall(t, s, tc.method, tc.path, "1.0", tc.params, nil)
		assert.Equal(t, hipopaytest.CodeInvalidParameter, out["error"], "%s %s %v: %v", tc.method, tc.path, tc.params, out)
	}
	status, _ := rawCall(t, s, http.MethodPut, "alipay/declaration", "1.0", url.Values{}, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, status)
}
