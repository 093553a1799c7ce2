package browsertest

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cst is HipoPay's time zone: the dashboard shows its times in UTC+8.
var cst = hipopay.ChinaTimeZone()

func placeOrder(t *testing.T, c *hipopay.Client, outTradeID, amount string, currency hipopay.Currency, notifyURL string) *hipopay.Payment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := c.PlaceOrder(ctx, &hipopay.PlaceOrderRequest{
		OutTradeID: outTradeID, Amount: amount, Currency: currency, ProductInfo: "Matcha latte x2",
		AppID: "wx3zzzzzzz4", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", ClientIP: "203.0.113.9", NotifyURL: notifyURL,
	})
	require.NoError(t, err)
	return p
}

// TestDashboardInBrowser drives the dashboard at 1280 px: an order placed
// through the SDK appears; Pay delivers its notification to the merchant,
// whose 200 "success" appears; a failing merchant's 500 appears with the
// next retry on the schedule; Redeliver sends a new attempt at once; Fail
// and Expire; refunds, customs declarations and the reconciliation file
// with its download link. No request leaves the mock.
func TestDashboardInBrowser(t *testing.T) {
	b := newBrowser(t, 1280, 1000, false, 90*time.Second)
	srv := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(time.Hour, time.Hour))
	t.Cleanup(srv.Close)
	merchant := newMerchantServer(t, srv.PublicKey())
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	b.run("opening the dashboard", chromedp.Navigate(srv.URL+"_mock/dashboard"))
	b.waitFor("the banner", exists(".banner", "fake HipoPay, not for real money"))
	b.waitFor("the live stream", exists("#live", "live"))
	assert.Equal(t, srv.MerchantNo, b.text("#merchant"))

	// An order placed through the SDK appears.
	p1 := placeOrder(t, client, "ORDER-1001", "88.80", hipopay.HKD, merchant.URL)
	b.waitFor("order 1", exists(orderSel(p1.PaymentNo), "ORDER-1001", "88.80 HKD", "INIT", "wechatpay/mini_program/payment"))

	// Pay: the notification reaches the merchant, whose 200 "success"
	// appears.
	b.click("pay", p1.PaymentNo)
	b.waitFor("order 1 paid", exists(orderSel(p1.PaymentNo), "PAID", "acknowledged"))
	b.waitFor("order 1's first delivery", exists(deliverySel(p1.PaymentNo, 1), "200 OK", "success", "yes"))
	assert.Contains(t, b.text("#result"), "Payment "+p1.PaymentNo+" paid: now PAID.")
	ds := srv.Deliveries(p1.PaymentNo)
	require.Len(t, ds, 1)
	assert.True(t, ds[0].Acknowledged)
	assert.Equal(t, 1, merchant.count())

	// The merchant's handler fails: its 500 appears, and the next retry an
	// hour later, on the schedule.
	merchant.setFailing(true)
	p2 := placeOrder(t, client, "ORDER-1002", "12.00", hipopay.USD, merchant.URL)
	b.waitFor("order 2", exists(orderSel(p2.PaymentNo), "ORDER-1002", "12.00 USD", "INIT"))
	b.click("pay", p2.PaymentNo)
	b.waitFor("order 2's failed delivery", exists(deliverySel(p2.PaymentNo, 1), "500 Internal Server Error", "no"))
	ds = srv.Deliveries(p2.PaymentNo)
	require.Len(t, ds, 1)
	assert.Equal(t, 500, ds[0].StatusCode)
	assert.Equal(t, ds[0].Time.Add(time.Hour), ds[0].NextRetry)
	next := ds[0].NextRetry.In(cst).Format("2006-01-02 15:04:05")
	row := b.text(deliverySel(p2.PaymentNo, 1))
	assert.Contains(t, row, ds[0].Time.In(cst).Format("2006-01-02 15:04:05"), "the time it was sent")
	assert.Contains(t, row, "Internal Server Error", "the first bytes of the answer")
	assert.Contains(t, row, next, "the next retry")
	assert.Contains(t, b.text(orderSel(p2.PaymentNo)), "next retry "+next)

	// Redeliver: a new attempt at once; the merchant is back, so 200.
	merchant.setFailing(false)
	b.click("redeliver", p2.PaymentNo)
	b.waitFor("order 2's redelivery", exists(deliverySel(p2.PaymentNo, 2), "2 (redeliver)", "200 OK", "success", "yes"))
	b.waitFor("order 2 acknowledged", exists(`[data-deliveries-for="`+p2.PaymentNo+`"] [data-summary]`, "acknowledged"))
	assert.Equal(t, 3, merchant.count())
	require.Len(t, srv.Deliveries(p2.PaymentNo), 2)

	// Fail and expire.
	p3 := placeOrder(t, client, "ORDER-1003", "5.00", hipopay.HKD, "")
	p4 := placeOrder(t, client, "ORDER-1004", "1200", hipopay.JPY, "")
	b.waitFor("orders 3 and 4", exists("#orders-body", "ORDER-1003", "ORDER-1004", "1200 JPY"))
	b.click("fail", p3.PaymentNo)
	b.waitFor("order 3 failed", exists(orderSel(p3.PaymentNo), "FAIL"))
	b.click("expire", p4.PaymentNo)
	b.waitFor("order 4 expired", exists(orderSel(p4.PaymentNo), "EXPIRED"))
	for no, want := range map[string]hipopay.PaymentStatus{p3.PaymentNo: hipopay.PaymentStatusFail, p4.PaymentNo: hipopay.PaymentStatusExpired} {
		got, err := client.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: no})
		require.NoError(t, err)
		assert.Equal(t, want, got.Status)
	}
	assert.True(t, eval[bool](b, "reading the pay button", `document.querySelector('button[data-action="pay"][data-payment-no="`+p3.PaymentNo+`"]').disabled`),
		"a failed order cannot be paid")

	// Refunds (status, result code, message) and a customs declaration.
	r1, err := client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p1.PaymentNo, OutRefundID: "REFUND-1", RefundAmount: "8.80"})
	require.NoError(t, err)
	r2, err := client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p3.PaymentNo, OutRefundID: "REFUND-2"})
	require.NoError(t, err)
	b.waitFor("refund 1", exists(`#refunds-body tr[data-refund-no="`+r1.RefundNo+`"]`, "REFUND-1", "8.80 HKD", "SUCCESS", "0000"))
	b.waitFor("refund 2", exists(`#refunds-body tr[data-refund-no="`+r2.RefundNo+`"]`, "REFUND-2", "FAIL", "0004", "Payment not paid yet."))
	_, err = client.Declare(ctx, &hipopay.DeclarationRequest{OutOrderNo: "ORDER-1001", PaymentNo: p1.PaymentNo, Customs: hipopay.CustomsShanghaiZS,
		MchCustomsNo: "3122xxxxxx", SubOrderNo: "SUB-1", SubOrderAmount: "80.00", TransportAmount: "0", ProductAmount: "80.00"})
	require.NoError(t, err)
	b.waitFor("the declaration", exists(`#declarations-body tr[data-payment-no="`+p1.PaymentNo+`"]`, "SHANGHAI_ZS", "SUB-1", "SUBMITTED"))

	// The reconciliation file of today, and its download link.
	b.waitFor("today's file", exists("#bill-text", "Transaction Type,Transaction Time", p1.PaymentNo, p2.PaymentNo, r1.RefundNo))
	href := eval[string](b, "reading the download link", `document.getElementById('bill-link').href`)
	require.True(t, strings.HasPrefix(href, srv.URL+"_mock/bill?date="), href)
	resp, err := http.Get(href)
	require.NoError(t, err)
	file, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	today := time.Now().In(cst)
	rc, err := client.DownloadBill(ctx, &hipopay.BillRequest{StartDate: today, EndDate: today})
	require.NoError(t, err)
	signed, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	assert.Equal(t, string(signed), string(file), "the link serves what GET download_bill answers")
	assert.Equal(t, strings.TrimSpace(string(file)), strings.TrimSpace(b.text("#bill-text")), "the page shows the file")

	// At 1280 px every table fits: nothing scrolls sideways.
	assert.Equal(t, 0.0, eval[float64](b, "measuring the tables",
		`[...document.querySelectorAll('.table-wrap')].filter((w) => w.scrollWidth > w.clientWidth).length`), "tables wider than the page")
	assert.LessOrEqual(t, eval[float64](b, "measuring the page", `document.documentElement.scrollWidth`), 1280.0)

	// Nothing was fetched from outside the mock.
	for _, u := range b.requested() {
		assert.True(t, strings.HasPrefix(u, srv.URL) || strings.HasPrefix(u, "data:"), "the page requested %s", u)
	}

	eval[bool](b, "scrolling up", `(window.scrollTo(0, 0), true)`)
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err, "a PNG")
	assert.Equal(t, 1280, img.Bounds().Dx())
	saveScreenshot(t, "dashboard.png", shot)
}

