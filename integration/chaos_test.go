package integration

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hipopay-go/hipopay"
)

// pgRestartEnv names a shell command that restarts the PostgreSQL of
// HIPOPAY_TEST_POSTGRES_DSN and returns once it accepts connections again;
// .ci/postgres.sh start prints it.
const pgRestartEnv = "HIPOPAY_TEST_PG_RESTART"

// The storm: chaosPayments payments, each delivered by 1 to 3 concurrent
// streams (HipoPay sending it again before the first delivery was
// answered), one started every chaosSpacing; each stream re-delivers on
// HipoPay's schedule, compressed 50 times, until answered "success".
const (
	chaosPayments = 500
	chaosSpacing  = 30 * time.Millisecond
	chaosDeadline = 85 * time.Second // everything acknowledged by then
)

// chaosSchedule is HipoPay's retry schedule (1 s, 2 s, 4 s, 8 s, 60 s, 60 s,
// 60 s, 600 s, 600 s, 1800 s) divided by 50.
func chaosSchedule() []time.Duration {
	return []time.Duration{
		20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 160 * time.Millisecond,
		1200 * time.Millisecond, 1200 * time.Millisecond, 1200 * time.Millisecond,
		12 * time.Second, 12 * time.Second, 36 * time.Second,
	}
}

