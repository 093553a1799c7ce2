// Deduplication of notification deliveries: the NotificationStore interface
// the handler runs the merchant's function through, and MemoryStore, the
// default in-memory store. (A database-backed store is in the sqlstore
// package.)

package hipopay

import (
	"container/list"
	"context"
	"strings"
	"sync"
	"time"
)

// NotificationStore records which notifications were processed and
// serializes their processing, so that the handler runs the merchant's
// function at most once to success per payment however many times and
// however concurrently HipoPay delivers. The default is a [MemoryStore] per
// handler; the sqlstore package serves several instances.
type NotificationStore interface {
	// Process runs fn for key unless key was already processed, holding a
	// lock for key while fn runs (concurrent calls wait). When fn returns
	// nil, key is recorded as processed (with fn's own effects, when fn
	// works through the store's transaction) and later or waiting calls
	// return ran == false without calling fn. When fn returns an error or
	// panics, nothing is recorded, the lock is released and the error (or
	// panic) is passed on. key is opaque: the handler's deduplication key
	// (the payment_no of a PAID notification; see SECURITY.md).
	Process(ctx context.Context, key string, fn func(ctx context.Context) error) (ran bool, err error)
}

// Defaults of MemoryStoreOptions.
const (
	// DefaultMemoryStoreTTL is how long a processed key is remembered:
	// far beyond HipoPay's retries, which span under an hour.
	DefaultMemoryStoreTTL = 24 * time.Hour
	// DefaultMemoryStoreMaxEntries caps the processed keys remembered
	// (about 100 bytes each).
	DefaultMemoryStoreMaxEntries = 100_000
)

// MemoryStoreOptions bounds a MemoryStore; a zero or negative field takes
// its default.
type MemoryStoreOptions struct {
	TTL        time.Duration    // how long a processed key is remembered (DefaultMemoryStoreTTL)
	MaxEntries int              // how many processed keys are remembered at most (DefaultMemoryStoreMaxEntries)
	Clock      func() time.Time // time.Now
}

// MemoryStore is a [NotificationStore] in memory: a lock per key being
// processed, and a bounded record of processed keys that expire after a
// TTL and of which the oldest are forgotten beyond MaxEntries. It serves
// one process: a restart or another instance does not see its records.
// It is safe for concurrent use; create it with [NewMemoryStore].
type MemoryStore struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu       sync.Mutex
	inflight map[string]chan struct{} // closed when the running fn returns
	done     map[string]*list.Element // processed keys, into order
	order    *list.List               // of processedEntry, oldest first
}

type processedEntry struct {
	key string
	at  time.Time
}

// NewMemoryStore returns an empty MemoryStore bounded by opts.
func NewMemoryStore(opts MemoryStoreOptions) *MemoryStore {
	s := &MemoryStore{
		ttl:      opts.TTL,
		max:      opts.MaxEntries,
		now:      opts.Clock,
		inflight: make(map[string]chan struct{}),
		done:     make(map[string]*list.Element),
		order:    list.New(),
	}
	if s.ttl <= 0 {
		s.ttl = DefaultMemoryStoreTTL
	}
	if s.max <= 0 {
		s.max = DefaultMemoryStoreMaxEntries
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Process implements [NotificationStore]: it runs fn unless key was
// processed within the TTL, waiting (or giving up with ctx's error) while
// another call runs fn for the same key. A panic in fn releases the lock,
// records nothing and is passed on.
func (s *MemoryStore) Process(ctx context.Context, key string, fn func(ctx context.Context) error) (ran bool, err error) {
	var running chan struct{}
	for running == nil {
		s.mu.Lock()
		s.expireLocked(s.now())
		if _, ok := s.done[key]; ok {
			s.mu.Unlock()
			return false, nil
		}
		if wait, ok := s.inflight[key]; ok {
			s.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		// Our own copy: key may share memory with the whole body.
		key = strings.Clone(key)
		running = make(chan struct{})
		s.inflight[key] = running
		s.mu.Unlock()
	}

	succeeded := false
	defer func() {
		s.mu.Lock()
		delete(s.inflight, key)
		if succeeded {
			s.recordLocked(key, s.now())
		}
		s.mu.Unlock()
		close(running)
	}()
	err = fn(ctx)
	succeeded = err == nil
	return true, err
}

// recordLocked remembers key as processed, forgetting the oldest records
// beyond the cap.
func (s *MemoryStore) recordLocked(key string, now time.Time) {
	if e, ok := s.done[key]; ok {
		s.order.Remove(e)
	}
	s.done[key] = s.order.PushBack(processedEntry{key: key, at: now})
	for s.order.Len() > s.max {
		s.removeLocked(s.order.Front())
	}
}

// expireLocked forgets records older than the TTL. Records are in the
// order they were made, so it stops at the first fresh one.
func (s *MemoryStore) expireLocked(now time.Time) {
	for e := s.order.Front(); e != nil; e = s.order.Front() {
		if now.Sub(e.Value.(processedEntry).at) < s.ttl {
			return
		}
		s.removeLocked(e)
	}
}

func (s *MemoryStore) removeLocked(e *list.Element) {
	delete(s.done, e.Value.(processedEntry).key)
	s.order.Remove(e)
}

// Len returns how many processed keys the store remembers.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(s.now())
	return s.order.Len()
}
