package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
)

// The chaos test's notify-server processes: built, started, killed with
// SIGKILL and started again.

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
// that it keeps its address across restarts. Each start connects to
// PostgreSQL with an application_name of its own (see appName), so that
// pg_stat_activity tells which process holds which transaction.
type serverProcess struct {
	t    *testing.T
	name string
	bin  string
	dsn  string
	key  string
	port int
	logs lockedBuffer
	// run counts the starts: 1 for the first process, 2 after the first
	// kill, and so on.
	run atomic.Int64

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
	s := &serverProcess{t: t, name: name, bin: bin, dsn: dsn, key: key, port: port}
	t.Cleanup(s.stop)
	return s
}

// appName is the application_name of start number run of the instance,
// e.g. notify-1.run2.
func (s *serverProcess) appName(run int64) string {
	return fmt.Sprintf("%s.run%d", s.name, run)
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
	dsn, err := withApplicationName(s.dsn, s.appName(s.run.Add(1)))
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "-addr", "127.0.0.1:"+strconv.Itoa(s.port), "-db", dsn, "-hipopay-key", s.key)
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

// openTx is a transaction pg_stat_activity shows: its backend's pid and
// when it began.
type openTx struct {
	pid   int
	start time.Time
}

// openTransactions lists the transactions of application app that are
// running a statement (state 'active': the client waits for its answer,
// so it cannot have sent COMMIT yet).
func openTransactions(monitor *sql.DB, app string) ([]openTx, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rows, err := monitor.QueryContext(ctx, `SELECT pid, xact_start FROM pg_stat_activity
WHERE datname = current_database() AND application_name = $1 AND xact_start IS NOT NULL AND state = 'active'`, app)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var open []openTx
	for rows.Next() {
		var tx openTx
		if err := rows.Scan(&tx.pid, &tx.start); err != nil {
			return nil, err
		}
		open = append(open, tx)
	}
	return open, rows.Err()
}

// stillOpen counts the transactions of open that are still running the
// statement they ran before (same backend, same xact_start, active, not a
// COMMIT).
func stillOpen(monitor *sql.DB, open []openTx) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n := 0
	for _, tx := range open {
		var alive bool
		if err := monitor.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
WHERE pid = $1 AND xact_start = $2 AND state = 'active' AND query NOT ILIKE 'commit%')`, tx.pid, tx.start).Scan(&alive); err != nil {
			return n, err
		}
		if alive {
			n++
		}
	}
	return n, nil
}

// killMidTransaction kills the process with SIGKILL, as a crash or the OOM
// killer would, once it is in the middle of a transaction: it waits (up to
// 3 s) until pg_stat_activity shows a transaction of the process running a
// statement, kills it, and once the process is gone checks that the
// transaction is still there, running that statement. A transaction that
// outlived its client can never commit: the kill cut it, and hit says so.
// The process is started again half a second later.
func (s *serverProcess) killMidTransaction(monitor *sql.DB) (hit bool, err error) {
	app := s.appName(s.run.Load())
	var open []openTx
	for wait := time.Now().Add(3 * time.Second); time.Now().Before(wait); time.Sleep(2 * time.Millisecond) {
		if open, _ = openTransactions(monitor, app); len(open) > 0 {
			break // errors: the monitor's connection may be one PostgreSQL's restart cut
		}
	}
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return false, fmt.Errorf("kill %s: %w", s.name, err)
	}
	exitErr := <-exited
	exited <- exitErr
	var alive int
	var checkErr error
	if len(open) > 0 {
		alive, checkErr = stillOpen(monitor, open)
	}
	time.Sleep(500 * time.Millisecond)
	if err := s.start(); err != nil {
		return false, err
	}
	if checkErr != nil {
		return false, fmt.Errorf("%s: after the kill, pg_stat_activity: %w", app, checkErr)
	}
	return alive > 0, nil
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

// withApplicationName sets application_name in a PostgreSQL DSN (URL or
// key=value form).
func withApplicationName(dsn, app string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", errors.New("the PostgreSQL DSN does not parse as a URL")
		}
		q := u.Query()
		q.Set("application_name", app)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " application_name=" + app, nil
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
