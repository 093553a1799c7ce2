package hipopaytest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dashState mirrors what GET _mock/state answers, for assertions.
type dashState struct {
	Today         string   `json:"today"`
	MerchantNo    string   `json:"merchant_no"`
	RetrySchedule []string `json:"retry_schedule"`
	Merchants     []string `json:"merchants"`
	Orders        []struct {
		Method       string `json:"method"`
		MerchantNo   string `json:"merchant_no"`
		OutTradeID   string `json:"out_trade_id"`
		PaymentNo    string `json:"payment_no"`
		Amount       string `json:"amount"`
		Currency     string `json:"currency"`
		Status       string `json:"status"`
		TradeTime    string `json:"trade_time"`
		FinishTime   string `json:"finish_time"`
		NotifyURL    string `json:"notify_url"`
		Notification string `json:"notification"`
		NextRetry    string `json:"next_retry"`
		Deliveries   []struct {
			Attempt       int    `json:"attempt"`
			Time          string `json:"time"`
			StatusCode    int    `json:"status_code"`
			Status        string `json:"status"`
			Body          string `json:"body"`
			BodyTruncated bool   `json:"body_truncated"`
			Acknowledged  bool   `json:"acknowledged"`
			NextRetry     string `json:"next_retry"`
			Redelivery    bool   `json:"redelivery"`
		} `json:"deliveries"`
	} `json:"orders"`
	Refunds []struct {
		RefundNo    string `json:"refund_no"`
		OutRefundID string `json:"out_refund_id"`
		PaymentNo   string `json:"payment_no"`
		Amount      string `json:"refund_amount"`
		Currency    string `json:"currency"`
		Status      string `json:"status"`
		ResultCode  string `json:"result_code"`
		Message     string `json:"fail_message"`
	} `json:"refunds"`
	Declarations []struct {
		PaymentNo  string `json:"payment_no"`
		SubOrderNo string `json:"sub_order_no"`
		Customs    string `json:"customs"`
		State      string `json:"state"`
	} `json:"declarations"`
	BillDays []struct {
		MerchantNo string `json:"merchant_no"`
		Date       string `json:"date"`
		Lines      int    `json:"lines"`
	} `json:"bill_days"`
}

func getState(t *testing.T, s *hipopaytest.Server) dashState {
	t.Helper()
	resp, err := http.Get(s.URL + "_mock/state")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var env struct {
		IsSuccess bool      `json:"is_success"`
		Response  dashState `json:"response"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	require.True(t, env.IsSuccess)
	return env.Response
}

// mockPost sends POST _mock/PATH and decodes the answer.
func mockPost(t *testing.T, s *hipopaytest.Server, path string) map[string]any {
	t.Helper()
	resp, err := http.Post(s.URL+"_mock/"+path, "", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// switchableNotify is a merchant's notify_url answering "success" or,
// while failing, HTTP 500 with a body that says why.
type switchableNotify struct {
	mu      sync.Mutex
	failing bool
	got     int
}

func (n *switchableNotify) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	n.mu.Lock()
	n.got++
	failing := n.failing
	n.mu.Unlock()
	if failing {
		http.Error(w, "database is down", http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, "success")
}

func (n *switchableNotify) set(failing bool) { n.mu.Lock(); n.failing = failing; n.mu.Unlock() }

func (n *switchableNotify) count() int { n.mu.Lock(); defer n.mu.Unlock(); return n.got }

func newSwitchableNotify(t *testing.T, failing bool) (*switchableNotify, string) {
	t.Helper()
	n := &switchableNotify{failing: failing}
	srv := httptest.NewServer(n)
	t.Cleanup(srv.Close)
	return n, srv.URL + "/notify"
}

func TestDashboardPageAndAssets(t *testing.T) {
	s := newServer(t)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(s.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	resp, page := get("_mock/dashboard")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, page, "fake HipoPay, not for real money")
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "connect-src 'self'")
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))

	assets := map[string]string{"_mock/dashboard/app.js": "text/javascript; charset=utf-8", "_mock/dashboard/style.css": "text/css; charset=utf-8"}
	all := page
	for path, ct := range assets {
		resp, body := get(path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Equal(t, ct, resp.Header.Get("Content-Type"), path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		all += body
	}
	// The page and its assets reference nothing outside the mock: no CDN,
	// no web font, no absolute URL but the curl example's.
	for _, m := range regexp.MustCompile(`(?i)(?:src|href)\s*=\s*"([^"]*)"|url\(([^)]*)\)|@import|https?://[^\s'"<]+`).FindAllString(all, -1) {
		assert.NotRegexp(t, `(?i)https?://|//|@import`, strings.TrimPrefix(m, "http://127.0.0.1:8080/_mock/pay"), "external reference %q", m)
	}
	assert.Contains(t, page, `src="dashboard/app.js"`)
	assert.Contains(t, page, `href="dashboard/style.css"`)
	assert.NotContains(t, all, "innerHTML", "server text goes into the page as text")

	resp, _ = get("_mock/dashboard/")
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, "/_mock/dashboard", resp.Header.Get("Location"))
	for _, path := range []string{"_mock/dashboard/index.html", "_mock/dashboard/nope.js", "_mock/dashboard/../mock.go", "_mock/dashboardx"} {
		resp, _ := get(path)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	post, err := http.Post(s.URL+"_mock/dashboard", "", nil)
	require.NoError(t, err)
	post.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
}

