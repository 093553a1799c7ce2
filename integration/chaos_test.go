package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
// SIGKILL (and starts them again) and restarts PostgreSQL. In the end every
// payment is processed exactly once (merchant_orders.paid_count), every
// delivery stream is acknowledged, and the store's marks match the orders.
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
		servers[i] = newServerProcess(t, bin, fmt.Sprintf("instance-%d", i+1), b.dsn, key)
	}
	for _, s := range servers {
		require.NoError(t, s.start(), "start %s", s.name)
	}
	// The merchant's work takes a while (20 ms in the database, as a busy
	// shop's might), so that the kills and the restart find transactions
	// in the middle of it.
	_, err = b.open(t).Exec(`CREATE FUNCTION chaos_slow() RETURNS trigger LANGUAGE plpgsql AS
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
	// once, PostgreSQL restarted once.
	var killed, pgRestarts int
	faultErrs := make(chan error, 8)
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		for _, f := range []struct {
			at  time.Duration
			run func() error
		}{
			{2500 * time.Millisecond, func() error { killed++; return servers[0].killAndRestart() }},
			{6 * time.Second, func() error { pgRestarts++; return restartPostgres(restart) }},
			{9 * time.Second, func() error { killed++; return servers[1].killAndRestart() }},
			{12500 * time.Millisecond, func() error { killed++; return servers[0].killAndRestart() }},
		} {
			time.Sleep(time.Until(began.Add(f.at)))
			if err := f.run(); err != nil {
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

	t.Logf("chaos: payments=%d deliveries=%d acked=%d processed=%d killed=%d pg_restarts=%d lost=%d doubled=%d seconds=%.1f",
		chaosPayments, drv.attempts.Load(), drv.acked.Load(), processed, killed, pgRestarts, lost, doubled, seconds)

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
	if killed < 2 || pgRestarts < 1 {
		t.Errorf("faults: killed=%d pg_restarts=%d, want at least 2 and 1", killed, pgRestarts)
	}
	if drv.cut.Load() == 0 {
		t.Errorf("no kill cut a delivery in flight: the storm did not exercise a crash mid-processing")
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
// with the stand-in key and re-delivers until answered "success".
type chaosDriver struct {
	k        keys
	servers  []*serverProcess
	hc       *http.Client
	attempts atomic.Int64 // POSTs sent
	acked    atomic.Int64 // POSTs answered 200 success
	unacked  atomic.Int64 // streams that gave up
	cut      atomic.Int64 // POSTs cut by a kill (not refused)
	mu       sync.Mutex
	last     error
}

func newChaosDriver(t *testing.T, servers []*serverProcess) *chaosDriver {
	hc := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 5 * time.Second},
	}
	t.Cleanup(hc.CloseIdleConnections)
	return &chaosDriver{k: loadKeys(t), servers: servers, hc: hc}
}

func (d *chaosDriver) lastErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
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
	srv.inFlight.Add(1)
	r := delivery{payment: p, url: srv.url(), body: fields.Encode(), timestamp: ts, signature: sig}.send(ctx, d.hc)
	srv.inFlight.Add(-1)
	switch {
	case r.err != nil:
		if msg := r.err.Error(); strings.Contains(msg, "EOF") || strings.Contains(msg, "reset by peer") {
			d.cut.Add(1) // the process died while answering
		}
		return fmt.Errorf("%s: %w", srv.name, r.err)
	case r.status != http.StatusOK || r.body != "success":
		return fmt.Errorf("%s: %d %q", srv.name, r.status, r.body)
	}
	d.acked.Add(1)
	return nil
}

// restartPostgres runs the restart command.
func restartPostgres(command string) error {
	cmd := exec.Command("sh", "-c", command)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", pgRestartEnv, err, out.String())
	}
	return nil
}

// buildNotifyServer builds integration/cmd/notify-server into the test's
// temporary folder.
func buildNotifyServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "notify-server")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/notify-server").CombinedOutput()
	require.NoError(t, err, "go build ./cmd/notify-server: %s", out)
	return bin
}

// serverProcess is one notify-server process on a fixed loopback port, so
// that it keeps its address across restarts.
type serverProcess struct {
	t    *testing.T
	name string
	args []string
	port int
	logs lockedBuffer
	// inFlight counts the driver's deliveries being answered by the
	// process, so that a kill finds some.
	inFlight atomic.Int64

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error // receives the process's end
}

func newServerProcess(t *testing.T, bin, name, dsn, key string) *serverProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	s := &serverProcess{
		t:    t,
		name: name,
		port: port,
		args: []string{bin, "-addr", "127.0.0.1:" + strconv.Itoa(port), "-db", dsn, "-hipopay-key", key},
	}
	t.Cleanup(s.stop)
	return s
}

func (s *serverProcess) url() string {
	return "http://127.0.0.1:" + strconv.Itoa(s.port) + "/hipopay/notify"
}

// start starts the process and waits until it listens. It tries again
// while the process exits at start (the database restarting, say).
func (s *serverProcess) start() error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.startOnce()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w\n%s", s.name, err, tail(s.logs.String(), 2000))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (s *serverProcess) startOnce() error {
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.Stdout = &s.logs
	cmd.Stderr = &s.logs
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	for {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("exited at start: %v", err)
		case <-time.After(25 * time.Millisecond):
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
	}
}

// killAndRestart kills the process with SIGKILL, as a crash or the OOM
// killer would, while deliveries are in flight (waiting up to 2 s for
// some), and starts it again half a second later.
func (s *serverProcess) killAndRestart() error {
	for wait := time.Now().Add(2 * time.Second); s.inFlight.Load() < 2 && time.Now().Before(wait); {
		time.Sleep(time.Millisecond)
	}
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s: %w", s.name, err)
	}
	<-exited
	time.Sleep(500 * time.Millisecond)
	return s.start()
}

// healthy asks the process's health check, which pings the database.
func (s *serverProcess) healthy() error {
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(s.port) + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: %d %s", resp.StatusCode, body)
	}
	return nil
}

// stop ends the process gracefully (SIGTERM), or kills it after 40 s.
func (s *serverProcess) stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case err := <-exited:
		exited <- err
		return // already gone
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			s.t.Errorf("%s: %v", s.name, err)
		} else if err != nil {
			s.t.Errorf("%s stopped with %v:\n%s", s.name, err, tail(s.logs.String(), 2000))
		}
	case <-time.After(40 * time.Second):
		_ = cmd.Process.Kill() // the process this test started
		s.t.Errorf("%s did not stop within 40 s", s.name)
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
