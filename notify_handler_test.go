package hipopay

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The notification handler: answers, deduplication, failures, options and logs.

func TestNotificationHandlerAcceptsVectors(t *testing.T) {
	f := newNotifyFixture(t)
	for _, c := range f.vf.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var got *PaymentNotification
			h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
				got = n
				return nil
			})
			fields, ts, sig := f.vector(t, c.Name)
			assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
			require.NotNil(t, got)
			assert.Equal(t, fields.Get("payment_no"), got.PaymentNo)
			assert.Equal(t, fields, got.Fields)
		})
	}
}

func TestNotificationHandlerConcurrentDuplicates(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var calls, running atomic.Int32
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
		if running.Add(1) != 1 {
			t.Error("fn runs concurrently for one payment")
		}
		defer running.Add(-1)
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	const deliveries = 32
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]*httptest.ResponseRecorder, deliveries)
	for i := range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := notifyRequest(http.MethodPost, fields, ts, sig)
			<-start
			results[i] = serveNotify(h, r)
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, calls.Load())
	for _, w := range results {
		assertSuccess(t, w)
	}
	// A later delivery is acknowledged without calling fn.
	assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
	assert.EqualValues(t, 1, calls.Load())
}

func TestNotificationHandlerDistinctPaymentsInParallel(t *testing.T) {
	// The lock is per payment: two payments run fn at the same time.
	f := newNotifyFixture(t)
	a, tsA, sigA := f.vector(t, "paid_basic")
	b, tsB, sigB := f.vector(t, "paid_response_version_3")
	both := make(chan struct{})
	var arrived atomic.Int32
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
		if arrived.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("the other payment never ran")
		}
	})
	var wg sync.WaitGroup
	for _, r := range []*http.Request{notifyRequest(http.MethodPost, a, tsA, sigA), notifyRequest(http.MethodPost, b, tsB, sigB)} {
		wg.Add(1)
		go func() { defer wg.Done(); assertSuccess(t, serveNotify(h, r)) }()
	}
	wg.Wait()
}

func TestNotificationHandlerRetriesAfterFailure(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var calls atomic.Int32
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
		if calls.Add(1) == 1 {
			return errors.New("database is down: secret-dsn")
		}
		return nil
	})
	w := serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig))
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.NotContains(t, w.Body.String(), "secret-dsn")
	assert.NotContains(t, w.Body.String(), "success")
	assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
	assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
	assert.EqualValues(t, 2, calls.Load())
}

func TestNotificationHandlerRecoversPanic(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var logs bytes.Buffer
	var calls atomic.Int32
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	}, WithHandlerLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	w := serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig))
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.NotContains(t, w.Body.String(), "boom")
	assert.Contains(t, logs.String(), "boom")

	// The lock was released and nothing was recorded: the next delivery
	// runs fn, promptly.
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)) }()
	select {
	case w = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the panic left the payment locked")
	}
	assertSuccess(t, w)
	assert.EqualValues(t, 2, calls.Load())
	assert.NotContains(t, logs.String(), sig)
}

func TestNotificationHandlerMethods(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var calls callCounter
	h := NewNotificationHandler(f.pub, calls.fn)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		w := serveNotify(h, notifyRequest(m, fields, ts, sig))
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		assert.Equal(t, http.MethodPost, w.Header().Get("Allow"), m)
	}
	assert.Zero(t, calls.n.Load())
}

func TestNotificationHandlerNilFunc(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	h := NewNotificationHandler(f.pub, nil)
	assert.Equal(t, http.StatusInternalServerError, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)).Code)
}

