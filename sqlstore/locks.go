// The in-process wait per key, so that duplicates do not each hold a
// database connection while they wait.

package sqlstore

import (
	"context"
	"sync"
)

// paymentLocks is a set of per-key locks that a waiter can leave when its
// context ends. Entries live while someone holds or waits for them.
type paymentLocks struct {
	mu sync.Mutex
	m  map[string]*paymentLock
}

type paymentLock struct {
	held chan struct{} // capacity 1: full while held
	refs int           // holders and waiters
}

// lock waits for key's lock and returns its release, or ctx's error.
func (l *paymentLocks) lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*paymentLock)
	}
	e := l.m[key]
	if e == nil {
		e = &paymentLock{held: make(chan struct{}, 1)}
		l.m[key] = e
	}
	e.refs++
	l.mu.Unlock()

	select {
	case e.held <- struct{}{}:
		return func() {
			<-e.held
			l.leave(key, e)
		}, nil
	case <-ctx.Done():
		l.leave(key, e)
		return nil, ctx.Err()
	}
}

func (l *paymentLocks) leave(key string, e *paymentLock) {
	l.mu.Lock()
	e.refs--
	if e.refs == 0 {
		delete(l.m, key)
	}
	l.mu.Unlock()
}