func TestDashboardState(t *testing.T) {
	clock := newFakeClock(time.Date(2024, 3, 1, 10, 0, 0, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now), hipopaytest.WithRetryIntervals(time.Hour, time.Hour))
	ctx := ctxT(t)
	client := s.Client()
	notify, notifyURL := newSwitchableNotify(t, true)

	st := getState(t, s)
	assert.Equal(t, "20240301", st.Today)
	assert.Equal(t, s.MerchantNo, st.MerchantNo)
	assert.Equal(t, []string{"1h0m0s", "1h0m0s"}, st.RetrySchedule)
	assert.Equal(t, []string{s.MerchantNo}, st.Merchants)
	assert.Empty(t, st.Orders)
	assert.NotNil(t, st.Orders, "empty lists are [], not null")

	paid, err := client.PlaceOrder(ctx, order("ORD-PAID", "12.30", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	clock.Add(time.Minute)
	open, err := client.PlaceOrder(ctx, order("ORD-OPEN", "5", hipopay.USD, ""))
	require.NoError(t, err)
	require.NoError(t, s.Pay(paid.PaymentNo))
	ds, err := s.WaitDeliveries(ctx, paid.PaymentNo, 1)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, http.StatusInternalServerError, ds[0].StatusCode)
	assert.Equal(t, ds[0].Time.Add(time.Hour), ds[0].NextRetry, "the next retry is on the schedule")

	_, err = client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: paid.PaymentNo, OutRefundID: "RF-1", RefundAmount: "2.30"})
	require.NoError(t, err)
	_, err = client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: open.PaymentNo, OutRefundID: "RF-2"})
	require.NoError(t, err) // recorded as a FAIL refund: 0004
	_, err = client.Declare(ctx, &hipopay.DeclarationRequest{OutOrderNo: "ORD-PAID", PaymentNo: paid.PaymentNo, Customs: hipopay.CustomsShanghaiZS,
		MchCustomsNo: "3122xxxxxx", SubOrderNo: "SUB-1", SubOrderAmount: "10.00", TransportAmount: "0", ProductAmount: "10.00"})
	require.NoError(t, err)

	st = getState(t, s)
	require.Len(t, st.Orders, 2)
	o, i := st.Orders[0], st.Orders[1]
	assert.Equal(t, open.PaymentNo, o.PaymentNo, "newest first")
	assert.Equal(t, "INIT", o.Status)
	assert.Equal(t, "5.00 USD", o.Amount+" "+o.Currency)
	assert.Empty(t, o.Notification)
	assert.Empty(t, o.Deliveries)
	assert.Equal(t, paid.PaymentNo, i.PaymentNo)
	assert.Equal(t, "wechatpay/mini_program/payment", i.Method)
	assert.Equal(t, s.MerchantNo, i.MerchantNo)
	assert.Equal(t, "ORD-PAID", i.OutTradeID)
	assert.Equal(t, "PAID", i.Status)
	assert.Equal(t, "2024-03-01 10:00:00", i.TradeTime)
	assert.Equal(t, "2024-03-01 10:01:00", i.FinishTime)
	assert.Equal(t, notifyURL, i.NotifyURL)
	assert.Equal(t, "waiting", i.Notification)
	assert.Equal(t, "2024-03-01 11:01:00", i.NextRetry)
	require.Len(t, i.Deliveries, 1)
	d := i.Deliveries[0]
	assert.Equal(t, 1, d.Attempt)
	assert.Equal(t, "2024-03-01 10:01:00", d.Time)
	assert.Equal(t, 500, d.StatusCode)
	assert.Equal(t, "500 Internal Server Error", d.Status)
	assert.Equal(t, "database is down\n", d.Body)
	assert.False(t, d.Acknowledged)
	assert.Equal(t, "2024-03-01 11:01:00", d.NextRetry)
	assert.False(t, d.Redelivery)

	require.Len(t, st.Refunds, 2)
	byOut := map[string]int{}
	for k, r := range st.Refunds {
		byOut[r.OutRefundID] = k
	}
	r1, r2 := st.Refunds[byOut["RF-1"]], st.Refunds[byOut["RF-2"]]
	assert.Equal(t, []string{"SUCCESS", "0000", "2.30", "HKD", paid.PaymentNo}, []string{r1.Status, r1.ResultCode, r1.Amount, r1.Currency, r1.PaymentNo})
	assert.Equal(t, []string{"FAIL", "0004", "Payment not paid yet."}, []string{r2.Status, r2.ResultCode, r2.Message})

	require.Len(t, st.Declarations, 1)
	assert.Equal(t, []string{paid.PaymentNo, "SUB-1", string(hipopay.CustomsShanghaiZS), "SUBMITTED"},
		[]string{st.Declarations[0].PaymentNo, st.Declarations[0].SubOrderNo, st.Declarations[0].Customs, st.Declarations[0].State})

	require.Len(t, st.BillDays, 1)
	assert.Equal(t, s.MerchantNo, st.BillDays[0].MerchantNo)
	assert.Equal(t, "20240301", st.BillDays[0].Date)
	assert.Equal(t, 2, st.BillDays[0].Lines, "the collection and the refund")

	// The merchant fixes its handler; a redelivery is acknowledged and
	// the schedule stops.
	notify.set(false)
	require.NoError(t, s.Redeliver(paid.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, paid.PaymentNo))
	require.Eventually(t, func() bool { return getState(t, s).Orders[1].Notification == "acknowledged" }, 5*time.Second, 10*time.Millisecond)
	i = getState(t, s).Orders[1]
	assert.Empty(t, i.NextRetry)
	require.Len(t, i.Deliveries, 2)
	assert.Equal(t, []any{2, 200, "200 OK", "success", true, "", true},
		[]any{i.Deliveries[1].Attempt, i.Deliveries[1].StatusCode, i.Deliveries[1].Status, i.Deliveries[1].Body,
			i.Deliveries[1].Acknowledged, i.Deliveries[1].NextRetry, i.Deliveries[1].Redelivery})
	assert.Equal(t, 2, notify.count())
}

