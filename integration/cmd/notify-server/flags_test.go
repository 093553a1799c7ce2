package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The server's flags: which database -db names, and what it refuses
// before touching any database.

const secret = "s3cr3t-pw"

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runOnce runs the server with args in a fresh working folder; if it
// starts, it is stopped at once. It returns the log, whether it started,
// the files left in the working folder, and run's error.
func runOnce(t *testing.T, args ...string) (logs string, started bool, files []string, err error) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	err = run(ctx, append([]string{"-addr", "127.0.0.1:0", "-hipopay-key", testdata("fake_hipopay_public.pem")}, args...), noEnv, logger, func(string) {
		started = true
		cancel()
	})
	entries, rerr := os.ReadDir(dir)
	require.NoError(t, rerr)
	for _, e := range entries {
		files = append(files, e.Name())
	}
	return buf.String(), started, files, err
}

// TestNotifyServerKeywordDSNIsPostgres: libpq's keyword form is
// PostgreSQL, never a SQLite file named after the string (password and
// all). Here the server is unreachable: the start fails, saying nothing of
// the password, and no file appears.
func TestNotifyServerKeywordDSNIsPostgres(t *testing.T) {
	for _, dsn := range []string{
		"host=127.0.0.1 port=1 user=shop password=" + secret + " dbname=shop connect_timeout=2",
		"  user=shop password='" + secret + "' host=127.0.0.1 port=1 dbname=shop.db connect_timeout=2",
		"postgresql://shop:" + secret + "@127.0.0.1:1/shop?connect_timeout=2",
	} {
		logs, started, files, err := runOnce(t, "-db", dsn)
		require.Error(t, err, "%s", dsn)
		assert.False(t, started)
		assert.Empty(t, files, "a file was created for %s", dsn)
		assert.NotContains(t, err.Error(), secret)
		assert.NotContains(t, logs, secret)
		assert.Contains(t, logs, "db=postgres", "the log says which database")
		assert.Contains(t, logs, "host=127.0.0.1")
		assert.Contains(t, logs, "user=shop")
	}
}

// TestNotifyServerRefusesUnknownDSN: anything that is neither kind is
// refused before any file or connection is made, without echoing it.
func TestNotifyServerRefusesUnknownDSN(t *testing.T) {
	for _, dsn := range []string{
		"mysql://shop:" + secret + "@db/shop",
		secret,
		"notifications",
		"foo=bar password=" + secret,
		"shop:" + secret + "@db:5432/shop",
		"notifications.db?_pragma=key(" + secret + ")",
		"postgres://shop:" + secret + "@db:notaport/shop",
		"host=db port=notaport password=" + secret,
		"sqlite:",
		"",
	} {
		logs, started, files, err := runOnce(t, "-db", dsn)
		require.Error(t, err, "%q", dsn)
		assert.False(t, started)
		assert.Empty(t, files, "%q", dsn)
		assert.NotContains(t, err.Error(), secret)
		assert.NotContains(t, logs, secret)
		assert.Contains(t, err.Error(), "-db")
	}
}

// TestNotifyServerSQLiteForms: sqlite:, file: and paths are SQLite files,
// where they say.
func TestNotifyServerSQLiteForms(t *testing.T) {
	abs := t.TempDir()
	for _, tc := range []struct{ dsn, file string }{
		{"sqlite:" + filepath.Join(abs, "a.db"), filepath.Join(abs, "a.db")},
		{"sqlite:rel.db", "rel.db"},
		{"file:" + filepath.Join(abs, "b.db"), filepath.Join(abs, "b.db")},
		{filepath.Join(abs, "c.db"), filepath.Join(abs, "c.db")},
		{filepath.Join(abs, "d"), filepath.Join(abs, "d")},
		{"e.sqlite3", "e.sqlite3"},
		{"f.SQLITE", "f.SQLITE"},
	} {
		logs, started, _, err := runOnce(t, "-db", tc.dsn)
		require.NoError(t, err, tc.dsn)
		require.True(t, started, tc.dsn)
		assert.FileExists(t, tc.file, tc.dsn)
		assert.Contains(t, logs, "db=sqlite", tc.dsn)
	}
}

// TestNotifyServerRefusesBadPath: an invalid -path is an error at start,
// never a panic, and nothing is touched.
func TestNotifyServerRefusesBadPath(t *testing.T) {
	for _, p := range []string{"", "/{bad", "POST /x", "GET /hipopay/notify", "hipopay/notify", "/a b", "/x/{id}", "/a//b", "/a/../b", "/healthz", "example.com/notify", "/%zz", "/hipopay/%4", "/a%"} {
		var err error
		var started bool
		var files []string
		require.NotPanics(t, func() {
			_, started, files, err = runOnce(t, "-path", p, "-db", "n.db")
		}, "%q", p)
		assert.Error(t, err, "%q", p)
		assert.Contains(t, fmt.Sprint(err), "-path", "%q", p)
		assert.False(t, started, "%q", p)
		assert.Empty(t, files, "%q: the database was touched", p)
	}
	for _, p := range []string{"/", "/hipopay/notify", "/hipopay/notify/", "/v1/hipopay-notify", "/hipopay%2Dnotify"} {
		_, started, _, err := runOnce(t, "-path", p, "-db", "n.db")
		require.NoError(t, err, "%q", p)
		assert.True(t, started, "%q", p)
	}
}

