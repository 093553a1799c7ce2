package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The store against a scripted database/sql driver: the order of
// statements, rollback on error and panic, and a failing commit. The real
// databases (PostgreSQL, SQLite) are exercised in the integration module,
// the only place a driver may be imported.

// fakeSQL is a scripted database: it logs every statement and transaction
// step, answers the mark check with marked, and fails where told.
type fakeSQL struct {
	mu         sync.Mutex
	log        []string
	marked     map[string]bool // committed marks
	connectErr error
	commitErr  error
	execErr    map[string]error // by a part of the statement
	schema     string           // what current_schema() answers
	persist    string           // what relpersistence answers ("p" unless set)
}

func (f *fakeSQL) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, s)
}

func (f *fakeSQL) steps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakeSQL) Connect(context.Context) (driver.Conn, error) {
	if f.connectErr != nil {
		return nil, f.connectErr
	}
	return &fakeConn{f: f}, nil
}

func (f *fakeSQL) Driver() driver.Driver { return fakeDriver{} }

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("fakeDriver: use the connector")
}

type fakeConn struct {
	f       *fakeSQL
	pending []string // marks inserted in the open transaction
}

func (c *fakeConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("fake: no prepare") }
func (c *fakeConn) Close() error                        { return nil }
func (c *fakeConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *fakeConn) BeginTx(_ context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.f.record("BEGIN " + sql.IsolationLevel(opts.Isolation).String())
	c.pending = nil
	return c, nil
}

func (c *fakeConn) Commit() error {
	c.f.record("COMMIT")
	if c.f.commitErr != nil {
		return c.f.commitErr
	}
	c.f.mu.Lock()
	for _, p := range c.pending {
		c.f.marked[p] = true
	}
	c.f.mu.Unlock()
	return nil
}

func (c *fakeConn) Rollback() error {
	c.f.record("ROLLBACK")
	c.pending = nil
	return nil
}

func (c *fakeConn) ExecContext(_ context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.f.record(query)
	for part, err := range c.f.execErr {
		if strings.Contains(query, part) {
			return nil, err
		}
	}
	if strings.Contains(query, "INSERT INTO") {
		p := args[len(args)-1].Value.(string) // the mark is the last argument
		c.f.mu.Lock()
		dup := c.f.marked[p]
		c.f.mu.Unlock()
		if dup {
			return driver.RowsAffected(0), nil
		}
		c.pending = append(c.pending, p)
		return driver.RowsAffected(1), nil
	}
	return driver.RowsAffected(0), nil
}

func (c *fakeConn) QueryContext(_ context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.f.record(query)
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	switch {
	case query == "SELECT current_schema()":
		return &fakeRows{left: true, value: c.f.schema}, nil
	case strings.HasPrefix(query, "SELECT relpersistence"):
		p := c.f.persist
		if p == "" {
			p = "p"
		}
		return &fakeRows{left: true, value: p}, nil
	}
	return &fakeRows{left: c.f.marked[args[0].Value.(string)], value: int64(1)}, nil
}

type fakeRows struct {
	left  bool
	value driver.Value
}

func (r *fakeRows) Columns() []string { return []string{"one"} }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if !r.left {
		return io.EOF
	}
	r.left = false
	dest[0] = r.value
	return nil
}

func newFakeStore(t *testing.T, opts ...Option) (*Store, *fakeSQL) {
	t.Helper()
	f := &fakeSQL{marked: map[string]bool{}, execErr: map[string]error{}, schema: "public"}
	db := sql.OpenDB(f)
	t.Cleanup(func() { db.Close() })
	s, err := New(db, opts...)
	require.NoError(t, err)
	return s, f
}

func TestNewRefusesBadInput(t *testing.T) {
	_, err := New(nil)
	assert.ErrorContains(t, err, "nil *sql.DB")

	db := sql.OpenDB(&fakeSQL{})
	defer db.Close()
	_, err = New(db, Dialect(7))
	assert.ErrorContains(t, err, "unknown dialect")

	s, err := New(db)
	require.NoError(t, err)
	assert.Equal(t, Postgres, s.Dialect())
	assert.Equal(t, DefaultTable, s.Table())
}

