package browsertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pageParts is a JavaScript expression: the markup of each part of the
// page that shows the mock's state, with the white space between tags
// dropped (the server's template has line breaks there, the script none),
// and the values of the reconciliation file's form.
const pageParts = `(() => {
	const out = {};
	for (const id of ['merchant', 'schedule', 'orders-body', 'notifications-body', 'refunds-body', 'declarations-body', 'bill-days', 'bill-text']) {
		const root = document.getElementById(id).cloneNode(true);
		const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
		const blank = [];
		while (walk.nextNode()) if (walk.currentNode.data.trim() === '') blank.push(walk.currentNode);
		blank.forEach((n) => n.remove());
		root.normalize();
		out[id] = root.innerHTML;
	}
	const link = document.getElementById('bill-link');
	out['bill-form'] = [document.getElementById('bill-date').value, document.getElementById('bill-merchant').value,
		link.getAttribute('href'), link.getAttribute('download')].join(' | ');
	return out;
})()`

// TestDashboardServerAndScriptAgree loads the dashboard twice over the
// same state: with scripts disabled (the page as the server renders it)
// and with them (the page as app.js renders GET _mock/state). The two show
// the same markup: orders in every state, a delivery acknowledged, one
// refused with an HTML answer, refunds, a declaration, the file of the day.
func TestDashboardServerAndScriptAgree(t *testing.T) {
	b := newBrowser(t, 1280, 1000, false, 60*time.Second)
	srv := hipopaytest.NewServer(hipopaytest.WithRetryIntervals(time.Hour))
	t.Cleanup(srv.Close)
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `<img src=x onerror="window.pwned=1"> & "down"`)
			return
		}
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(merchant.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := srv.Client()

	acked := placeOrder(t, client, "AGREE-1", "88.80", hipopay.HKD, merchant.URL+"/ok")
	refused := placeOrder(t, client, "AGREE-2", "10.00", hipopay.AUD, merchant.URL+"/down")
	silent := placeOrder(t, client, "AGREE-3", "5.00", hipopay.USD, "")
	failed := placeOrder(t, client, "AGREE-4", "1200", hipopay.JPY, "")
	placeOrder(t, client, "AGREE-5", "1.00", hipopay.HKD, "")
	for _, p := range []*hipopay.Payment{acked, refused, silent} {
		require.NoError(t, srv.Pay(p.PaymentNo))
	}
	require.NoError(t, srv.WaitDelivered(ctx, acked.PaymentNo))
	require.NoError(t, srv.Redeliver(acked.PaymentNo))
	_, err := srv.WaitDeliveries(ctx, acked.PaymentNo, 2)
	require.NoError(t, err)
	_, err = srv.WaitDeliveries(ctx, refused.PaymentNo, 1)
	require.NoError(t, err)
	require.NoError(t, srv.FailPayment(failed.PaymentNo))
	_, err = client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: acked.PaymentNo, OutRefundID: "AGREE-R1", RefundAmount: "8.80"})
	require.NoError(t, err)
	_, err = client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: failed.PaymentNo, OutRefundID: "AGREE-R2"})
	require.NoError(t, err)
	_, err = client.Declare(ctx, &hipopay.DeclarationRequest{OutOrderNo: "AGREE-1", PaymentNo: acked.PaymentNo, Customs: hipopay.CustomsShanghaiZS,
		MchCustomsNo: "3122xxxxxx", SubOrderNo: "SUB-1", SubOrderAmount: "80.00", TransportAmount: "0", ProductAmount: "80.00"})
	require.NoError(t, err)

	scripts := func(disabled bool) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: disabled})
			return err
		})
	}
	b.run("opening the dashboard without scripts", scripts(true), chromedp.Navigate(srv.URL+"_mock/dashboard"))
	server := eval[map[string]string](b, "reading the server's page", pageParts)
	assert.Contains(t, b.text("#live"), "as loaded", "no script ran")

	b.run("opening the dashboard with scripts", scripts(false), chromedp.Navigate(srv.URL+"_mock/dashboard"))
	b.waitFor("the script's first poll", exists("#live", "live"))
	b.waitFor("the file of the day", exists("#bill-text", "Transaction Type", acked.PaymentNo))
	script := eval[map[string]string](b, "reading the script's page", pageParts)

	require.NotEmpty(t, server)
	for part, want := range server {
		assert.Equal(t, want, script[part], "#%s: the server's markup, then the script's", part)
	}
	for _, want := range []string{"AGREE-1", "AGREE-5", "acknowledged", "not acknowledged; next retry", "no notify_url", "FAIL"} {
		assert.Contains(t, server["orders-body"], want)
	}
	assert.Contains(t, server["notifications-body"], `2 (redeliver)`)
	assert.Contains(t, server["notifications-body"], `&lt;img src=x onerror="window.pwned=1"&gt; &amp; "down"`)
	assert.Contains(t, server["refunds-body"], "AGREE-R2")
	assert.Contains(t, server["declarations-body"], "SUB-1")
	assert.True(t, strings.HasPrefix(server["bill-form"], time.Now().In(cst).Format(time.DateOnly)+" | "+srv.MerchantNo+" | bill?date="), server["bill-form"])
	assert.True(t, eval[bool](b, "looking for injected HTML", `window.pwned === undefined && document.querySelector('[data-deliveries-for] img') === null`))
}
