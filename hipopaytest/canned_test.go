package hipopaytest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMerchantUnitTestWithHTTPMock is the README's example: a merchant's
// unit test that mocks HipoPay's HTTP answers with httpmock.
func TestMerchantUnitTestWithHTTPMock(t *testing.T) {
	hc := &http.Client{}
	httpmock.ActivateNonDefault(hc)
	t.Cleanup(httpmock.DeactivateAndReset)

	key, err := rsa.GenerateKey(rand.Reader, 2048) // or your test key from testdata
	require.NoError(t, err)
	client, err := hipopay.NewClient("WC8888888888888", key, hipopay.WithHTTPClient(hc))
	require.NoError(t, err)

	httpmock.RegisterResponder(http.MethodGet, hipopay.ProductionBaseURL+"payment",
		httpmock.NewStringResponder(http.StatusOK, hipopaytest.PaymentNotFoundJSON))

	_, err = client.GetPayment(context.Background(), hipopay.PaymentQuery{OutTradeID: "ORDER-1"})
	if !errors.Is(err, hipopay.ErrPaymentNotFound) {
		t.Fatalf("GetPayment: %v, want hipopay.ErrPaymentNotFound", err)
	}
}

// TestCannedAnswers runs every canned answer through the SDK: each decodes
// as the endpoint's result or as the documented error.
func TestCannedAnswers(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ctx := context.Background()
	for _, c := range hipopaytest.CannedAnswers() {
		t.Run(c.Method+" "+c.Path+" "+c.Case, func(t *testing.T) {
			if c.Path != "download_bill" {
				assert.True(t, json.Valid([]byte(c.Body)), "valid JSON")
			}
			hc := &http.Client{}
			mock := httpmock.NewMockTransport()
			hc.Transport = mock
			client, err := hipopay.NewClient("WC8888888888888", key, hipopay.WithHTTPClient(hc), hipopay.WithMaxRetries(0))
			require.NoError(t, err)
			mock.RegisterResponder(c.Method, hipopay.ProductionBaseURL+c.Path, httpmock.NewStringResponder(c.Status, c.Body))
			if c.Case == "0001" {
				// The SDK resolves "already exists" by fetching the refund.
				mock.RegisterResponder(http.MethodGet, hipopay.ProductionBaseURL+"payment_refund",
					httpmock.NewStringResponder(http.StatusOK, hipopaytest.RefundQuerySuccessJSON))
			}

			got, err := callEndpoint(ctx, client, c.Method, c.Path)
			switch c.Case {
			case "ILLEGAL_SECURITY_PROFILE":
				assert.ErrorIs(t, err, hipopay.ErrIllegalSecurityProfile)
			case "FOREX_MERCHANT_NOT_SUPPORT_THIS_CURRENCY":
				assert.ErrorIs(t, err, hipopay.ErrForexMerchantNotSupportThisCurrency)
			case "PAYMENT_NOT_FOUND":
				assert.ErrorIs(t, err, hipopay.ErrPaymentNotFound)
			case "CURRENCY_NOT_SUPPORT":
				assert.ErrorIs(t, err, hipopay.ErrCurrencyNotSupported)
			case "REFUND_AMOUNT_INVALID":
				assert.ErrorIs(t, err, hipopay.ErrRefundAmountInvalid)
			case "REFUND_NOT_FOUND":
				assert.ErrorIs(t, err, hipopay.ErrRefundNotFound)
			case "INVALID_PARAMETER":
				var apiErr *hipopay.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, hipopaytest.CodeInvalidParameter, apiErr.Code)
			default:
				require.NoError(t, err)
				checkCanned(t, c, got)
			}
		})
	}
}

func checkCanned(t *testing.T, c hipopaytest.Canned, got any) {
	t.Helper()
	switch v := got.(type) {
	case *hipopay.Payment:
		assert.NotEmpty(t, v.PaymentNo)
		assert.Equal(t, c.Case == "success", v.PrepayParams != nil)
		if c.Case == "PAID" {
			assert.Equal(t, hipopay.PaymentStatusPaid, v.Status)
		}
		assert.False(t, v.TradeTime.IsZero())
	case *hipopay.ForexRate:
		assert.Equal(t, hipopay.USD, v.Currency)
		assert.NotEmpty(t, v.Rate)
	case *hipopay.Refund:
		assert.NotEmpty(t, v.RefundNo)
		assert.Equal(t, "OK", v.ReturnMessage)
		switch c.Case {
		case "success", "0001":
			assert.Equal(t, hipopay.RefundStatusSuccess, v.Status)
		default:
			assert.Equal(t, hipopay.RefundStatusFail, v.Status)
			assert.Equal(t, hipopay.RefundResultCode(c.Case), v.ResultCode)
		}
	case *hipopay.Declaration:
		assert.NotEmpty(t, v.State)
		assert.False(t, v.ModifyTime.IsZero())
		if c.Path == "wechatpay/declaration" && c.Method == http.MethodPost {
			require.NotNil(t, v.RawResponse)
			assert.Equal(t, "成功", v.RawResponse.ReturnMsg)
			assert.Equal(t, hipopay.VerifyDepartmentNetsUnion, v.RawResponse.VerifyDepartment)
		}
	case string:
		assert.Equal(t, hipopaytest.BillSampleText, v)
	default:
		t.Fatalf("unexpected result %T", got)
	}
}