func TestWithTableValidatesTheName(t *testing.T) {
	db := sql.OpenDB(&fakeSQL{})
	defer db.Close()
	for _, name := range []string{"a", "_x1", "hipopay_marks", "Payments.Marks", strings.Repeat("a", 63) + "." + strings.Repeat("b", 63)} {
		s, err := New(db, WithTable(name))
		if assert.NoError(t, err, name) {
			assert.Equal(t, name, s.Table())
		}
	}
	for _, name := range []string{
		"", "1a", "a.1b", "a-b", "a b", "a;DROP TABLE x", `"a"`, "a.b.c", ".a", "a.", "a..b",
		"tbl--", "é", strings.Repeat("a", 64),
	} {
		_, err := New(db, WithTable(name))
		assert.ErrorContains(t, err, "WithTable", "%q", name)
	}
}

func TestStoreSchema(t *testing.T) {
	db := sql.OpenDB(&fakeSQL{})
	defer db.Close()
	pg, err := New(db, WithTable("marks"))
	require.NoError(t, err)
	assert.Equal(t, "CREATE TABLE IF NOT EXISTS marks (\n"+
		"    payment_no   TEXT PRIMARY KEY,\n"+
		"    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()\n"+
		")", pg.Schema())
	lite, err := New(db, SQLite)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(lite.Schema(), "CREATE TABLE IF NOT EXISTS hipopay_processed_notifications (\n"), lite.Schema())
	assert.Contains(t, lite.Schema(), "DEFAULT CURRENT_TIMESTAMP")
	assert.Equal(t, "postgres", Postgres.String())
	assert.Equal(t, "sqlite", SQLite.String())
}

func TestStorePostgresStatements(t *testing.T) {
	s, f := newFakeStore(t, WithTable("marks"))
	ctx := context.Background()

	var sawTx bool
	ran, err := s.Process(ctx, "P1", func(ctx context.Context) error {
		_, sawTx = TxFromContext(ctx)
		return nil
	})
	require.NoError(t, err)
	assert.True(t, ran)
	assert.True(t, sawTx, "fn's context carries the transaction")
	// The mark is written first: the primary key, not the lock, makes
	// processing exactly-once.
	assert.Equal(t, []string{
		"BEGIN Read Committed",
		"WITH lock AS (SELECT pg_advisory_xact_lock($1)) INSERT INTO marks (payment_no, processed_at) SELECT $2, now() FROM lock ON CONFLICT (payment_no) DO NOTHING",
		"COMMIT",
	}, f.steps())

	f.log = nil
	ran, err = s.Process(ctx, "P1", func(context.Context) error { t.Error("fn called twice"); return nil })
	require.NoError(t, err)
	assert.False(t, ran)
	assert.Equal(t, []string{
		"BEGIN Read Committed",
		"WITH lock AS (SELECT pg_advisory_xact_lock($1)) INSERT INTO marks (payment_no, processed_at) SELECT $2, now() FROM lock ON CONFLICT (payment_no) DO NOTHING",
		"ROLLBACK",
	}, f.steps())

	processed, err := s.Processed(ctx, "P1")
	require.NoError(t, err)
	assert.True(t, processed)
	processed, err = s.Processed(ctx, "P2")
	require.NoError(t, err)
	assert.False(t, processed)
}

func TestStoreSQLiteStatements(t *testing.T) {
	s, f := newFakeStore(t, SQLite)
	ctx := context.Background()
	ran, err := s.Process(ctx, "P1", func(context.Context) error { return nil })
	require.NoError(t, err)
	assert.True(t, ran)
	assert.Equal(t, []string{
		"BEGIN Default",
		"INSERT INTO hipopay_processed_notifications (payment_no, processed_at) VALUES (?, CURRENT_TIMESTAMP) ON CONFLICT (payment_no) DO NOTHING",
		"COMMIT",
	}, f.steps())

	f.log = nil
	ran, err = s.Process(ctx, "P1", func(context.Context) error { t.Error("fn called twice"); return nil })
	require.NoError(t, err)
	assert.False(t, ran)
	assert.Equal(t, "ROLLBACK", f.steps()[len(f.steps())-1])
}

