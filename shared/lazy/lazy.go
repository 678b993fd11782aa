// Package lazy connects to a backend on first use, so that starting a
// server, initialize and tools/list never wait on the network. A failed
// connection is not cached: the next call tries again, and the error it
// returns is the one the caller shows the model.
package lazy

import (
	"context"
	"sync/atomic"
)

// Value holds a T built by a connect function on first Get.
type Value[T any] struct {
	connect func(context.Context) (T, error)
	sem     chan struct{} // one connection attempt at a time
	ready   atomic.Bool   // set after v is written
	v       T
}

// New returns a Value that calls connect on first use.
func New[T any](connect func(context.Context) (T, error)) *Value[T] {
	return &Value[T]{connect: connect, sem: make(chan struct{}, 1)}
}

// Get returns the value, connecting if needed. Concurrent callers wait for
// one connection attempt; a caller whose ctx ends stops waiting.
func (l *Value[T]) Get(ctx context.Context) (T, error) {
	if l.ready.Load() {
		return l.v, nil
	}
	var zero T
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	defer func() { <-l.sem }()
	if l.ready.Load() {
		return l.v, nil
	}
	v, err := l.connect(ctx)
	if err != nil {
		return zero, err
	}
	l.v = v
	l.ready.Store(true)
	return v, nil
}

// Peek returns the value if it is connected, without connecting.
func (l *Value[T]) Peek() (T, bool) {
	if l.ready.Load() {
		return l.v, true
	}
	var zero T
	return zero, false
}
