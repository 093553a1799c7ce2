package hipopay_test

// A day of chaos at the fake HipoPay, reconciled (issue 16 item 2): a
// merchant simulator places a few hundred orders across payment methods,
// the buyers pay most of them, the merchant refunds some in part and some
// in full, while the fake injects faults (FailNext, DropNext,
// LoseNextAnswer, latency) and the merchant's notify handler fails now and
// then. The merchant keeps its own ledger as the README recommends: an
// order is recorded before it is placed; an uncertain answer is resolved by
// looking the order up by out_trade_id, never by placing it blindly again;
// a refund is re-sent with the same out_refund_id; notifications are
// deduplicated. At the end it downloads the reconciliation file and
// reconciles it with the ledger, to the cent.

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/require"
)

const (
	chaosSeed    = 20260305 // every plan below follows from it
	chaosOrders  = 320
	chaosWorkers = 8
)

// chaosMethod is a payment method the simulator places orders with,
// whether it takes HKD only (WeChat Pay's HK wallet), and how an order
// fills the fields that method requires.
type chaosMethod struct {
	method  hipopay.PaymentMethod
	hkdOnly bool
	fill    func(r *hipopay.PlaceOrderRequest, i int)
}

// chaosMethods are the payment methods the orders are spread across, in
// turn: one line per method (TestChaosMethodsCoverEveryMethod holds it to
// hipopay.PaymentMethods).
func chaosMethods() []chaosMethod {
	miniProgram := func(r *hipopay.PlaceOrderRequest, i int) {
		r.AppID, r.OpenID = "wx3zzzzzzz4", fmt.Sprintf("o-buyer-%04d", i)
	}
	openID := func(r *hipopay.PlaceOrderRequest, i int) { r.OpenID = fmt.Sprintf("o-buyer-%04d", i) }
	app := func(r *hipopay.PlaceOrderRequest, _ int) { r.AppID = "wx8888888888888888" }
	barcode := func(r *hipopay.PlaceOrderRequest, i int) { r.AuthCode = fmt.Sprintf("1346%014d", i) }
	hkWallet := func(r *hipopay.PlaceOrderRequest, i int) { r.HKWallet = i%3 == 0 }
	return []chaosMethod{
		{hipopay.WeChatMiniProgram, false, miniProgram},
		{hipopay.WeChatMiniProgramHK, true, miniProgram},
		{hipopay.WeChatOfficialAccount, false, openID},
		{hipopay.WeChatOfficialAccountHK, true, openID},
		{hipopay.WeChatApp, false, app},
		{hipopay.WeChatAppHK, true, app},
		{hipopay.WeChatWebQR, false, func(*hipopay.PlaceOrderRequest, int) {}},
		{hipopay.WeChatDeviceQR, false, func(*hipopay.PlaceOrderRequest, int) {}},
		{hipopay.WeChatBarcode, false, barcode},
		{hipopay.AlipayApp, false, func(*hipopay.PlaceOrderRequest, int) {}},
		{hipopay.AlipayWap, false, func(r *hipopay.PlaceOrderRequest, i int) { r.ReturnURL = "https://shop.example/paid"; hkWallet(r, i) }},
		{hipopay.AlipayWeb, false, hkWallet},
		{hipopay.AlipayQR, false, hkWallet},
		{hipopay.AlipayBarcode, false, func(r *hipopay.PlaceOrderRequest, i int) { barcode(r, i); hkWallet(r, i) }},
	}
}

func TestChaosMethodsCoverEveryMethod(t *testing.T) {
	var got []hipopay.PaymentMethod
	for _, m := range chaosMethods() {
		got = append(got, m.method)
	}
	require.Equal(t, hipopay.PaymentMethods(), got, "the chaos day places orders with every payment method")
}

// chaosFault is a fault the fake injects into one call.
type chaosFault int