func TestDashboardStateAnswerPreview(t *testing.T) {
	s := newServer(t, hipopaytest.WithRetryIntervals())
	ctx := ctxT(t)
	long := strings.Repeat("é", 150) // 300 bytes: cut on a character boundary
	notify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, long)
	}))
	t.Cleanup(notify.Close)
	p, err := s.Client().PlaceOrder(ctx, order("ORD-LONG", "1.00", hipopay.HKD, notify.URL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	assert.ErrorIs(t, s.WaitDelivered(ctx, p.PaymentNo), hipopaytest.ErrNotAcknowledged)
	o := getState(t, s).Orders[0]
	assert.Equal(t, "gave up", o.Notification)
	require.Len(t, o.Deliveries, 1)
	d := o.Deliveries[0]
	assert.Equal(t, "502 Bad Gateway", d.Status)
	assert.Equal(t, strings.Repeat("é", 100), d.Body)
	assert.True(t, d.BodyTruncated)
	assert.Empty(t, d.NextRetry, "no retry left")
}

func TestExpire(t *testing.T) {
	s := newServer(t)
	ctx := ctxT(t)
	client := s.Client()
	p, err := client.PlaceOrder(ctx, order("ORD-EXP", "3.00", hipopay.HKD, ""))
	require.NoError(t, err)

	out := mockPost(t, s, "expire?payment_no="+p.PaymentNo)
	require.Equal(t, true, out["is_success"], out)
	assert.Equal(t, "EXPIRED", out["response"].(map[string]any)["status"])
	got, err := client.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: p.PaymentNo})
	require.NoError(t, err)
	assert.Equal(t, hipopay.PaymentStatusExpired, got.Status)
	assert.Error(t, s.Pay(p.PaymentNo), "an expired order cannot be paid")
	assert.Error(t, s.FailPayment(p.PaymentNo))

	out = mockPost(t, s, "expire?payment_no="+p.PaymentNo)
	assert.Equal(t, false, out["is_success"])
	assert.Equal(t, hipopaytest.CodeInvalidParameter, out["error"])
	assert.Contains(t, out["error_message"], "EXPIRED, not INIT")
	out = mockPost(t, s, "expire?payment_no=nope")
	assert.Equal(t, hipopaytest.CodePaymentNotFound, out["error"])
	out = mockPost(t, s, "expire")
	assert.Equal(t, hipopaytest.CodeInvalidParameter, out["error"])
	assert.Equal(t, "payment_no is required", out["error_message"])
	// The form body works as the query does.
	p2, err := client.PlaceOrder(ctx, order("ORD-EXP2", "3.00", hipopay.HKD, ""))
	require.NoError(t, err)
	resp, err := http.PostForm(s.URL+"_mock/expire", url.Values{"payment_no": {p2.PaymentNo}})
	require.NoError(t, err)
	resp.Body.Close()
	got, _ = s.Payment(p2.PaymentNo)
	assert.Equal(t, hipopay.PaymentStatusExpired, got.Status)
	// Only POST changes anything.
	resp, err = http.Get(s.URL + "_mock/expire?payment_no=" + p.PaymentNo)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// A paid order does not expire.
	p3, err := client.PlaceOrder(ctx, order("ORD-EXP3", "3.00", hipopay.HKD, ""))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p3.PaymentNo))
	assert.ErrorContains(t, s.ExpirePayment(p3.PaymentNo), "PAID, not INIT")
	assert.ErrorIs(t, s.ExpirePayment("nope"), hipopay.ErrPaymentNotFound)
}