func TestStoreFailingFnRollsBack(t *testing.T) {
	for _, d := range []Dialect{Postgres, SQLite} {
		t.Run(d.String(), func(t *testing.T) {
			s, f := newFakeStore(t, d)
			boom := errors.New("order service down")
			ran, err := s.Process(context.Background(), "P1", func(context.Context) error { return boom })
			assert.True(t, ran)
			assert.Same(t, boom, err, "fn's error is passed on as is")
			steps := f.steps()
			assert.Equal(t, "ROLLBACK", steps[len(steps)-1])
			assert.NotContains(t, steps, "COMMIT")

			ran, err = s.Process(context.Background(), "P1", func(context.Context) error { return nil })
			require.NoError(t, err)
			assert.True(t, ran, "a later delivery processes it")
		})
	}
}

func TestStorePanickingFnRollsBackAndPanicGoesOn(t *testing.T) {
	for _, d := range []Dialect{Postgres, SQLite} {
		t.Run(d.String(), func(t *testing.T) {
			s, f := newFakeStore(t, d)
			func() {
				defer func() { assert.Equal(t, "fn blew up", recover()) }()
				_, _ = s.Process(context.Background(), "P1", func(context.Context) error { panic("fn blew up") })
			}()
			steps := f.steps()
			assert.Equal(t, "ROLLBACK", steps[len(steps)-1])

			// The locks were released: the next call does not hang.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ran, err := s.Process(ctx, "P1", func(context.Context) error { return nil })
			require.NoError(t, err)
			assert.True(t, ran)
		})
	}
}

func TestStoreCommitFailureRecordsNothing(t *testing.T) {
	s, f := newFakeStore(t)
	commitErr := errors.New("connection reset")
	f.commitErr = commitErr
	ran, err := s.Process(context.Background(), "P1", func(context.Context) error { return nil })
	assert.True(t, ran)
	assert.ErrorIs(t, err, commitErr)
	assert.ErrorContains(t, err, "commit")
	assert.False(t, f.marked["P1"])
}

func TestStoreDatabaseFailures(t *testing.T) {
	down := errors.New("connection refused")
	s, f := newFakeStore(t)
	f.connectErr = down
	called := false
	ran, err := s.Process(context.Background(), "P1", func(context.Context) error { called = true; return nil })
	assert.False(t, ran)
	assert.False(t, called)
	assert.ErrorIs(t, err, down)
	_, err = s.Processed(context.Background(), "P1")
	assert.ErrorIs(t, err, down)
	assert.ErrorIs(t, s.CreateTable(context.Background()), down)

	s, f = newFakeStore(t)
	lockErr := errors.New("lock timeout")
	f.execErr["pg_advisory_xact_lock"] = lockErr
	ran, err = s.Process(context.Background(), "P1", func(context.Context) error { called = true; return nil })
	assert.False(t, ran)
	assert.False(t, called)
	assert.ErrorIs(t, err, lockErr)
	assert.Equal(t, "ROLLBACK", f.steps()[len(f.steps())-1])

	// The mark is written before fn: failing to write it, fn is not
	// called.
	for _, d := range []Dialect{Postgres, SQLite} {
		s, f = newFakeStore(t, d)
		markErr := errors.New("permission denied")
		f.execErr["INSERT INTO"] = markErr
		called = false
		ran, err = s.Process(context.Background(), "P1", func(context.Context) error { called = true; return nil })
		assert.False(t, ran, d)
		assert.False(t, called, d)
		assert.ErrorIs(t, err, markErr, d)
		assert.NotContains(t, f.steps(), "COMMIT", d)
	}
}

func TestStoreKeysWithZeroBytes(t *testing.T) {
	// The handler's key of a non-PAID notification has a zero byte, which
	// PostgreSQL's text cannot hold: it is written %00 ('%' as %25), and
	// a payment number is written as it is.
	assert.Equal(t, "2023111418154204114199308", markKey("2023111418154204114199308"))
	assert.Equal(t, "P1%00CLOSED", markKey("P1\x00CLOSED"))
	assert.Equal(t, "a%2500b%00", markKey("a%00b\x00"))
	assert.NotEqual(t, markKey("P1%00CLOSED"), markKey("P1\x00CLOSED"))

	for _, d := range []Dialect{Postgres, SQLite} {
		t.Run(d.String(), func(t *testing.T) {
			s, f := newFakeStore(t, d)
			ctx := context.Background()
			ran, err := s.Process(ctx, "P1\x00CLOSED", func(context.Context) error { return nil })
			require.NoError(t, err)
			assert.True(t, ran)
			assert.Equal(t, map[string]bool{"P1%00CLOSED": true}, f.marked)
			processed, err := s.Processed(ctx, "P1\x00CLOSED")
			require.NoError(t, err)
			assert.True(t, processed)
			processed, err = s.Processed(ctx, "P1")
			require.NoError(t, err)
			assert.False(t, processed, "the PAID notification of the payment is still to process")
			ran, err = s.Process(ctx, "P1", func(context.Context) error { return nil })
			require.NoError(t, err)
			assert.True(t, ran)
		})
	}
}

