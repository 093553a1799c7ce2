package hipopay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// MemoryStore: bounds, expiry, waiting and failures.

// storeClock is a settable clock for the store's expiry.
type storeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *storeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *storeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMemoryStoreBounds(t *testing.T) {
	ctx := context.Background()
	clock := &storeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := NewMemoryStore(MemoryStoreOptions{TTL: time.Hour, MaxEntries: 3, Clock: clock.now})
	ok := func(context.Context) error { return nil }
	run := func(p string) bool {
		ran, err := s.Process(ctx, p, ok)
		require.NoError(t, err)
		return ran
	}

	// The cap: the oldest are forgotten first.
	for i := range 5 {
		assert.True(t, run(fmt.Sprint("p", i)))
		clock.add(time.Minute)
	}
	assert.Equal(t, 3, s.Len())
	assert.False(t, run("p4"))
	assert.False(t, run("p2"))
	assert.True(t, run("p0"), "p0 was evicted")
	assert.Equal(t, 3, s.Len())
	assert.False(t, run("p0"))

	// The TTL: processed entries expire.
	clock.add(59 * time.Minute) // p3, p4 recorded over an hour ago
	assert.Equal(t, 1, s.Len())
	assert.True(t, run("p3"))
	assert.False(t, run("p0"))
	clock.add(2 * time.Hour)
	assert.Equal(t, 0, s.Len())
	assert.True(t, run("p0"))

	// Failures and panics record nothing and leave no lock.
	_, err := s.Process(ctx, "f", func(context.Context) error { return errors.New("no") })
	assert.Error(t, err)
	assert.Panics(t, func() { _, _ = s.Process(ctx, "f", func(context.Context) error { panic("no") }) })
	assert.True(t, run("f"))
	s.mu.Lock()
	assert.Empty(t, s.inflight)
	assert.Len(t, s.done, s.order.Len())
	s.mu.Unlock()

	// Many payments never hold more than the cap.
	big := NewMemoryStore(MemoryStoreOptions{MaxEntries: 100})
	for i := range 1000 {
		_, _ = big.Process(ctx, fmt.Sprint(i), ok)
	}
	assert.Equal(t, 100, big.Len())
	assert.Len(t, big.done, 100)

	// Defaults.
	d := NewMemoryStore(MemoryStoreOptions{TTL: -1, MaxEntries: -1})
	assert.Equal(t, DefaultMemoryStoreTTL, d.ttl)
	assert.Equal(t, DefaultMemoryStoreMaxEntries, d.max)
}

func TestMemoryStoreWaiterGivesUp(t *testing.T) {
	s := NewMemoryStore(MemoryStoreOptions{})
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_, _ = s.Process(context.Background(), "p", func(context.Context) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ran, err := s.Process(ctx, "p", func(context.Context) error { t.Error("ran twice"); return nil })
	assert.False(t, ran)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	close(release)
	require.Eventually(t, func() bool { return s.Len() == 1 }, 5*time.Second, time.Millisecond)
}

func TestMemoryStoreWaitersRunAfterFailure(t *testing.T) {
	// Waiting duplicates of a failed run: one of them runs fn again.
	s := NewMemoryStore(MemoryStoreOptions{})
	var calls atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.Process(context.Background(), "p", func(context.Context) error {
				time.Sleep(5 * time.Millisecond)
				if calls.Add(1) == 1 {
					return errors.New("first fails")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 2, calls.Load())
}