func TestNotificationHandlerTimestampTolerance(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic") // ts is 1700000123, in 2023
	sent := time.Unix(1700000123, 0)
	clockAt := func(t time.Time) func() time.Time { return func() time.Time { return t } }

	// Off by default: a delivery signed long ago is accepted.
	var calls callCounter
	assertSuccess(t, serveNotify(NewNotificationHandler(f.pub, calls.fn), notifyRequest(http.MethodPost, fields, ts, sig)))
	assertSuccess(t, serveNotify(NewNotificationHandler(f.pub, calls.fn, WithTimestampTolerance(0)), notifyRequest(http.MethodPost, fields, ts, sig)))

	for name, tc := range map[string]struct {
		now  time.Time
		want int
	}{
		"fresh":         {sent.Add(time.Minute), http.StatusOK},
		"a little fast": {sent.Add(-time.Minute), http.StatusOK},
		"stale":         {sent.Add(10 * time.Minute), http.StatusUnauthorized},
		"from future":   {sent.Add(-10 * time.Minute), http.StatusUnauthorized},
	} {
		var calls callCounter
		h := NewNotificationHandler(f.pub, calls.fn, WithTimestampTolerance(5*time.Minute), WithHandlerClock(clockAt(tc.now)))
		w := serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig))
		assert.Equal(t, tc.want, w.Code, name)
		assert.Equal(t, tc.want == http.StatusOK, calls.n.Load() == 1, name)
	}

	// A timestamp that is not Unix seconds, when checked: 401.
	h := NewNotificationHandler(f.pub, calls.fn, WithTimestampTolerance(5*time.Minute), WithHandlerClock(clockAt(sent)))
	odd := "2023-11-14 18:15:59"
	assert.Equal(t, http.StatusUnauthorized, serveNotify(h, notifyRequest(http.MethodPost, fields, odd, f.sign(t, fields, odd))).Code)

	// The client's handler uses the client's clock.
	for _, tc := range []struct {
		now  time.Time
		want int
	}{{sent.Add(time.Minute), http.StatusOK}, {sent.Add(time.Hour), http.StatusUnauthorized}} {
		client, err := NewClient("1000001", mustPrivateKey(t, "merchant_private_pkcs8.pem"), WithHipoPayPublicKey(f.pub), WithClock(clockAt(tc.now)))
		require.NoError(t, err)
		h := client.NotificationHandler(calls.fn, WithTimestampTolerance(5*time.Minute), WithoutConfirmation())
		assert.Equal(t, tc.want, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)).Code)
	}
}

func TestNotificationHandlerLogsNoSignature(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := NewClient("1000001", mustPrivateKey(t, "merchant_private_pkcs8.pem"), WithHipoPayPublicKey(f.pub), WithLogger(logger))
	require.NoError(t, err)
	fail := true
	h := client.NotificationHandler(func(ctx context.Context, n *PaymentNotification) error {
		if fail {
			fail = false
			return errors.New("not yet")
		}
		return nil
	}, WithoutConfirmation())
	for _, r := range []*http.Request{
		notifyRequest(http.MethodPost, withField(fields, "amount", "0.01", false), ts, sig), // 401
		notifyRequest(http.MethodPost, fields, ts+"9", sig),                                 // 401
		notifyRequest(http.MethodGet, fields, ts, sig),                                      // 405
		notifyRequest(http.MethodPost, fields, ts, sig),                                     // 500
		notifyRequest(http.MethodPost, fields, ts, sig),                                     // 200
		notifyRequest(http.MethodPost, fields, ts, sig),                                     // 200, duplicate
	} {
		serveNotify(h, r)
	}
	out := logs.String()
	assert.Contains(t, out, "notification refused")
	assert.Contains(t, out, "not yet")
	assert.Contains(t, out, "notification acknowledged")
	assert.Contains(t, out, fields.Get("payment_no"))
	assert.NotContains(t, out, sig)
	assert.NotContains(t, out, sig[:16])

	// Silent without a logger: nothing to assert but that it does not fail.
	var calls callCounter
	assertSuccess(t, serveNotify(NewNotificationHandler(f.pub, calls.fn), notifyRequest(http.MethodPost, fields, ts, sig)))
}

// recordingStore is a NotificationStore that always runs fn and counts.
type recordingStore struct{ calls atomic.Int32 }

func (s *recordingStore) Process(ctx context.Context, paymentNo string, fn func(context.Context) error) (bool, error) {
	s.calls.Add(1)
	return true, fn(ctx)
}

func TestNotificationHandlerWithStore(t *testing.T) {
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	var store recordingStore
	var calls callCounter
	h := NewNotificationHandler(f.pub, calls.fn, WithStore(&store), WithStore(nil), WithMaxBodyBytes(-1), nil)
	for range 3 {
		assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
	}
	assert.EqualValues(t, 3, store.calls.Load())
	assert.EqualValues(t, 3, calls.n.Load())

	// A panicking store is answered 500, not a crash.
	h = NewNotificationHandler(f.pub, calls.fn, WithStore(panickingStore{}))
	assert.Equal(t, http.StatusInternalServerError, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)).Code)

	// Two handlers do not share their default store.
	var c1, c2 callCounter
	h1, h2 := NewNotificationHandler(f.pub, c1.fn), NewNotificationHandler(f.pub, c2.fn)
	assertSuccess(t, serveNotify(h1, notifyRequest(http.MethodPost, fields, ts, sig)))
	assertSuccess(t, serveNotify(h2, notifyRequest(http.MethodPost, fields, ts, sig)))
	assert.EqualValues(t, 1, c1.n.Load())
	assert.EqualValues(t, 1, c2.n.Load())
}

