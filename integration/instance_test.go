package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hipopay-go/hipopay/sqlstore"
)

// Environment of a helper instance: the test binary re-executed with
// -test.run=^TestHelperInstance$ serves the notification handler on a
// loopback port until its standard input closes.
const (
	helperEnv         = "HIPOPAY_IT_HELPER" // "1" in a helper process
	helperDSNEnv      = "HIPOPAY_IT_HELPER_DSN"
	helperDialectEnv  = "HIPOPAY_IT_HELPER_DIALECT"
	helperNameEnv     = "HIPOPAY_IT_HELPER_NAME"
	helperFnDelayEnv  = "HIPOPAY_IT_HELPER_FN_DELAY"
	helperPortPrefix  = "HIPOPAY_HELPER_PORT="
	helperStartupTime = 60 * time.Second
)

// TestHelperInstance is not a test: it is one instance of the merchant's
// server, run in a process of its own by startProcessInstances. Run
// directly, it does nothing and passes.
func TestHelperInstance(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	name := os.Getenv(helperNameEnv)
	dialect := sqlstore.Postgres
	driver := "pgx"
	if os.Getenv(helperDialectEnv) == "sqlite" {
		dialect, driver = sqlstore.SQLite, "sqlite"
	}
	var delay time.Duration
	if v := os.Getenv(helperFnDelayEnv); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err)
		delay = d
	}

	db, err := openDB(driver, os.Getenv(helperDSNEnv))
	require.NoError(t, err)
	defer db.Close()
	store, err := sqlstore.New(db, dialect)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Every instance creates the table as it starts, all at once: the
	// store's CreateTable must take that.
	require.NoError(t, store.CreateTable(ctx))

	k := loadKeys(t)
	var after func(string) error
	if delay > 0 {
		// Hold the payment's lock a little, so that duplicates on the
		// other instances really do wait for it.
		after = func(string) error { time.Sleep(delay); return nil }
	}
	srv := &http.Server{
		Handler:           newNotifyHandler(k.pub, store, markOrderPaid(dialect, name, after)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("%s%d\n", helperPortPrefix, ln.Addr().(*net.TCPAddr).Port)

	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancelShutdown()
	require.NoError(t, srv.Shutdown(shutdownCtx))
	require.ErrorIs(t, <-served, http.ErrServerClosed)
}

// startProcessInstances starts n instances of the merchant's server, each a
// separate process with its own connection pool to b, all at once, and
// returns their notify URLs. They stop when the test ends; a helper that
// failed fails the test.
func startProcessInstances(t *testing.T, b *backend, n int, fnDelay time.Duration) []string {
	t.Helper()
	type started struct {
		url string
		err error
	}
	results := make([]chan started, n)
	for i := range n {
		results[i] = make(chan started, 1)
		name := fmt.Sprintf("instance-%d", i+1)
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperInstance$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(),
			helperEnv+"=1",
			helperDSNEnv+"="+b.dsn,
			helperDialectEnv+"="+b.dialect.String(),
			helperNameEnv+"="+name,
			helperFnDelayEnv+"="+fnDelay.String(),
		)
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		out := &portWatcher{port: make(chan int, 1)}
		var stderr lockedBuffer
		cmd.Stdout = out
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start(), "start %s", name)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()

		t.Cleanup(func() {
			_ = stdin.Close() // the helper shuts down gracefully
			var err error
			select {
			case err = <-exited:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill() // only the process this test started
				err = fmt.Errorf("did not stop within 20 s: %w", <-exited)
			}
			if err != nil {
				t.Errorf("%s (pid %d): %v\nstdout:\n%s\nstderr:\n%s", name, cmd.Process.Pid, err, out.String(), stderr.String())
			}
		})

		go func() {
			select {
			case port := <-out.port:
				results[i] <- started{url: "http://127.0.0.1:" + strconv.Itoa(port) + "/hipopay/notify"}
			case err := <-exited:
				exited <- err // for the cleanup
				results[i] <- started{err: fmt.Errorf("%s exited before serving: %v\nstdout:\n%s\nstderr:\n%s", name, err, out.String(), stderr.String())}
			case <-time.After(helperStartupTime):
				results[i] <- started{err: fmt.Errorf("%s did not print its port within %v\nstdout:\n%s\nstderr:\n%s", name, helperStartupTime, out.String(), stderr.String())}
			}
		}()
	}
	urls := make([]string, n)
	for i := range n {
		s := <-results[i]
		require.NoError(t, s.err)
		urls[i] = s.url
	}
	return urls
}

// portWatcher is a helper's stdout: it keeps everything and reports the
// port line once.
type portWatcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	port chan int
	seen bool
}

func (w *portWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.seen {
		for _, line := range strings.Split(w.buf.String(), "\n") {
			if v, ok := strings.CutPrefix(line, helperPortPrefix); ok {
				if port, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					w.seen = true
					w.port <- port
					break
				}
			}
		}
	}
	return len(p), nil
}

func (w *portWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// startInProcessInstances starts n handlers in this process, each with its
// own connection pool and store on b, and returns their URLs.
func startInProcessInstances(t *testing.T, b *backend, n int, after func(paymentNo string) error) []string {
	t.Helper()
	k := loadKeys(t)
	urls := make([]string, n)
	for i := range n {
		db := b.open(t)
		store := newStore(t, b, db)
		srv := httptest.NewServer(newNotifyHandler(k.pub, store, markOrderPaid(b.dialect, fmt.Sprintf("instance-%d", i+1), after)))
		t.Cleanup(srv.Close)
		urls[i] = srv.URL + "/hipopay/notify"
	}
	return urls
}
