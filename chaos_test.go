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
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
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

// chaosMethod is a payment method the simulator places orders with: the
// path its orders are posted to (where place-order faults are injected)
// and how it fills the fields that method requires.
type chaosMethod struct {
	name string
	path string
	fill func(r *hipopay.PlaceOrderRequest, i int)
}

// chaosMethods are the payment methods the orders are spread across, in
// turn: one line per method.
func chaosMethods() []chaosMethod {
	return []chaosMethod{
		{"mini-program", "wechatpay/mini_program/payment", func(r *hipopay.PlaceOrderRequest, i int) {
			r.AppID, r.OpenID = "wx3zzzzzzz4", fmt.Sprintf("o-buyer-%04d", i)
		}},
	}
}

// chaosFault is a fault the fake injects into one call.
type chaosFault int

const (
	noFault      chaosFault = iota
	faultStatus             // FailNext 502: a proxy answers, HipoPay never saw it
	faultDrop               // DropNext: the connection is reset before HipoPay acts
	faultLost               // LoseNextAnswer: HipoPay acts, the answer is lost
	faultSlow               // latency beyond the merchant's deadline for the call
	faultExhaust            // FailNext 503 three times: more than the SDK's two retries
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
				fault: fault(rng.IntN(100), 6, 6, 8, 3, 5),
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

// ledgerOrder is an order in the merchant's own books.
type ledgerOrder struct {
	plan      chaosPlan
	amount    string
	status    hipopay.PaymentStatus // "" until placed: INIT, then PAID (notified), FAIL
	paymentNo string
	seenNos   map[string]bool // every payment_no HipoPay named for this order
	paid      chan struct{}   // closed when its notification is processed
	fields    url.Values      // the notification as received
	processed int             // times the notification was processed
	failLeft  int             // deliveries the handler still fails
	refunds   []*ledgerRefund
}

type ledgerRefund struct {
	outRefundID string
	amount      string
	done        bool // HipoPay answered SUCCESS
	refundNo    string
	seenNos     map[string]bool
}

// chaosStats are the simulator's counts.
type chaosStats struct {
	apiFaults, slowFaults, handlerFailures      int
	uncertainOrders, foundByLookup, placedAgain int
	refundResends, replays, duplicates          int
	notificationMismatches, unknownNotification int
}

func (s chaosStats) faults() int { return s.apiFaults + s.slowFaults + s.handlerFailures }

// chaosMerchant is the merchant: its ledger, its client, its notify_url.
type chaosMerchant struct {
	srv       *hipopaytest.Server
	client    *hipopay.Client
	notifyURL string
	latencyMu sync.Mutex // one latency window at a time

	mu     sync.Mutex
	orders map[string]*ledgerOrder // by out_trade_id
	stats  chaosStats
	paths  map[string]bool // where faults were armed
}

func (m *chaosMerchant) faultPaths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.paths))
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

func (m *chaosMerchant) count(f func(*chaosStats)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.stats)
}

// inject arms a fault for the next call of path ("POST payment_refund").
func (m *chaosMerchant) inject(f chaosFault, path string) {
	m.mu.Lock()
	m.paths[path] = true
	m.mu.Unlock()
	switch f {
	case faultStatus:
		m.srv.FailNext(path, http.StatusBadGateway, 1)
	case faultDrop:
		m.srv.DropNext(path, 1)
	case faultLost:
		m.srv.LoseNextAnswer(path, 1)
	case faultExhaust:
		m.srv.FailNext(path, http.StatusServiceUnavailable, 3)
	}
	m.count(func(s *chaosStats) {
		switch f {
		case faultStatus, faultDrop, faultLost:
			s.apiFaults++
		case faultExhaust:
			s.apiFaults += 3
		}
	})
}

// faulted runs call once with fault f armed for path. Every armed fault is
// used by this call or by a concurrent call of the same path that came
// first; either way each one hits some call.
func (m *chaosMerchant) faulted(ctx context.Context, f chaosFault, path string, call func(context.Context) error) error {
	if f != faultSlow {
		m.inject(f, path)
		return call(ctx)
	}
	m.latencyMu.Lock()
	defer m.latencyMu.Unlock()
	m.srv.SetLatency(150 * time.Millisecond)
	defer m.srv.SetLatency(0)
	m.count(func(s *chaosStats) { s.slowFaults++ })
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	return call(short)
}

