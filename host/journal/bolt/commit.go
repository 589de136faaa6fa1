package bolt

import (
	"errors"
	"sync"
	"sync/atomic"

	"go.etcd.io/bbolt"
)

// Group commit for the bolt journal. bbolt syncs the file twice per
// transaction (its pages, then its meta page), and one transaction commits
// at a time. Rather than a transaction per write, one committer goroutine
// takes every write queued while the previous commit ran and commits them
// together: concurrent writers share one transaction and its syncs, and
// none hears success before that commit is on disk. Alone, a write starts
// at once (no batching delay, unlike bbolt's DB.Batch, whose 10 ms timer
// would land on every single-client call).

// maxGroup bounds the writes of one transaction, so that one commit stays
// short and its dirty pages few.
const maxGroup = 256

// errBoltClosed answers a write made after Close.
var errBoltClosed = errors.New("bolt store is closed")

// boltWrite is one queued write: fn runs inside the shared transaction and
// done receives its outcome once that transaction is on disk.
type boltWrite struct {
	fn   func(*bbolt.Tx) error
	done chan error
}

// committer runs the group commits of one bolt file.
type committer struct {
	db     *bbolt.DB
	queue  chan *boltWrite
	mu     sync.RWMutex // held for reading while queueing; for writing by close
	closed bool
	wg     sync.WaitGroup

	// grouped, when set (tests), is called with each group's size before
	// its commit.
	grouped func(n int)
	// commits counts the transactions committed (the benchmarks report
	// syncs per checkout from it: bbolt syncs each commit twice).
	commits atomic.Int64
}

func newCommitter(db *bbolt.DB) *committer {
	c := &committer{db: db, queue: make(chan *boltWrite, maxGroup)}
	c.wg.Add(1)
	go c.run()
	return c
}

// update runs fn in a write transaction shared with the writes queued at
// the same time and returns once it is committed and synced. fn may run
// more than once (when another write of its group fails, the group is
// committed again without it), so it must set its results afresh on every
// run and have no effect outside the transaction.
func (c *committer) update(fn func(*bbolt.Tx) error) error {
	w := &boltWrite{fn: fn, done: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errBoltClosed
	}
	c.queue <- w
	c.mu.RUnlock()
	return <-w.done
}

// close commits what is queued and stops the committer.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *committer) run() {
	defer c.wg.Done()
	group := make([]*boltWrite, 0, maxGroup)
	for w := range c.queue {
		group = append(group[:0], w)
	fill:
		for len(group) < maxGroup {
			select {
			case w, ok := <-c.queue:
				if !ok {
					break fill
				}
				group = append(group, w)
			default:
				break fill
			}
		}
		if c.grouped != nil {
			c.grouped(len(group))
		}
		c.commit(group)
		clear(group)
	}
}

// commit runs a group's writes in one transaction. A write that fails
// rolls the whole transaction back: it is then run again alone (its error
// is its own) and the others are committed again without it.
func (c *committer) commit(group []*boltWrite) {
	c.commits.Add(1)
	if len(group) == 1 {
		group[0].done <- c.db.Update(group[0].fn)
		return
	}
	failed := -1
	err := c.db.Update(func(tx *bbolt.Tx) error {
		for i, w := range group {
			if err := w.fn(tx); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	if failed < 0 {
		for _, w := range group {
			w.done <- err // nil, or the commit's own failure
		}
		return
	}
	bad := group[failed]
	rest := append(append([]*boltWrite{}, group[:failed]...), group[failed+1:]...)
	c.commit(rest)
	c.commits.Add(1)
	bad.done <- c.db.Update(bad.fn)
}