func TestStoreRefusesEmptyPaymentAndNilFn(t *testing.T) {
	s, f := newFakeStore(t)
	_, err := s.Process(context.Background(), "", func(context.Context) error { t.Error("fn called"); return nil })
	assert.ErrorContains(t, err, "empty key")
	_, err = s.Process(context.Background(), "P1", nil)
	assert.ErrorContains(t, err, "nil function")
	assert.Empty(t, f.steps())
}

func TestStoreCreateTable(t *testing.T) {
	s, f := newFakeStore(t)
	require.NoError(t, s.CreateTable(context.Background()))
	assert.Equal(t, []string{
		"BEGIN Default",
		"SELECT current_schema()",
		"SELECT pg_advisory_xact_lock($1)",
		s.Schema(),
		"SELECT relpersistence::text FROM pg_class WHERE oid = to_regclass($1)",
		"COMMIT",
	}, f.steps())

	// The name resolved to a temporary table: refused, rolled back.
	s, f = newFakeStore(t)
	f.persist = "t"
	err := s.CreateTable(context.Background())
	assert.ErrorContains(t, err, "temporary")
	assert.Equal(t, "ROLLBACK", f.steps()[len(f.steps())-1])
	assert.NotContains(t, f.steps(), "COMMIT")

	s, f = newFakeStore(t, SQLite)
	require.NoError(t, s.CreateTable(context.Background()))
	assert.Equal(t, []string{s.Schema()}, f.steps())
}

func TestStoreWaitEndsWithContext(t *testing.T) {
	for _, d := range []Dialect{Postgres, SQLite} {
		t.Run(d.String(), func(t *testing.T) {
			s, _ := newFakeStore(t, d)
			inside := make(chan struct{})
			release := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = s.Process(context.Background(), "P1", func(context.Context) error {
					close(inside)
					<-release
					return nil
				})
			}()
			<-inside
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			ran, err := s.Process(ctx, "P1", func(context.Context) error { t.Error("fn ran while locked"); return nil })
			assert.False(t, ran)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			close(release)
			<-done
			s.payments.mu.Lock()
			assert.Empty(t, s.payments.m, "lock entries are dropped once nobody holds or waits")
			s.payments.mu.Unlock()
		})
	}
}

func TestTxFromContextOutsideAStore(t *testing.T) {
	tx, ok := TxFromContext(context.Background())
	assert.False(t, ok)
	assert.Nil(t, tx)
}

func TestLockKey(t *testing.T) {
	// FNV-1a 64 of "t\x00p", computed by hand from the FNV definition.
	h := uint64(14695981039346656037)
	for _, c := range []byte("t\x00p") {
		h ^= uint64(c)
		h *= 1099511628211
	}
	assert.Equal(t, int64(h), lockKey("t", "p"))
	assert.NotEqual(t, lockKey("t", "p1"), lockKey("t", "p2"))
	assert.NotEqual(t, lockKey("t1", "p"), lockKey("t2", "p"))
}

// TestStoreRefusesKeysWithAmpersand: HipoPay's values never hold '&', so a
// key that does comes from a notification re-cut out of another one's
// signed string. The store refuses it before touching the database.
func TestStoreRefusesKeysWithAmpersand(t *testing.T) {
	for _, d := range []Dialect{Postgres, SQLite} {
		t.Run(d.String(), func(t *testing.T) {
			s, f := newFakeStore(t, d)
			for _, key := range []string{"P1&settle_currency=HKD", "&", "P1\x00CLOSED&status=PAID"} {
				ran, err := s.Process(context.Background(), key, func(context.Context) error {
					t.Errorf("fn called for %q", key)
					return nil
				})
				assert.False(t, ran, "%q", key)
				assert.ErrorContains(t, err, "'&'", "%q", key)
				_, err = s.Processed(context.Background(), key)
				assert.ErrorContains(t, err, "'&'", "%q", key)
			}
			assert.Empty(t, f.steps(), "nothing reached the database")
		})
	}
}