// TestNotifyServerEscapedPathServes: a -path with valid %-escapes is
// accepted and reached by requests for it, as the notify_url would spell
// it (a bad escape, such as /%zz, is refused above: net/http answers 400
// to any request for it).
func TestNotifyServerEscapedPathServes(t *testing.T) {
	t.Chdir(t.TempDir())
	for i, p := range []string{"/hipopay%2Dnotify", "/pay%25notify"} {
		base := strings.TrimSuffix(startServer(t, "-path", p, "-db", fmt.Sprintf("esc%d.db", i)), "/hipopay/notify")
		status, body := deliver(t, base+p, fmt.Sprintf("ESC-%d", i), 0)
		assert.Equal(t, 200, status, "%q", p)
		assert.Equal(t, "success", body, "%q", p)
	}
}

// TestNotifyServerRefusesMerchantTable: -table naming the server's own
// table of orders is refused at start (it would make every delivery
// answer 500), however it is spelt, before the database is touched.
func TestNotifyServerRefusesMerchantTable(t *testing.T) {
	for _, table := range []string{"merchant_orders", "MERCHANT_ORDERS", "main.merchant_orders", "public.Merchant_Orders"} {
		_, started, files, err := runOnce(t, "-table", table, "-db", "n.db")
		require.Error(t, err, table)
		assert.Contains(t, err.Error(), "merchant_orders")
		assert.False(t, started)
		assert.Empty(t, files, "%s: the database was touched", table)
	}
}

// TestNotifyServerPostgresKeywordDSN: with libpq's keyword form, several
// instances share one PostgreSQL database.
func TestNotifyServerPostgresKeywordDSN(t *testing.T) {
	base := os.Getenv("HIPOPAY_TEST_POSTGRES_DSN")
	if base == "" {
		t.Skip("HIPOPAY_TEST_POSTGRES_DSN is not set: skipping the PostgreSQL test (eval \"$(.ci/postgres.sh start)\" starts a throwaway server and sets it)")
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer admin.Close()
	schema := fmt.Sprintf("notify_server_kw_%d", time.Now().UnixNano())
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err)
	defer func() { _, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE") }()
	u, err := url.Parse(base)
	require.NoError(t, err)
	pw, _ := u.User.Password()
	keyword := fmt.Sprintf("host=%s port=%s user=%s password='%s' dbname=%s sslmode=disable search_path=%s",
		u.Hostname(), u.Port(), u.User.Username(), pw, strings.TrimPrefix(u.Path, "/"), schema)

	dir := t.TempDir()
	t.Chdir(dir)
	urls := []string{startServer(t, "-db", keyword), startServer(t, "-db", keyword)}
	for i := range 6 {
		status, body := deliver(t, urls[i%2], fmt.Sprintf("KW-%d", i%3), i)
		require.Equal(t, 200, status)
		require.Equal(t, "success", body)
	}
	var orders int
	require.NoError(t, admin.QueryRow("SELECT COUNT(*) FROM "+schema+".merchant_orders").Scan(&orders))
	assert.Equal(t, 3, orders, "both instances wrote to PostgreSQL")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "no SQLite file in the working folder")
}

// TestNotifyServerBinaryRefusesBadFlags builds the command and starts it
// with bad flags: it exits 1 with an error, never a panic, and never
// prints the password of a -db it refuses or cannot reach.
func TestNotifyServerBinaryRefusesBadFlags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "notify-server")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	key := testdata("fake_hipopay_public.pem")
	for _, args := range [][]string{
		{"-path", "/{bad"},
		{"-path", ""},
		{"-path", "POST /x"},
		{"-path", "/%zz"},
		{"-table", "merchant_orders"},
		{"-db", "mysql://shop:" + secret + "@db/shop"},
		{"-db", "host=127.0.0.1 port=1 user=shop password=" + secret + " dbname=shop connect_timeout=2"},
	} {
		dir := t.TempDir()
		cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-hipopay-key", key}, args...)...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Stdout = &stderr
		done := make(chan error, 1)
		require.NoError(t, cmd.Start())
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill() // the process this test started
			t.Fatalf("%q: still running after 30 s", args)
		}
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "%q: %v", args, err)
		assert.Equal(t, 1, exit.ExitCode(), "%q: %s", args, stderr.String())
		assert.NotContains(t, stderr.String(), "panic", "%q", args)
		assert.NotContains(t, stderr.String(), "goroutine", "%q", args)
		assert.NotContains(t, stderr.String(), secret, "%q", args)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, entries, "%q: files created", args)
	}
}