// callEndpoint calls the SDK method of an endpoint with a valid request.
func callEndpoint(ctx context.Context, c *hipopay.Client, method, path string) (any, error) {
	switch method + " " + path {
	case "POST wechatpay/mini_program/payment":
		return c.PlaceOrder(ctx, order("d2849e8140a6", "0.10", hipopay.HKD, ""))
	case "GET payment":
		return c.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: "2018071823332342210483065"})
	case "GET wechatpay/forex_rate":
		return c.GetForexRate(ctx, hipopay.USD)
	case "POST payment_refund":
		return c.Refund(ctx, &hipopay.RefundRequest{PaymentNo: "2637473637382", OutRefundID: "R201637473637452", RefundAmount: "8.88"})
	case "GET payment_refund":
		return c.GetRefund(ctx, hipopay.RefundQuery{OutRefundID: "R201637473637452"})
	case "GET download_bill":
		day := time.Date(2019, 1, 20, 0, 0, 0, 0, hipopay.ChinaTimeZone())
		rc, err := c.DownloadBill(ctx, &hipopay.BillRequest{StartDate: day.AddDate(0, 0, -19), EndDate: day})
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	case "POST wechatpay/declaration":
		return c.Declare(ctx, &hipopay.DeclarationRequest{
			OutOrderNo: "18051893975650968", PaymentNo: "201904xxxxxxx26156", Customs: hipopay.CustomsShenzhen,
			MchCustomsNo: "123456789BTW", SubOrderNo: "XXXXX", SubOrderAmount: "46.44", TransportAmount: "23.22", ProductAmount: "23.22",
		})
	case "POST wechatpay/redeclaration":
		return c.Redeclare(ctx, &hipopay.RedeclarationRequest{PaymentNo: "201904xxxxxxx26156", Customs: hipopay.CustomsShenzhen, MchCustomsNo: "123456789BTW"})
	case "GET wechatpay/declaration":
		return c.GetDeclaration(ctx, hipopay.DeclarationQuery{SubOrderNo: "XXXXX", Customs: hipopay.CustomsShenzhen})
	}
	return nil, errors.New("no such endpoint: " + method + " " + path)
}

// TestCannedBillMatchesTestdata: the canned file is the reference's sample.
func TestCannedBillMatchesTestdata(t *testing.T) {
	b, err := os.ReadFile("../testdata/bill_sample.txt")
	require.NoError(t, err)
	assert.Equal(t, string(b), hipopaytest.BillSampleText)
}

// TestCannedRefundResultCodes: every result code the fake answers a
// refund with has a canned answer, shaped as HipoPay answers it, with the
// reference table's message.
func TestCannedRefundResultCodes(t *testing.T) {
	byCase := map[string]hipopaytest.Canned{}
	for _, c := range hipopaytest.CannedAnswers() {
		if c.Method == http.MethodPost && c.Path == "payment_refund" {
			byCase[c.Case] = c
		}
	}
	for _, want := range []string{"success", "0001", "0002", "0004", "0006", "0008", "0009", "0011", "REFUND_AMOUNT_INVALID", "ILLEGAL_SECURITY_PROFILE"} {
		assert.Contains(t, byCase, want)
	}
	for code, msg := range map[string]string{
		"0002": "payment 2637473637382 Not Found.",
		"0004": "Payment not paid yet.",
		"0006": "Payment full refunded.",
		"0008": "Payment refundable not enough.",
		"0009": "refund amount must more than zero.",
	} {
		c, ok := byCase[code]
		if !assert.True(t, ok, code) {
			continue
		}
		var body struct {
			IsSuccess bool `json:"is_success"`
			Response  struct {
				Status      string `json:"status"`
				ResultCode  string `json:"result_code"`
				FailMessage string `json:"fail_message"`
				RefundNo    string `json:"refund_no"`
				PaymentNo   string `json:"payment_no"`
				FinishTime  string `json:"finish_time"`
			} `json:"response"`
			ReturnMessage string `json:"return_message"`
		}
		require.NoError(t, json.Unmarshal([]byte(c.Body), &body), code)
		assert.True(t, body.IsSuccess, code)
		assert.Equal(t, "FAIL", body.Response.Status, code)
		assert.Equal(t, code, body.Response.ResultCode, code)
		assert.Equal(t, msg, body.Response.FailMessage, code)
		assert.NotEmpty(t, body.Response.RefundNo, code)
		assert.Equal(t, "2637473637382", body.Response.PaymentNo, code)
		assert.NotEmpty(t, body.Response.FinishTime, code)
		assert.Equal(t, "OK", body.ReturnMessage, code)
		assert.Equal(t, http.StatusOK, c.Status, code)
	}
}