const (
	noFault          chaosFault = iota
	faultStatus                 // FailNext 502: a proxy answers, HipoPay never saw it
	faultDrop                   // DropNext: the connection is reset before HipoPay acts
	faultLost                   // LoseNextAnswer: HipoPay acts, the answer is lost
	faultSlow                   // latency beyond the merchant's deadline for the call
	faultExhaust                // FailNext 503 three times: more than the SDK's two retries
	faultLostExhaust            // LoseNextAnswer, then FailNext 503 twice: done, yet the SDK's retries all fail
)

type chaosRefundPlan struct {
	outRefundID string
	minor       int64 // 0: a full refund (no refund_amount sent)
	fault       chaosFault
}

// chaosPlan is what happens to one order, drawn from the seed beforehand
// so that the figures do not depend on scheduling.
type chaosPlan struct {
	i           int
	outTradeID  string
	method      chaosMethod
	currency    hipopay.Currency
	minor       int64
	buyer       hipopay.PaymentStatus // PAID: the buyer pays; FAIL: the payment fails; INIT: left unpaid
	placeFault  chaosFault
	pollFault   bool // the merchant checks the order while GET payment fails once
	notifyFails int  // deliveries the merchant's handler fails before one succeeds
	replay      bool // HipoPay delivers the notification again after it was acknowledged
	refunds     []chaosRefundPlan
}

func chaosPlans(rng *rand.Rand, n int) []chaosPlan {
	methods := chaosMethods()
	currencies := []hipopay.Currency{hipopay.HKD, hipopay.HKD, hipopay.HKD, hipopay.USD, hipopay.CNY, hipopay.JPY}
	fault := func(r int, weights ...int) chaosFault { // weights of faultStatus, faultDrop, ... in percent
		for k, w := range weights {
			if r < w {
				return chaosFault(k + 1)
			}
			r -= w
		}
		return noFault
	}
	plans := make([]chaosPlan, n)
	for i := range plans {
		p := chaosPlan{i: i, outTradeID: fmt.Sprintf("DAY-%04d", i), method: methods[i%len(methods)]}
		p.currency = currencies[rng.IntN(len(currencies))]
		if p.method.hkdOnly {
			p.currency = hipopay.HKD
		}
		p.minor = 200 + rng.Int64N(50000) // at least 2.00 (200 JPY): room for a partial refund
		switch r := rng.IntN(100); {
		case r < 86:
			p.buyer = hipopay.PaymentStatusPaid
		case r < 93:
			p.buyer = hipopay.PaymentStatusInit
		default:
			p.buyer = hipopay.PaymentStatusFail
		}
		p.placeFault = fault(rng.IntN(100), 5, 5, 5, 3)
		p.pollFault = rng.IntN(100) < 8
		switch r := rng.IntN(100); {
		case r < 10:
			p.notifyFails = 1
		case r < 14:
			p.notifyFails = 2
		}
		p.replay = rng.IntN(100) < 6
		kind, part := rng.IntN(100), 1+rng.Int64N(p.minor-1)
		refund := func(minor int64) {
			p.refunds = append(p.refunds, chaosRefundPlan{
				outRefundID: fmt.Sprintf("%s-R%d", p.outTradeID, len(p.refunds)+1), minor: minor,
				fault: fault(rng.IntN(100), 6, 6, 8, 3, 5, 5),
			})
		}
		switch {
		case p.buyer != hipopay.PaymentStatusPaid:
		case kind < 15:
			refund(0) // in full
		case kind < 30:
			refund(part) // in part
		case kind < 40:
			refund(part) // in part, then the rest by amount
			refund(p.minor - part)
		}
		plans[i] = p
	}
	return plans
}