func TestRedeliverAfterAcknowledged(t *testing.T) {
	s := newServer(t, hipopaytest.WithRetryIntervals(time.Millisecond))
	ctx := ctxT(t)
	notify, notifyURL := newSwitchableNotify(t, false)
	p, err := s.Client().PlaceOrder(ctx, order("ORD-R1", "1.00", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))

	out := mockPost(t, s, "redeliver?payment_no="+p.PaymentNo)
	require.Equal(t, true, out["is_success"], out)
	assert.Equal(t, "PAID", out["response"].(map[string]any)["status"])
	ds, err := s.WaitDeliveries(ctx, p.PaymentNo, 2)
	require.NoError(t, err)
	assert.Equal(t, 2, ds[1].Attempt)
	assert.True(t, ds[1].Redelivery)
	assert.True(t, ds[1].Acknowledged)
	assert.False(t, ds[0].Redelivery)
	assert.Equal(t, 2, notify.count(), "the merchant received it twice")

	// A redelivery that fails goes on with the schedule (here one retry).
	notify.set(true)
	require.NoError(t, s.Redeliver(p.PaymentNo))
	ds, err = s.WaitDeliveries(ctx, p.PaymentNo, 4)
	require.NoError(t, err)
	assert.Equal(t, []int{500, 500}, []int{ds[2].StatusCode, ds[3].StatusCode})
	assert.Equal(t, []bool{true, false}, []bool{ds[2].Redelivery, ds[3].Redelivery})
	assert.Equal(t, ds[2].Time.Add(time.Millisecond), ds[2].NextRetry)
	assert.True(t, ds[3].NextRetry.IsZero())
	assert.NoError(t, s.WaitDelivered(ctx, p.PaymentNo), "it was acknowledged once")
}