// record writes the order into the ledger before it is placed.
func (m *chaosMerchant) record(p chaosPlan) *ledgerOrder {
	o := &ledgerOrder{
		plan: p, amount: hipopay.FormatAmount(p.minor, p.currency), seenNos: map[string]bool{},
		paid: make(chan struct{}), failLeft: p.notifyFails,
	}
	if p.buyer == hipopay.PaymentStatusPaid {
		m.count(func(s *chaosStats) { s.handlerFailures += p.notifyFails })
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orders[p.outTradeID] = o
	return o
}

// saw notes a payment_no HipoPay gave for the order: more than one is an
// order created twice.
func (m *chaosMerchant) saw(o *ledgerOrder, p *hipopay.Payment) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o.seenNos[p.PaymentNo] = true
	if o.paymentNo == "" {
		o.paymentNo, o.status = p.PaymentNo, hipopay.PaymentStatusInit
	}
}

// definitive reports whether a failed call surely did nothing: HipoPay
// answered with a business error. A network error, a lost answer, a 5xx
// from a proxy or an expired deadline leave it uncertain.
func definitive(err error) bool {
	var apiErr *hipopay.APIError
	var verr *hipopay.ValidationError
	return errors.As(err, &verr) || (errors.As(err, &apiErr) && apiErr.Code != "" && !apiErr.Temporary())
}

// lookup finds an order by out_trade_id: the payment, or an error wrapping
// ErrPaymentNotFound when HipoPay never got it.
func (m *chaosMerchant) lookup(ctx context.Context, outTradeID string) (*hipopay.Payment, error) {
	var err error
	for range 20 {
		var p *hipopay.Payment
		p, err = m.client.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: outTradeID})
		if err == nil || errors.Is(err, hipopay.ErrPaymentNotFound) || ctx.Err() != nil {
			return p, err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("looking up %s: %w", outTradeID, err)
}

// place places the order, resolving an uncertain answer by looking it up.
func (m *chaosMerchant) place(ctx context.Context, o *ledgerOrder) error {
	p := o.plan
	req := &hipopay.PlaceOrderRequest{
		OutTradeID: p.outTradeID, Amount: o.amount, Currency: p.currency,
		ProductInfo: fmt.Sprintf("chaos day, order %d", p.i), ClientIP: "203.0.113.9", NotifyURL: m.notifyURL,
	}
	p.method.fill(req, p.i)
	for attempt := 1; attempt <= 5; attempt++ {
		var got *hipopay.Payment
		call := func(ctx context.Context) (err error) { got, err = m.client.PlaceOrder(ctx, req); return err }
		var err error
		if attempt == 1 {
			err = m.faulted(ctx, p.placeFault, "POST "+p.method.path, call)
		} else {
			err = call(ctx)
		}
		if err == nil {
			m.saw(o, got)
			return nil
		}
		if definitive(err) {
			return fmt.Errorf("placing %s: %w", p.outTradeID, err)
		}
		m.count(func(s *chaosStats) { s.uncertainOrders++ })
		found, lerr := m.lookup(ctx, p.outTradeID)
		switch {
		case lerr == nil:
			m.count(func(s *chaosStats) { s.foundByLookup++ })
			m.saw(o, found)
			return nil
		case !errors.Is(lerr, hipopay.ErrPaymentNotFound):
			return lerr
		}
		// HipoPay never got it: place it again, under the same out_trade_id.
		m.count(func(s *chaosStats) { s.placedAgain++ })
	}
	return fmt.Errorf("placing %s: no definitive answer after 5 attempts", p.outTradeID)
}

// onPaid is the merchant's notification function: it fails the first
// deliveries its plan says, then marks the order paid, once.
func (m *chaosMerchant) onPaid(_ context.Context, n *hipopay.PaymentNotification) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.orders[n.OutTradeID]
	switch {
	case o == nil:
		m.stats.unknownNotification++
		return nil
	case o.failLeft > 0:
		o.failLeft--
		return errors.New("the ledger database is unavailable (simulated)")
	case o.processed > 0:
		m.stats.duplicates++ // the handler let a duplicate through
		return nil
	}
	got, err := hipopay.ParseAmount(n.Amount, n.Currency)
	if err != nil || got != o.plan.minor || n.Currency != o.plan.currency || n.PaymentNo != o.paymentNo {
		m.stats.notificationMismatches++
	}
	o.seenNos[n.PaymentNo] = true
	o.processed++
	o.status = hipopay.PaymentStatusPaid
	o.fields = n.Fields
	close(o.paid)
	return nil
}