func TestChaosDayReconciled(t *testing.T) {
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	plans := chaosPlans(rand.New(rand.NewPCG(chaosSeed, chaosSeed)), chaosOrders)

	srv := hipopaytest.NewServer(
		hipopaytest.WithMerchant("HP0000020260", chaosKey(t, "testdata/merchant_private_pkcs8.pem")),
		hipopaytest.WithHipoPayKey(chaosKey(t, "testdata/fake_hipopay_private.pem")),
		hipopaytest.WithRetryIntervals(2*time.Millisecond, 5*time.Millisecond, 10*time.Millisecond, 20*time.Millisecond,
			40*time.Millisecond, 80*time.Millisecond, 160*time.Millisecond, 320*time.Millisecond, 640*time.Millisecond, time.Second),
	)
	defer srv.Close()
	m := &chaosMerchant{
		srv:    srv,
		client: srv.Client(hipopay.WithRetryBackoff(5 * time.Millisecond)),
		orders: map[string]*ledgerOrder{},
		paths:  map[string]bool{},
	}
	// The handler logs each failure of onPaid at Error: expected here.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	notify := httptest.NewServer(m.client.NotificationHandler(m.onPaid, hipopay.WithHandlerLogger(quiet)))
	t.Cleanup(notify.Close)
	m.notifyURL = notify.URL + "/hipopay/notify"

	// The day: workers take the orders in turn.
	// The first order that goes wrong ends the day.
	day, endDay := context.WithCancel(ctx)
	defer endDay()
	work := make(chan chaosPlan)
	var wg sync.WaitGroup
	for range chaosWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				if err := m.run(day, p); err != nil && day.Err() == nil {
					t.Errorf("order %s: %v", p.outTradeID, err)
					endDay()
				}
			}
		}()
	}
	for _, p := range plans {
		work <- p
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// End of day: every paid order's notification acknowledged; the
	// orders not paid are checked with HipoPay (a PAID one the ledger did
	// not hear of is unreconciled).
	unreconciled, deliveries := 0, 0
	for _, o := range m.orders {
		if o.status == hipopay.PaymentStatusPaid {
			require.NoError(t, srv.WaitDelivered(ctx, o.paymentNo), o.plan.outTradeID)
			deliveries += len(srv.Deliveries(o.paymentNo))
		}
	}
	notify.Close() // every delivery answered: the ledger is the test's alone from here
	for _, o := range m.orders {
		if o.status == hipopay.PaymentStatusPaid {
			continue
		}
		p, err := m.lookup(ctx, o.plan.outTradeID)
		require.NoError(t, err, o.plan.outTradeID)
		switch p.Status {
		case hipopay.PaymentStatusInit, hipopay.PaymentStatusUserPaying, hipopay.PaymentStatusFail:
			o.status = p.Status
		default:
			t.Errorf("order %s is %s at HipoPay, %q in the ledger", o.plan.outTradeID, p.Status, o.status)
			unreconciled++
		}
	}

	// The reconciliation file, downloaded through a failing gateway.
	m.inject(faultStatus, "GET download_bill")
	var records []*hipopay.BillRecord
	now := time.Now()
	for rec, err := range m.client.BillRecords(ctx, &hipopay.BillRequest{StartDate: now.Add(-24 * time.Hour), EndDate: now}) {
		require.NoError(t, err)
		records = append(records, rec)
	}

	requireFaultsUsed(t, srv, m.faultPaths())
	res, figures := reconcileChaos(t, m, records)
	unreconciled += len(res.Mismatched) + len(res.MissingInBill) + len(res.UnexpectedInBill) +
		figures.sumMismatches + m.stats.notificationMismatches + m.stats.unknownNotification
	duplicates := figures.duplicates + m.stats.duplicates + fakeDuplicates(t, srv, m)
	for _, mm := range res.Mismatched {
		t.Errorf("mismatch: %s %s: ledger %s %s, file %s (%s)", mm.Expected.Kind, mm.Expected.HipoPayNo, mm.Expected.Amount, mm.Expected.Currency, mm.Bill, mm.Reason)
	}
	for _, e := range res.MissingInBill {
		t.Errorf("in the ledger, not in the file: %s %s %s %s", e.Kind, e.HipoPayNo, e.Amount, e.Currency)
	}
	for _, r := range res.UnexpectedInBill {
		t.Errorf("in the file, not in the ledger: %s %s %s", r.Type, r.OrderNo, r.ExternalOrderNo)
	}

	s := m.stats
	t.Logf("chaos day: seed=%d methods=%d paid=%d unpaid=%d failed=%d deliveries=%d | faults: api=%d slow=%d handler=%d | "+
		"uncertain orders=%d found by lookup=%d placed again=%d refund re-sends=%d notification replays=%d | file lines=%d | %.1fs",
		chaosSeed, len(chaosMethods()), figures.paid, figures.unpaid, figures.failed, deliveries,
		s.apiFaults, s.slowFaults, s.handlerFailures, s.uncertainOrders, s.foundByLookup, s.placedAgain,
		s.refundResends, s.replays, len(records), time.Since(started).Seconds())
	t.Logf("reconciled: orders=%d refunds=%d faults=%d duplicates=%d unreconciled=%d",
		len(m.orders), figures.refunds, s.faults(), duplicates, unreconciled)

	require.GreaterOrEqual(t, len(m.orders), 300)
	require.Positive(t, s.faults())
	require.Zero(t, duplicates, "orders or refunds created twice, or a notification processed twice")
	require.Zero(t, unreconciled, "the file and the ledger disagree")
}