func TestRedeliverWhileWaiting(t *testing.T) {
	s := newServer(t, hipopaytest.WithRetryIntervals(time.Hour, time.Hour, time.Hour))
	ctx := ctxT(t)
	notify, notifyURL := newSwitchableNotify(t, true)
	p, err := s.Client().PlaceOrder(ctx, order("ORD-R2", "1.00", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	ds, err := s.WaitDeliveries(ctx, p.PaymentNo, 1)
	require.NoError(t, err)
	assert.Equal(t, ds[0].Time.Add(time.Hour), ds[0].NextRetry)

	// The re-send waiting an hour goes now, and fails again: the schedule
	// goes on with its second interval.
	require.NoError(t, s.Redeliver(p.PaymentNo))
	ds, err = s.WaitDeliveries(ctx, p.PaymentNo, 2)
	require.NoError(t, err)
	assert.True(t, ds[1].Redelivery)
	assert.Equal(t, 500, ds[1].StatusCode)
	assert.Equal(t, ds[1].Time.Add(time.Hour), ds[1].NextRetry)

	notify.set(false)
	require.NoError(t, s.Redeliver(p.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo))
	ds = s.Deliveries(p.PaymentNo)
	require.Len(t, ds, 3)
	assert.True(t, ds[2].Acknowledged)
	assert.Equal(t, 3, notify.count())
	require.Eventually(t, func() bool { return getState(t, s).Orders[0].Notification == "acknowledged" }, 5*time.Second, 10*time.Millisecond)
}

func TestRedeliverAfterGivingUp(t *testing.T) {
	s := newServer(t, hipopaytest.WithRetryIntervals())
	ctx := ctxT(t)
	notify, notifyURL := newSwitchableNotify(t, true)
	p, err := s.Client().PlaceOrder(ctx, order("ORD-R3", "1.00", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	require.ErrorIs(t, s.WaitDelivered(ctx, p.PaymentNo), hipopaytest.ErrNotAcknowledged)

	notify.set(false)
	require.NoError(t, s.Redeliver(p.PaymentNo))
	require.NoError(t, s.WaitDelivered(ctx, p.PaymentNo), "a redelivery starts over")
	ds := s.Deliveries(p.PaymentNo)
	require.Len(t, ds, 2)
	assert.Equal(t, 2, ds[1].Attempt)
	assert.True(t, ds[1].Redelivery && ds[1].Acknowledged)
}

// TestRedeliverWhileSending: a Redeliver that comes while the last
// delivery is out is not lost when that delivery is acknowledged.
func TestRedeliverWhileSending(t *testing.T) {
	s := newServer(t, hipopaytest.WithRetryIntervals())
	ctx := ctxT(t)
	arrived, release := make(chan struct{}, 4), make(chan struct{})
	notify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "success")
	}))
	t.Cleanup(notify.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	p, err := s.Client().PlaceOrder(ctx, order("ORD-R4", "1.00", hipopay.HKD, notify.URL))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	<-arrived
	require.NoError(t, s.Redeliver(p.PaymentNo))
	close(release)
	ds, err := s.WaitDeliveries(ctx, p.PaymentNo, 2)
	require.NoError(t, err)
	assert.True(t, ds[0].Acknowledged)
	assert.True(t, ds[1].Redelivery)
	assert.True(t, ds[1].Acknowledged)
}

func TestRedeliverRefused(t *testing.T) {
	s := hipopaytest.NewServer()
	defer s.Close()
	ctx := ctxT(t)
	client := s.Client()
	_, notifyURL := newSwitchableNotify(t, false)
	unpaid, err := client.PlaceOrder(ctx, order("ORD-U", "1.00", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	silent, err := client.PlaceOrder(ctx, order("ORD-S", "1.00", hipopay.HKD, ""))
	require.NoError(t, err)
	require.NoError(t, s.Pay(silent.PaymentNo))

	out := mockPost(t, s, "redeliver?payment_no="+unpaid.PaymentNo)
	assert.Equal(t, hipopaytest.CodePaymentNotPaid, out["error"], out)
	out = mockPost(t, s, "redeliver?payment_no="+silent.PaymentNo)
	assert.Equal(t, hipopaytest.CodeInvalidParameter, out["error"])
	assert.Contains(t, out["error_message"], "no notify_url")
	out = mockPost(t, s, "redeliver?payment_no=nope")
	assert.Equal(t, hipopaytest.CodePaymentNotFound, out["error"])
	out = mockPost(t, s, "redeliver")
	assert.Equal(t, "payment_no is required", out["error_message"])
	assert.Empty(t, s.Deliveries(unpaid.PaymentNo))

	s.Close()
	assert.ErrorContains(t, s.Redeliver(silent.PaymentNo), "server closed")
}

func TestBillDownload(t *testing.T) {
	clock := newFakeClock(time.Date(2024, 3, 5, 9, 30, 0, 0, cst))
	s := newServer(t, hipopaytest.WithClock(clock.Now))
	ctx := ctxT(t)
	client := s.Client()
	p, err := client.PlaceOrder(ctx, order("ORD-B,1", "20.00", hipopay.HKD, ""))
	require.NoError(t, err)
	require.NoError(t, s.Pay(p.PaymentNo))
	clock.Add(24 * time.Hour)
	_, err = client.Refund(ctx, &hipopay.RefundRequest{PaymentNo: p.PaymentNo, OutRefundID: "RF-B"})
	require.NoError(t, err)

	get := func(query string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(s.URL + "_mock/bill?" + query)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	resp, body := get("date=20240305")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, `attachment; filename="hipopay-bill-`+s.MerchantNo+`-20240305.csv"`, resp.Header.Get("Content-Disposition"))
	// Exactly what the signed GET download_bill answers for that day.
	_, signed := rawCall(t, s, http.MethodGet, "download_bill", "3.0",
		url.Values{"merchant_no": {s.MerchantNo}, "start_date": {"20240305"}, "end_date": {"20240305"}}, nil)
	assert.Equal(t, signed["text"], body)
	lines := readBill(t, body)
	require.Len(t, lines, 1)
	assert.Equal(t, p.PaymentNo, lines[0].OrderNo)
	assert.Equal(t, "ORD-B,1", lines[0].ExternalOrderNo)

	_, body = get("date=20240306&merchant_no=" + url.QueryEscape(s.MerchantNo))
	lines = readBill(t, body)
	require.Len(t, lines, 1)
	assert.Equal(t, hipopay.BillTypeRefund, lines[0].Type)

	for _, q := range []string{"date=2024-03-05", "", "date=20240307", "date=20231101"} {
		resp, body := get(q)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
		assert.Contains(t, body, hipopaytest.CodeInvalidParameter, q)
		assert.Empty(t, resp.Header.Get("Content-Disposition"), q)
	}
	resp, _ = get("date=20240305&merchant_no=nobody")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func readBill(t *testing.T, text string) []*hipopay.BillRecord {
	t.Helper()
	var out []*hipopay.BillRecord
	for rec, err := range hipopay.NewBillReader(strings.NewReader(text)).All() {
		require.NoError(t, err)
		out = append(out, rec)
	}
	return out
}

// readEvent reads the next server-sent event's data.
func readEvent(t *testing.T, r *bufio.Reader) dashState {
	t.Helper()
	event := ""
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			require.Equal(t, "state", event)
			var env struct {
				IsSuccess bool      `json:"is_success"`
				Response  dashState `json:"response"`
			}
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &env))
			require.True(t, env.IsSuccess)
			return env.Response
		}
	}
}