type panickingStore struct{}

func (panickingStore) Process(context.Context, string, func(context.Context) error) (bool, error) {
	panic("store bug")
}

func TestNotificationHandlerDeduplicatesPerStatus(t *testing.T) {
	// A non-PAID notification that fn acknowledged must not make the
	// payment's later PAID notification a duplicate.
	f := newNotifyFixture(t)
	paid, ts, _ := f.vector(t, "paid_basic")
	closed := withField(paid, "status", "CLOSED", false)
	var statuses []PaymentStatus
	var mu sync.Mutex
	h := NewNotificationHandler(f.pub, func(ctx context.Context, n *PaymentNotification) error {
		mu.Lock()
		defer mu.Unlock()
		statuses = append(statuses, n.Status)
		return nil
	})
	for _, fields := range []url.Values{closed, closed, paid, paid, closed} {
		assertSuccess(t, serveNotify(h, f.signedRequest(t, fields, ts)))
	}
	assert.Equal(t, []PaymentStatus{"CLOSED", PaymentStatusPaid}, statuses)

	// The keys the store sees.
	var store keyRecordingStore
	h = NewNotificationHandler(f.pub, func(context.Context, *PaymentNotification) error { return nil }, WithStore(&store))
	for _, fields := range []url.Values{paid, closed, withoutField(paid, "status")} {
		assertSuccess(t, serveNotify(h, f.signedRequest(t, fields, ts)))
	}
	p := paid.Get("payment_no")
	assert.Equal(t, []string{p, p + "\x00CLOSED", p + "\x00"}, store.keys)
}

// keyRecordingStore is a NotificationStore that runs fn and keeps the keys.
type keyRecordingStore struct {
	mu   sync.Mutex
	keys []string
}

func (s *keyRecordingStore) Process(ctx context.Context, key string, fn func(context.Context) error) (bool, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	return true, fn(ctx)
}

func TestNotificationHandlerLogsToSlogDefault(t *testing.T) {
	// Without WithHandlerLogger, fn's errors and panics and refused
	// deliveries go to slog.Default() as it is when the delivery arrives
	// (so a failing handler is never silent); acknowledgements do not.
	f := newNotifyFixture(t)
	fields, ts, sig := f.vector(t, "paid_basic")
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	client, err := NewClient("1000001", mustPrivateKey(t, "merchant_private_pkcs8.pem"), WithHipoPayPublicKey(f.pub))
	require.NoError(t, err)
	for name, build := range map[string]func(NotificationFunc) http.Handler{
		"NewNotificationHandler":     func(fn NotificationFunc) http.Handler { return NewNotificationHandler(f.pub, fn) },
		"Client.NotificationHandler": func(fn NotificationFunc) http.Handler { return client.NotificationHandler(fn, WithoutConfirmation()) },
	} {
		calls := 0
		h := build(func(context.Context, *PaymentNotification) error {
			calls++
			switch calls {
			case 1:
				return errors.New("database unavailable")
			case 2:
				panic("boom")
			}
			return nil
		})
		var logs bytes.Buffer
		slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil))) // after the handler was built
		assert.Equal(t, http.StatusUnauthorized, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, "AAAA")).Code)
		assert.Equal(t, http.StatusInternalServerError, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)).Code)
		assert.Equal(t, http.StatusInternalServerError, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)).Code)
		assertSuccess(t, serveNotify(h, notifyRequest(http.MethodPost, fields, ts, sig)))
		out := logs.String()
		assert.Contains(t, out, `"level":"WARN","msg":"hipopay: notification refused"`, name)
		assert.Contains(t, out, `"level":"ERROR"`, name)
		assert.Contains(t, out, "database unavailable", name)
		assert.Contains(t, out, "boom", name)
		assert.NotContains(t, out, "acknowledged", name)
		assert.NotContains(t, out, sig[:16], name)
		slog.SetDefault(prev)
	}
}