// chaosFigures is what reconciling found besides the Reconciler's result.
type chaosFigures struct {
	paid, unpaid, failed, refunds int
	duplicates                    int // lines of an order or refund already seen, numbers seen twice
	sumMismatches                 int // currencies whose totals differ between the file and the ledger
}

// reconcileChaos compares the file with the ledger: each entry by the
// SDK's Reconciler, then the totals per currency, to the cent, and the
// lines or numbers that appear twice.
func reconcileChaos(t *testing.T, m *chaosMerchant, records []*hipopay.BillRecord) (*hipopay.Reconciliation, chaosFigures) {
	t.Helper()
	var f chaosFigures
	var expected []hipopay.ExpectedEntry
	ledger := map[hipopay.Currency]int64{} // paid less refunded, minor units
	for _, o := range m.orders {
		switch o.status {
		case hipopay.PaymentStatusInit, hipopay.PaymentStatusUserPaying:
			f.unpaid++
		case hipopay.PaymentStatusFail:
			f.failed++
		case hipopay.PaymentStatusPaid:
			f.paid++
			expected = append(expected, hipopay.ExpectedEntry{Kind: hipopay.BillEntryPayment, HipoPayNo: o.paymentNo,
				OutID: o.plan.outTradeID, Amount: o.amount, Currency: o.plan.currency})
			ledger[o.plan.currency] += o.plan.minor
		}
		if len(o.seenNos) > 1 {
			f.duplicates += len(o.seenNos) - 1 // HipoPay made the order twice
		}
		for _, r := range o.refunds {
			if len(r.seenNos) > 1 {
				f.duplicates += len(r.seenNos) - 1
			}
			if !r.done {
				continue
			}
			f.refunds++
			expected = append(expected, hipopay.ExpectedEntry{Kind: hipopay.BillEntryRefund, HipoPayNo: r.refundNo,
				OutID: r.outRefundID, Amount: r.amount, Currency: o.plan.currency})
			minor, err := hipopay.ParseAmount(r.amount, o.plan.currency)
			require.NoError(t, err)
			ledger[o.plan.currency] -= minor
		}
	}
	rc, err := hipopay.NewReconciler(expected)
	require.NoError(t, err)

	file := map[hipopay.Currency]int64{}    // transaction amounts less refund amounts
	moved := map[hipopay.Currency]int64{}   // credits and debits
	balance := map[hipopay.Currency]int64{} // the last running balance
	seen := map[string]bool{}
	minor := func(m hipopay.Money) int64 {
		n, err := m.Minor()
		require.NoError(t, err)
		return n
	}
	for _, rec := range records {
		rc.Add(rec)
		key := fmt.Sprint(rec.Kind(), "/", rec.OrderNo)
		if seen[key] {
			f.duplicates++
		}
		seen[key] = true
		if rec.Kind() == hipopay.BillEntryPayment {
			if seen["out/"+rec.ExternalOrderNo] {
				f.duplicates++ // two collections of one order
			}
			seen["out/"+rec.ExternalOrderNo] = true
			file[rec.TransactionAmount.Currency] += minor(rec.TransactionAmount)
		} else if rec.Kind() == hipopay.BillEntryRefund {
			file[rec.RefundAmount.Currency] -= minor(rec.RefundAmount)
		}
		moved[rec.Balance.Currency] += minor(rec.Credit) + minor(rec.Debit)
		balance[rec.Balance.Currency] = minor(rec.Balance)
	}
	for c := range mergeKeys(ledger, file) {
		if ledger[c] != file[c] {
			t.Errorf("%s: the ledger holds %s, the file %s", c, hipopay.FormatAmount(ledger[c], c), hipopay.FormatAmount(file[c], c))
			f.sumMismatches++
		}
	}
	for c := range moved {
		if moved[c] != balance[c] {
			t.Errorf("%s: credits and debits add up to %s, the closing balance is %s", c, hipopay.FormatAmount(moved[c], c), hipopay.FormatAmount(balance[c], c))
			f.sumMismatches++
		}
	}
	return rc.Result(), f
}