func TestEvents(t *testing.T) {
	s := hipopaytest.NewServer(hipopaytest.WithRetryIntervals())
	ctx := ctxT(t)
	_, notifyURL := newSwitchableNotify(t, false)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"_mock/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	r := bufio.NewReader(resp.Body)
	assert.Empty(t, readEvent(t, r).Orders, "the state at once")

	p, err := s.Client().PlaceOrder(ctx, order("ORD-E", "1.00", hipopay.HKD, notifyURL))
	require.NoError(t, err)
	st := readEvent(t, r)
	require.Len(t, st.Orders, 1, "a new order is pushed")
	assert.Equal(t, p.PaymentNo, st.Orders[0].PaymentNo)

	require.NoError(t, s.Pay(p.PaymentNo))
	for len(st.Orders[0].Deliveries) == 0 || st.Orders[0].Notification != "acknowledged" {
		st = readEvent(t, r) // PAID, then the delivery
	}
	assert.Equal(t, 200, st.Orders[0].Deliveries[0].StatusCode)

	// Close ends the stream rather than waiting for it.
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on an open event stream")
	}
	_, err = io.Copy(io.Discard, r)
	assert.NoError(t, err, "the stream ended cleanly")
}

// TestDashboardEndpointsNothingPanics sends odd requests to the new
// endpoints: none answers 5xx.
func TestDashboardEndpointsNothingPanics(t *testing.T) {
	s := newServer(t)
	ctx, cancel := context.WithTimeout(ctxT(t), 10*time.Second)
	defer cancel()
	paths := []string{"_mock/expire", "_mock/redeliver", "_mock/state", "_mock/bill", "_mock/dashboard", "_mock/dashboard/app.js",
		"_mock/dashboard/%2e%2e/mock.go", "_mock/dashboard//style.css"}
	queries := []string{"", "?payment_no=%zz", "?date=99999999", "?date=20240230&merchant_no=%00", "?payment_no=" + strings.Repeat("9", 5000)}
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodHead} {
		for _, path := range paths {
			for _, q := range queries {
				req, err := http.NewRequestWithContext(ctx, method, s.URL+path+q, strings.NewReader("payment_no=&date=%zz"))
				require.NoError(t, err)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err, "%s %s%s", method, path, q)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.Less(t, resp.StatusCode, 500, "%s %s%s", method, path, q)
			}
		}
	}
}

func TestDashboardStateShowsEachOrdersMethod(t *testing.T) {
	s := hipopaytest.NewServer()
	defer s.Close()
	client := s.Client()
	_, err := client.PlaceOrder(context.Background(), &hipopay.PlaceOrderRequest{Method: hipopay.AlipayQR,
		OutTradeID: "ORD-QR", Amount: "1.00", Currency: hipopay.HKD, ProductInfo: "tea", ClientIP: "203.0.113.9"})
	require.NoError(t, err)
	st := getState(t, s)
	require.Len(t, st.Orders, 1)
	assert.Equal(t, string(hipopay.AlipayQR), st.Orders[0].Method)
}
