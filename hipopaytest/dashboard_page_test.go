package hipopaytest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// getPage answers GET _mock/dashboard: the page as the server renders it.
func getPage(t *testing.T, s *hipopaytest.Server) string {
	t.Helper()
	resp, err := http.Get(s.URL + "_mock/dashboard")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self';")
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// section is the part of the page between the start tags of the element
// with id and of the next <section>.
func section(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	require.GreaterOrEqual(t, i, 0, "the page has #%s", id)
	rest := page[i:]
	if j := strings.Index(rest[1:], "<section"); j >= 0 {
		rest = rest[:j+1]
	}
	return rest
}

// TestDashboardPageRendersState: GET _mock/dashboard carries the state
// without its script: orders (out_trade_id, payment_no, amount, status,
// buttons), deliveries with the merchant's answer escaped, refunds,
// customs declarations and the reconciliation file of the day.
func TestDashboardPageRendersState(t *testing.T) {
	clock := newFakeClock(time.Date(2024, 3, 1, 10, 0, 0, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now), hipopaytest.WithRetryIntervals(time.Hour))
	ctx := ctxT(t)
	client := s.Client()

	empty := getPage(t, s)
	assert.NotContains(t, empty, "Loading…")
	assert.Contains(t, section(t, empty, "orders-body"), "No orders yet")
	assert.Contains(t, section(t, empty, "notifications-body"), "No notification sent yet")

	const answer = `<img src=x onerror="alert(1)"><b>down</b> & out`
	notify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(notify.Close)

	paid, err := client.PlaceOrder(ctx, order("ORD-SSR-1", "88.80", hipopay.HKD, notify.URL+"/notify"))
	require.NoError(t, err)
	clock.Add(time.Minute)
	open, err := client.PlaceOrder(ctx, order("ORD-SSR-2", "1200", hipopay.JPY, ""))
	require.NoError(t, err)
	require.NoError(t, s.Pay(paid.PaymentNo))
	_, err = s.WaitDeliveries(ctx, paid.PaymentNo, 1)
	require.NoError(t, err)
	refund, err := client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: paid.PaymentNo, OutRefundID: "RF-SSR", RefundAmount: "8.80"})
	require.NoError(t, err)
	_, err = client.Declare(ctx, &hipopay.DeclarationRequest{OutOrderNo: "ORD-SSR-1", PaymentNo: paid.PaymentNo, Customs: hipopay.CustomsShanghaiZS,
		MchCustomsNo: "3122xxxxxx", SubOrderNo: "SUB-SSR", SubOrderAmount: "80.00", TransportAmount: "0", ProductAmount: "80.00"})
	require.NoError(t, err)

	page := getPage(t, s)
	assert.NotContains(t, page, "Loading…")
	assert.Contains(t, page, `<code id="merchant">`+s.MerchantNo+`</code>`)
	assert.Contains(t, page, `<span id="schedule">1h0m0s</span>`)

	orders := section(t, page, "orders-body")
	for _, want := range []string{
		`<tr data-payment-no="` + paid.PaymentNo + `" data-status="PAID">`,
		`<th scope="row"><code>ORD-SSR-1</code></th>`, `<td><code>` + paid.PaymentNo + `</code></td>`, "88.80 HKD",
		`<span class="status status-PAID">PAID</span>`, "not acknowledged; next retry 2024-03-01 11:01:00",
		`<tr data-payment-no="` + open.PaymentNo + `" data-status="INIT">`, `<code>ORD-SSR-2</code>`, "1200 JPY",
		`<button type="button" data-action="pay" data-payment-no="` + open.PaymentNo + `" aria-label="Pay payment ` + open.PaymentNo + `">Pay</button>`,
		`<button type="button" data-action="pay" data-payment-no="` + paid.PaymentNo + `" aria-label="Pay payment ` + paid.PaymentNo + `" disabled>Pay</button>`,
		"2024-03-01 10:00:00", `<code class="wrap">wechatpay<wbr>/mini_program<wbr>/payment</code>`,
	} {
		assert.Contains(t, orders, want)
	}
	assert.Less(t, strings.Index(orders, open.PaymentNo), strings.Index(orders, paid.PaymentNo), "newest first, as _mock/state")

	deliveries := section(t, page, "notifications-body")
	for _, want := range []string{
		`<article id="deliveries-` + paid.PaymentNo + `" data-deliveries-for="` + paid.PaymentNo + `" class="deliveries">`,
		`<tr data-attempt="1" data-status-code="500">`, "500 Internal Server Error", "2024-03-01 11:01:00",
		`<code class="answer">&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&lt;b&gt;down&lt;/b&gt; &amp; out</code>`,
		`data-action="redeliver" data-payment-no="` + paid.PaymentNo + `"`,
	} {
		assert.Contains(t, deliveries, want)
	}
	assert.NotContains(t, page, "<img", "the merchant's answer is text, not HTML")
	assert.NotContains(t, page, "<b>down")

	refunds := section(t, page, "refunds-body")
	for _, want := range []string{`<tr data-refund-no="` + refund.RefundNo + `">`, "<code>RF-SSR</code>", "8.80 HKD", "SUCCESS", "<code>0000</code>"} {
		assert.Contains(t, refunds, want)
	}
	declarations := section(t, page, "declarations-body")
	for _, want := range []string{`<tr data-payment-no="` + paid.PaymentNo + `" data-customs="SHANGHAI_ZS">`, "<code>SUB-SSR</code>", "SUBMITTED", "<code>3122xxxxxx</code>"} {
		assert.Contains(t, declarations, want)
	}

	bill := section(t, page, "bill")
	assert.Contains(t, bill, `<input type="date" id="bill-date" value="2024-03-01" required>`)
	assert.Contains(t, bill, `<option value="`+s.MerchantNo+`" selected>`+s.MerchantNo+`</option>`)
	assert.Contains(t, bill, `href="bill?date=20240301&amp;merchant_no=`+s.MerchantNo+`"`)
	assert.Contains(t, bill, "20240301 (2 lines)")
	assert.Contains(t, bill, "Transaction Type,Transaction Time", "the file of the day")
	assert.Contains(t, bill, paid.PaymentNo)
	assert.Contains(t, bill, refund.RefundNo)

	// No inline script: the only script is app.js, allowed by the CSP.
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1)
	assert.Equal(t, []string{`<script src="dashboard/app.js" defer>`}, scripts)
}