func mergeKeys(a, b map[hipopay.Currency]int64) map[hipopay.Currency]bool {
	out := map[hipopay.Currency]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func chaosKey(t *testing.T, path string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	k, err := hipopay.ParsePrivateKey(b)
	require.NoError(t, err)
	return k
}

// requireFaultsUsed checks that no armed fault is left, so that every
// fault counted hit a call: an unsigned request to each path must reach
// HipoPay's signature check (ILLEGAL_SECURITY_PROFILE), where a pending
// fault would answer 5xx or drop the connection first.
func requireFaultsUsed(t *testing.T, srv *hipopaytest.Server, paths []string) {
	t.Helper()
	for _, mp := range paths {
		method, path, _ := strings.Cut(mp, " ")
		req, err := http.NewRequest(method, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err, "%s: a fault is still armed", mp)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Contains(t, string(body), hipopaytest.CodeIllegalSecurityProfile, "%s: a fault is still armed", mp)
	}
}

// fakeDuplicates counts the orders and successful refunds the fake holds
// that the ledger does not know by HipoPay's number: an order or refund
// created twice (placed again under a new out_trade_id, re-sent under a
// new out_refund_id). It reads the fake's own view (_mock/state, what its
// dashboard shows), as a merchant would read HipoPay's portal.
func fakeDuplicates(t *testing.T, srv *hipopaytest.Server, m *chaosMerchant) int {
	t.Helper()
	resp, err := http.Get(srv.URL + "_mock/state")
	require.NoError(t, err)
	defer resp.Body.Close()
	var state struct {
		Response struct {
			Orders []struct {
				OutTradeID string `json:"out_trade_id"`
				PaymentNo  string `json:"payment_no"`
			} `json:"orders"`
			Refunds []struct {
				RefundNo    string `json:"refund_no"`
				OutRefundID string `json:"out_refund_id"`
				Status      string `json:"status"`
			} `json:"refunds"`
		} `json:"response"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&state))
	payments, refunds := map[string]bool{}, map[string]bool{}
	for _, o := range m.orders {
		payments[o.paymentNo] = true
		for _, r := range o.refunds {
			if r.done {
				refunds[r.refundNo] = true
			}
		}
	}
	dup := 0
	for _, o := range state.Response.Orders {
		if !payments[o.PaymentNo] {
			t.Errorf("the fake holds order %s (out_trade_id %s) that the ledger does not", o.PaymentNo, o.OutTradeID)
			dup++
		}
	}
	for _, r := range state.Response.Refunds {
		if r.Status == string(hipopay.RefundStatusSuccess) && !refunds[r.RefundNo] {
			t.Errorf("the fake holds refund %s (out_refund_id %s) that the ledger does not", r.RefundNo, r.OutRefundID)
			dup++
		}
	}
	require.Len(t, state.Response.Orders, len(m.orders), "one order at the fake per order of the ledger")
	return dup
}