// saveScreenshot writes the PNG as name in HIPOPAY_SCREENSHOT_DIR (the
// README's docs/), or else in the temporary directory.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := os.Getenv("HIPOPAY_SCREENSHOT_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// TestDashboardOnPhone: at 390 px on a touch screen the page does not
// scroll sideways (wide tables scroll in their own box), uses no web
// font, and its buttons are large enough to press. The merchant's answer
// is shown as text, never run as HTML.
func TestDashboardOnPhone(t *testing.T) {
	b := newBrowser(t, 390, 844, true, 60*time.Second)
	srv := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(time.Hour))
	t.Cleanup(srv.Close)
	const answer = `<img src=x onerror="window.pwned=1"><b>database down</b>`
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(merchant.Close)
	p := placeOrder(t, srv.Client(), "PHONE-1", "30.00", hipopay.AUD, merchant.URL+"/notify")

	b.run("opening the dashboard", chromedp.Navigate(srv.URL+"_mock/dashboard"))
	b.waitFor("the order", exists(orderSel(p.PaymentNo), "PHONE-1", "30.00 AUD"))
	b.click("pay", p.PaymentNo)
	b.waitFor("the failed delivery", exists(deliverySel(p.PaymentNo, 1), "503 Service Unavailable", answer))
	assert.True(t, eval[bool](b, "looking for injected HTML",
		`window.pwned === undefined && document.querySelector('[data-deliveries-for] img, [data-deliveries-for] b') === null`),
		"the merchant's answer became HTML")

	type measures struct {
		Inner, Scroll, BannerRight, Fonts, MinButton float64
	}
	m := eval[measures](b, "measuring", `(() => {
		const buttons = [...document.querySelectorAll('button')].map((e) => e.getBoundingClientRect().height);
		return {
			Inner: window.innerWidth,
			Scroll: document.documentElement.scrollWidth,
			BannerRight: document.querySelector('.banner').getBoundingClientRect().right,
			Fonts: document.fonts.size,
			MinButton: Math.min(...buttons),
		};
	})()`)
	assert.Equal(t, 390.0, m.Inner)
	assert.LessOrEqual(t, m.Scroll, m.Inner, "the page itself does not scroll sideways")
	assert.LessOrEqual(t, m.BannerRight, m.Inner, "the banner fits the screen")
	assert.Zero(t, m.Fonts, "no web font")
	assert.GreaterOrEqual(t, m.MinButton, 40.0, "buttons are large enough to press")

	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err, "a PNG")
	assert.Equal(t, 390, img.Bounds().Dx())
	saveScreenshot(t, "dashboard-phone.png", shot)
}