// TestPostgresChaosNotificationStorm runs three notify-server processes
// (integration/cmd/notify-server, built here) on one PostgreSQL database
// and has a HipoPay-like driver send them a storm of signed notifications
// with concurrent duplicates and retries, while it kills instances with
// SIGKILL in the middle of a transaction (and starts them again) and
// restarts PostgreSQL. Every fault it counts is verified: a kill counts
// when the killed process's transaction outlived it (pg_stat_activity), a
// restart when pg_postmaster_start_time() changed; while PostgreSQL is
// away the instances answer 500, and the same processes acknowledge
// deliveries afterwards. In the end every payment is processed exactly
// once (merchant_orders.paid_count), every delivery stream is
// acknowledged, and the store's marks match the orders.
func TestPostgresChaosNotificationStorm(t *testing.T) {
	b := postgresBackend(t)
	restart := os.Getenv(pgRestartEnv)
	if restart == "" {
		t.Skipf("%s is not set: skipping the chaos test, which restarts PostgreSQL (eval \"$(.ci/postgres.sh start)\" sets it)", pgRestartEnv)
	}
	bin := buildNotifyServer(t)
	key, err := filepath.Abs(filepath.Join("testdata", "fake_hipopay_public.pem"))
	require.NoError(t, err)
	servers := make([]*serverProcess, 3)
	for i := range servers {
		servers[i] = newServerProcess(t, bin, fmt.Sprintf("notify-%d", i+1), b.dsn, key)
	}
	for _, s := range servers {
		require.NoError(t, s.start(), "start %s", s.name)
	}
	monitor := b.open(t)
	// The merchant's work takes a while (20 ms in the database, as a busy
	// shop's might), so that the kills and the restart find transactions
	// in the middle of it.
	_, err = monitor.Exec(`CREATE FUNCTION chaos_slow() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(0.02); RETURN NEW; END $$;
CREATE TRIGGER chaos_slow BEFORE INSERT OR UPDATE ON merchant_orders FOR EACH ROW EXECUTE FUNCTION chaos_slow()`)
	require.NoError(t, err)
	drv := newChaosDriver(t, servers)

	ctx, cancel := context.WithTimeout(context.Background(), chaosDeadline)
	defer cancel()
	began := time.Now()
	var streams sync.WaitGroup
	for p := range chaosPayments {
		n := 1 + int(mix(uint64(p), 0, 0)%3)
		for s := range n {
			streams.Add(1)
			go func() {
				defer streams.Done()
				time.Sleep(time.Duration(p)*chaosSpacing + time.Duration(s)*3*time.Millisecond)
				drv.stream(ctx, p, s)
			}()
		}
	}

	// The faults, during the storm: instance 1 killed twice, instance 2
	// once (each tried again, up to 3 times, when the kill missed an open
	// transaction), PostgreSQL restarted once.
	f := &chaosFaults{monitor: monitor, restart: restart, drv: drv}
	faultErrs := make(chan error, 16)
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		for _, fault := range []struct {
			at  time.Duration
			run func() error
		}{
			{2500 * time.Millisecond, func() error { return f.kill(servers[0]) }},
			{6 * time.Second, f.restartPostgres},
			{9 * time.Second, func() error { return f.kill(servers[1]) }},
			{12500 * time.Millisecond, func() error { return f.kill(servers[0]) }},
		} {
			time.Sleep(time.Until(began.Add(fault.at)))
			if err := fault.run(); err != nil {
				faultErrs <- err
			}
		}
	}()
	streams.Wait()
	<-faultsDone
	seconds := time.Since(began).Seconds()
	close(faultErrs)
	for err := range faultErrs {
		t.Error(err)
	}

	// What the database holds.
	db := b.open(t)
	var processed, doubled, halfDone, strangers int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM merchant_orders").Scan(&processed))
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM merchant_orders WHERE paid_count <> 1").Scan(&doubled))
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM hipopay_processed_notifications m
FULL JOIN merchant_orders o ON o.payment_no = m.payment_no
WHERE m.payment_no IS NULL OR o.payment_no IS NULL`).Scan(&halfDone))
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM merchant_orders WHERE NOT (out_trade_id = ANY($1))", chaosOrderIDs()).Scan(&strangers))
	lost := chaosPayments - processed
	out := drv.outage()

	t.Logf("chaos: payments=%d deliveries=%d acked=%d processed=%d killed=%d pg_restarts=%d lost=%d doubled=%d seconds=%.1f",
		chaosPayments, drv.attempts.Load(), drv.acked.Load(), processed, f.killed, f.pgRestarts, lost, doubled, seconds)
	t.Logf("chaos faults: kills=%d mid_transaction=%d; while PostgreSQL was away: answers_5xx=%d connection_errors=%d instances_answering_500=%v recovered=%v",
		f.kills, f.killed, out.answers5xx, out.connErrors, out.failed, out.recovered)

	if lost != 0 || doubled != 0 {
		t.Errorf("lost=%d doubled=%d: every payment must be processed exactly once", lost, doubled)
	}
	if n := drv.unacked.Load(); n != 0 {
		t.Errorf("%d delivery streams never answered success (last error: %v)", n, drv.lastErr())
	}
	if halfDone != 0 {
		t.Errorf("%d payments half done: a mark without its order, or an order without its mark", halfDone)
	}
	if strangers != 0 {
		t.Errorf("%d orders that were never notified", strangers)
	}
	if f.killed < 2 {
		t.Errorf("killed=%d (of %d kills): want at least 2 kills of an instance in the middle of a transaction", f.killed, f.kills)
	}
	if f.pgRestarts < 1 {
		t.Errorf("pg_restarts=%d: PostgreSQL's start time never changed (%s did not restart it?)", f.pgRestarts, pgRestartEnv)
	}
	if len(out.failed) == 0 {
		t.Errorf("no instance answered 500 while PostgreSQL was away (5xx=%d, connection errors=%d)", out.answers5xx, out.connErrors)
	}
	for _, name := range out.failed {
		if !slices.Contains(out.recovered, name) {
			t.Errorf("%s answered 500 while PostgreSQL was away and never acknowledged a delivery afterwards without being restarted", name)
		}
	}
	// The instances recovered on their own: each answers its health check.
	for _, s := range servers {
		if err := s.healthy(); err != nil {
			t.Errorf("%s after the storm: %v", s.name, err)
		}
	}
	if t.Failed() {
		for _, s := range servers {
			t.Logf("%s log (tail):\n%s", s.name, tail(s.logs.String(), 3000))
		}
	}
}

// chaosFaults injects the storm's faults and counts those it verified.
type chaosFaults struct {
	monitor *sql.DB // the test's own pool, to watch PostgreSQL
	restart string  // HIPOPAY_TEST_PG_RESTART
	drv     *chaosDriver

	kills      int // SIGKILLs sent
	killed     int // of which cut a transaction of the killed process
	pgRestarts int // restarts that changed pg_postmaster_start_time()
}

// kill kills s in the middle of a transaction and starts it again; when a
// kill misses (no open transaction within 3 s, or it ended before the
// process did), it tries again, up to 3 kills.
func (f *chaosFaults) kill(s *serverProcess) error {
	for range 3 {
		hit, err := s.killMidTransaction(f.monitor)
		f.kills++
		if err != nil {
			return err
		}
		if hit {
			f.killed++
			return nil
		}
	}
	return nil
}

// restartPostgres runs the restart command and counts a restart when
// PostgreSQL's start time changed. The driver counts the answers from when
// the command starts until a second after it returns.
func (f *chaosFaults) restartPostgres() error {
	before, err := postmasterStart(f.monitor, 10*time.Second)
	if err != nil {
		return fmt.Errorf("before the restart: %w", err)
	}
	f.drv.databaseAway(time.Now())
	cmd := exec.Command("sh", "-c", f.restart)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	f.drv.databaseBack(time.Now())
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", pgRestartEnv, err, out.String())
	}
	after, err := postmasterStart(f.monitor, 30*time.Second)
	if err != nil {
		return fmt.Errorf("after the restart: %w", err)
	}
	if !after.After(before) {
		return fmt.Errorf("%s ran, but PostgreSQL's start time is unchanged (%s): it did not restart", pgRestartEnv, before.Format(time.RFC3339Nano))
	}
	f.pgRestarts++
	return nil
}

// postmasterStart is pg_postmaster_start_time(), asked until PostgreSQL
// answers or wait has passed (after a restart, the pool's connections are
// dead).
func postmasterStart(db *sql.DB, wait time.Duration) (time.Time, error) {
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var at time.Time
		err := db.QueryRowContext(ctx, "SELECT pg_postmaster_start_time()").Scan(&at)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return at, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// chaosOrderIDs are the out_trade_ids of the storm's payments.
func chaosOrderIDs() []string {
	ids := make([]string, chaosPayments)
	for i := range ids {
		ids[i] = notificationFields(i).Get("out_trade_id")
	}
	return ids
}

// mix is a deterministic hash of a payment, a stream and an attempt: which
// instance a delivery goes to, how many streams a payment has.
func mix(payment, stream, attempt uint64) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d/%d", payment, stream, attempt)
	return h.Sum64()
}

// chaosDriver is HipoPay for the storm: it signs every delivery afresh
// with the stand-in key and re-delivers until answered "success". It
// also watches how the instances answer while PostgreSQL restarts.
type chaosDriver struct {
	k        keys
	servers  []*serverProcess
	hc       *http.Client
	attempts atomic.Int64 // POSTs sent
	acked    atomic.Int64 // POSTs answered 200 success
	unacked  atomic.Int64 // streams that gave up
	mu       sync.Mutex
	last     error
	out      outage
}

// outageGrace is how long after the restart command returns answers still
// count as given while the database was away (the pools' connections the
// restart cut fail when next used).
const outageGrace = time.Second

// outage is what the driver saw around PostgreSQL's restart.
type outage struct {
	from, until time.Time // the restart command ran in between
	answers5xx  int       // 5xx answers from the instances in [from, until+outageGrace]
	connErrors  int       // deliveries that got no answer in that window
	failed      []string  // instances that answered 500 in the window
	recovered   []string  // of which answered success afterwards, in the same process
	// failedRun is the process (serverProcess.run) of each instance that
	// answered 500 in the window.
	failedRun map[string]int64
}

func newChaosDriver(t *testing.T, servers []*serverProcess) *chaosDriver {
	hc := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 5 * time.Second},
	}
	t.Cleanup(hc.CloseIdleConnections)
	return &chaosDriver{k: loadKeys(t), servers: servers, hc: hc, out: outage{failedRun: map[string]int64{}}}
}

func (d *chaosDriver) lastErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// databaseAway and databaseBack mark the restart command's start and end.
func (d *chaosDriver) databaseAway(at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.out.from = at
}

func (d *chaosDriver) databaseBack(at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.out.until = at
}

// outage returns what the driver saw around the restart.
func (d *chaosDriver) outage() outage {
	d.mu.Lock()
	defer d.mu.Unlock()
	o := d.out
	o.failed = slices.Clone(o.failed)
	o.recovered = slices.Clone(o.recovered)
	return o
}

// observe records how srv's process number run answered a delivery at
// time at: status 0 for no answer.
func (d *chaosDriver) observe(srv *serverProcess, run int64, at time.Time, status int, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	o := &d.out
	inWindow := !o.from.IsZero() && !at.Before(o.from) && (o.until.IsZero() || !at.After(o.until.Add(outageGrace)))
	switch {
	case inWindow && status == 0:
		o.connErrors++
	case inWindow && status >= 500:
		o.answers5xx++
		if status == http.StatusInternalServerError {
			if _, seen := o.failedRun[srv.name]; !seen {
				o.failed = append(o.failed, srv.name)
			}
			o.failedRun[srv.name] = run
			// Recovery is a success after the last 500.
			o.recovered = slices.DeleteFunc(o.recovered, func(n string) bool { return n == srv.name })
		}
	case ok && !o.until.IsZero() && at.After(o.until):
		if r, seen := o.failedRun[srv.name]; seen && r == run && !slices.Contains(o.recovered, srv.name) {
			o.recovered = append(o.recovered, srv.name)
		}
	}
}

// stream delivers payment p until answered success, waiting between
// attempts as HipoPay's compressed schedule says.
func (d *chaosDriver) stream(ctx context.Context, p, s int) {
	schedule := chaosSchedule()
	for attempt := 0; ; attempt++ {
		err := d.deliver(ctx, p, s, attempt)
		if err == nil {
			return
		}
		d.mu.Lock()
		d.last = err
		d.mu.Unlock()
		if attempt >= len(schedule) {
			d.unacked.Add(1)
			return
		}
		select {
		case <-time.After(schedule[attempt]):
		case <-ctx.Done():
			d.unacked.Add(1)
			return
		}
	}
}

// deliver sends one signed delivery of payment p to the instance the
// (deterministic) load balancer picks, and reports whether it was
// acknowledged.
func (d *chaosDriver) deliver(ctx context.Context, p, s, attempt int) error {
	fields := notificationFields(p)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := d.k.signer.SignString(hipopay.NotificationStringToSign(fields, ts))
	if err != nil {
		return err
	}
	srv := d.servers[mix(uint64(p), uint64(s), uint64(attempt))%uint64(len(d.servers))]
	d.attempts.Add(1)
	run := srv.run.Load()
	r := delivery{payment: p, url: srv.url(), body: fields.Encode(), timestamp: ts, signature: sig}.send(ctx, d.hc)
	ok := r.err == nil && r.status == http.StatusOK && r.body == "success"
	if srv.run.Load() == run { // the same process answered
		d.observe(srv, run, time.Now(), r.status, ok)
	}
	switch {
	case r.err != nil:
		return fmt.Errorf("%s: %w", srv.name, r.err)
	case !ok:
		return fmt.Errorf("%s: %d %q", srv.name, r.status, r.body)
	}
	d.acked.Add(1)
	return nil
}
