package hipopay_test

// The merchant of TestChaosDayReconciled: its ledger, its calls through
// the fake's faults, and its notification function.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
)

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
	case faultLostExhaust:
		m.srv.LoseNextAnswer(path, 1)
		m.srv.FailNext(path, http.StatusServiceUnavailable, 2)
	}
	m.count(func(s *chaosStats) {
		switch f {
		case faultStatus, faultDrop, faultLost:
			s.apiFaults++
		case faultExhaust, faultLostExhaust:
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
		o.paymentNo, o.status = p.PaymentNo, p.Status // INIT; USERPAYING for a barcode
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
		Method: p.method.method, OutTradeID: p.outTradeID, Amount: o.amount, Currency: p.currency,
		ProductInfo: fmt.Sprintf("chaos day, order %d", p.i), ClientIP: "203.0.113.9", NotifyURL: m.notifyURL,
	}
	p.method.fill(req, p.i)
	for attempt := 1; attempt <= 5; attempt++ {
		var got *hipopay.Payment
		call := func(ctx context.Context) (err error) { got, err = m.client.PlaceOrder(ctx, req); return err }
		var err error
		if attempt == 1 {
			err = m.faulted(ctx, p.placeFault, "POST "+string(p.method.method), call)
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
	wait := time.NewTimer(15 * time.Second) // the whole retry schedule is under 3 s
	defer wait.Stop()
	select {
	case <-o.paid:
	case <-wait.C:
		return fmt.Errorf("%s: the notification was not processed within 15 s", p.outTradeID)
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
