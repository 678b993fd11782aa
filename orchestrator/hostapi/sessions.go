package hostapi

import (
	"context"
	"sync"
	"time"

	"github.com/opstower/opstower/orchestrator/agent"
)

// sessionIdle is how long an unused session stays open. Keeping it spares
// each question the start of the agent's servers (an external server over
// stdio is a process) and keeps database pools warm.
const sessionIdle = 10 * time.Minute

// sessions caches one open session per agent version. A session serves
// concurrent questions: it holds no per-question state. Sessions idle for
// sessionIdle are closed at the next request (and all at shutdown).
type sessions struct {
	mu      sync.Mutex
	open    map[string]*cached
	stopped bool
}

type cached struct {
	s        *agent.Session
	users    int
	lastUsed time.Time
}

func key(a *agent.Agent, user string) string {
	// A saved agent has a new Updated time, so edits open a new session;
	// the user is part of the key because delegates depend on visibility.
	return a.ID + "|" + a.Updated.Format(time.RFC3339Nano) + "|" + user
}

// get returns an open session for a, opening one when needed; release
// must be called when the question is answered.
func (c *sessions) get(ctx context.Context, h *agent.Host, a *agent.Agent, user string) (*agent.Session, func(), error) {
	k := key(a, user)
	c.mu.Lock()
	if c.open == nil {
		c.open = map[string]*cached{}
	}
	c.evictLocked(time.Now())
	if e, ok := c.open[k]; ok && !c.stopped {
		e.users++
		c.mu.Unlock()
		return e.s, func() { c.release(k) }, nil
	}
	c.mu.Unlock()
	s, err := h.Open(ctx, a, agent.OpenOptions{User: user})
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.open[k]; ok || c.stopped {
		// Another request opened it meanwhile (or we are stopping).
		_ = s.Close()
		if c.stopped {
			return nil, nil, context.Canceled
		}
		e.users++
		return e.s, func() { c.release(k) }, nil
	}
	c.open[k] = &cached{s: s, users: 1}
	return s, func() { c.release(k) }, nil
}

func (c *sessions) release(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.open[k]; ok {
		e.users--
		e.lastUsed = time.Now()
	}
}

// evictLocked closes sessions idle for sessionIdle, which include those of
// agents edited since.
func (c *sessions) evictLocked(now time.Time) {
	for k, e := range c.open {
		if e.users == 0 && now.Sub(e.lastUsed) > sessionIdle {
			go e.s.Close()
			delete(c.open, k)
		}
	}
}

// closeAll closes every session (at shutdown).
func (c *sessions) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	for k, e := range c.open {
		_ = e.s.Close()
		delete(c.open, k)
	}
}