// replay plays HipoPay delivering an acknowledged notification again.
func (m *chaosMerchant) replay(o *ledgerOrder) error {
	m.mu.Lock()
	fields := o.fields
	m.mu.Unlock()
	req, err := hipopaytest.NewNotificationRequest(m.srv.PrivateKey(), m.notifyURL, fields, "")
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "success" {
		return fmt.Errorf("replayed notification of %s: %d %q", o.plan.outTradeID, resp.StatusCode, body)
	}
	m.count(func(s *chaosStats) { s.replays++ })
	return nil
}

// refund records the refund, then sends it until HipoPay answers for
// sure, always with the same out_refund_id.
func (m *chaosMerchant) refund(ctx context.Context, o *ledgerOrder, rp chaosRefundPlan) error {
	lr := &ledgerRefund{outRefundID: rp.outRefundID, amount: o.amount, seenNos: map[string]bool{}}
	req := &hipopay.RefundRequest{PaymentNo: o.paymentNo, OutRefundID: rp.outRefundID}
	if rp.minor > 0 {
		req.RefundAmount = hipopay.FormatAmount(rp.minor, o.plan.currency)
		lr.amount = req.RefundAmount
	}
	m.mu.Lock()
	o.refunds = append(o.refunds, lr)
	m.mu.Unlock()
	for attempt := 1; attempt <= 10; attempt++ {
		var r *hipopay.Refund
		call := func(ctx context.Context) (err error) { r, err = m.client.Refund(ctx, req); return err }
		var err error
		if attempt == 1 {
			err = m.faulted(ctx, rp.fault, "POST payment_refund", call)
		} else {
			err = call(ctx)
		}
		if err == nil {
			if r.Status != hipopay.RefundStatusSuccess {
				return fmt.Errorf("refund %s refused: %s %s", rp.outRefundID, r.ResultCode, r.FailMessage)
			}
			m.mu.Lock()
			lr.done, lr.refundNo, lr.seenNos[r.RefundNo] = true, r.RefundNo, true
			m.mu.Unlock()
			return nil
		}
		if definitive(err) {
			return fmt.Errorf("refund %s: %w", rp.outRefundID, err)
		}
		m.count(func(s *chaosStats) { s.refundResends++ })
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("refund %s: no definitive answer after 10 attempts", rp.outRefundID)
}

// run plays one order's day.
func (m *chaosMerchant) run(ctx context.Context, p chaosPlan) error {
	o := m.record(p)
	if err := m.place(ctx, o); err != nil {
		return err
	}
	if p.pollFault {
		// The merchant checks the order while GET payment fails; a read
		// that fails (other calls' faults too) is simply read again.
		var got *hipopay.Payment
		get := func(ctx context.Context) (err error) {
			got, err = m.client.GetPayment(ctx, hipopay.PaymentQuery{PaymentNo: o.paymentNo})
			return err
		}
		err := m.faulted(ctx, faultStatus, "GET payment", get)
		for range 10 {
			if err == nil || definitive(err) {
				break
			}
			time.Sleep(20 * time.Millisecond)
			err = get(ctx)
		}
		if err != nil {
			return fmt.Errorf("checking %s: %w", p.outTradeID, err)
		}
		m.saw(o, got)
	}
	switch p.buyer {
	case hipopay.PaymentStatusFail:
		return m.srv.FailPayment(o.paymentNo)
	case hipopay.PaymentStatusInit:
		return nil
	}
	if err := m.srv.Pay(o.paymentNo); err != nil {
		return err
	}
	select {
	case <-o.paid:
	case <-ctx.Done():
		return fmt.Errorf("%s: the notification was never processed: %w", p.outTradeID, ctx.Err())
	}
	if p.replay {
		if err := m.replay(o); err != nil {
			return err
		}
	}
	for _, rp := range p.refunds {
		if err := m.refund(ctx, o, rp); err != nil {
			return err
		}
	}
	return nil
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
	notify := httptest.NewServer(m.client.NotificationHandler(m.onPaid))
	t.Cleanup(notify.Close)
	m.notifyURL = notify.URL + "/hipopay/notify"

	// The day: workers take the orders in turn.
	work := make(chan chaosPlan)
	var wg sync.WaitGroup
	for range chaosWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				if err := m.run(ctx, p); err != nil {
					t.Errorf("order %s: %v", p.outTradeID, err)
				}
			}
		}()
	}
	for _, p := range plans {
		work <- p
	}
	close(work)
	wg.Wait()

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
		case hipopay.PaymentStatusInit, hipopay.PaymentStatusFail:
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
	duplicates := figures.duplicates + m.stats.duplicates
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
		case hipopay.PaymentStatusInit:
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
