package lazy

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConnectsOnceAndRetriesFailures(t *testing.T) {
	var calls atomic.Int32
	v := New(func(context.Context) (int, error) {
		if calls.Add(1) == 1 {
			return 0, errors.New("database is down")
		}
		time.Sleep(10 * time.Millisecond)
		return 42, nil
	})
	if _, ok := v.Peek(); ok {
		t.Fatal("nothing should connect before the first Get")
	}
	if _, err := v.Get(context.Background()); err == nil {
		t.Fatal("want the first failure")
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := v.Get(context.Background()); err != nil || n != 42 {
				t.Errorf("got %d, %v", n, err)
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 2 {
		t.Errorf("connect ran %d times, want 2 (one failure, one success)", calls.Load())
	}
}

func TestWaitingStopsWithContext(t *testing.T) {
	release := make(chan struct{})
	v := New(func(context.Context) (int, error) { <-release; return 1, nil })
	go v.Get(context.Background())
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := v.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v", err)
	}
	close(release)
}
