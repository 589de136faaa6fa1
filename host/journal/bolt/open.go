package bolt

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// options are how a store is opened: Open's defaults, or a test's.
type options struct {
	logSize   int64         // the log's size (walSize)
	ckptEvery time.Duration // the pass being written is committed at least this often
	fs        logFS
	// recovery, when set, is filled in, and a damaged, missing or short
	// log is taken as far as it reads rather than refused (Recover).
	recovery *Recovery
	// noSync commits bolt without syncing it: the crash simulation's
	// reopenings of states it built (never a journal kept).
	noSync      bool
	afterCommit func(pass uint64)
}

func defaultOptions() options {
	return options{logSize: walSize, ckptEvery: time.Second, fs: osFS{}}
}

// Open opens (or creates) the bbolt file at path. A file that is
// locked, corrupt or unwritable is an error naming the file; a damaged
// write-ahead log is a *DamageError (errors.Is(err, journal.ErrDamaged)),
// and the journal is not opened.
func Open(path string) (*Store, error) { return open(path, defaultOptions()) }

func open(path string, o options) (*Store, error) {
	if o.fs == nil {
		o.fs = osFS{}
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: 2 * time.Second,
		// The freelist is rebuilt at open rather than written at every
		// commit: fewer pages per commit. The hashmap freelist keeps
		// allocation fast in a large file.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		NoSync:         o.noSync,
	})
	if err != nil {
		return nil, fmt.Errorf("opening bolt store %s: %w", path, err)
	}
	if err := db.Update(migrateBolt); err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising bolt store %s: %w", path, err)
	}
	s := &Store{db: db, c: newCommitter(db), ckptEvery: o.ckptEvery, afterCommit: o.afterCommit}
	if err := s.openLog(path, o); err != nil {
		if s.log != nil {
			s.log.f.Close()
		}
		s.c.close()
		db.Close()
		if d := (*DamageError)(nil); errors.As(err, &d) {
			return nil, err // it names the log and the offset
		}
		return nil, fmt.Errorf("opening bolt store %s: %w", path, err)
	}
	return s, nil
}

// openLog opens the log of the store's file, commits what it holds into
// bolt (replay.go reads it), cleans it, numbers the next event and starts
// the checkpointer. The directory is synced once both files exist, before
// anything is committed.
func (s *Store) openLog(path string, o options) error {
	var m walMeta
	_ = s.db.View(func(tx *bbolt.Tx) error { m = readWALMeta(tx); return nil })
	lp := walPath(path)
	size := logSize(o.logSize)
	// The passes to replay were written in halves of the size bolt
	// recorded with them (a log of another size, after an upgrade).
	half := logSize(cmp.Or(m.size, size)) / 2
	// A file that never kept an epoch never had a log: one found beside
	// it is not its own. A file closed cleanly has everything in it.
	replay := m.ok && !m.closed
	rec := o.recovery
	if rec != nil {
		*rec = Recovery{Log: lp}
	}
	refuse := func(d *DamageError) error {
		if rec == nil {
			return d
		}
		if rec.Damage == nil {
			rec.Damage = d
		}
		return nil
	}
	f, err := o.fs.OpenLog(lp, false)
	var lost int64 // bytes of log known lost (missing, cut short)
	if errors.Is(err, fs.ErrNotExist) {
		if replay {
			d := &DamageError{Log: lp, Offset: -1, Reason: "missing, and the journal was not closed cleanly: the loans and events it held are not in the file"}
			if err := refuse(d); err != nil {
				return err
			}
			replay, lost = false, 2*half
		}
		f, err = o.fs.OpenLog(lp, true)
	}
	if err != nil {
		return err
	}
	l := newWALLog(f, size)
	s.log = l
	img, n, err := readLog(f, max(2*half, size))
	if err != nil {
		return fmt.Errorf("reading %s: %w", lp, err)
	}
	var sc logScan
	if replay {
		if n < 2*half {
			d := &DamageError{Log: lp, Offset: n, Reason: fmt.Sprintf("the log ends here; it was written %d bytes long", 2*half)}
			if err := refuse(d); err != nil {
				return err
			}
			lost = 2*half - n
		}
		if m.format == 0 {
			if sc, err = scanLegacy(img, half, m.epoch); err != nil {
				return fmt.Errorf("reading %s: %w", lp, err)
			}
		} else {
			sc = scanLog(lp, img, half, m.epoch)
		}
		if sc.damage != nil {
			if rec == nil {
				return sc.damage
			}
			rec.Damage = sc.damage // the first damage, rather than a short file
		}
		for _, x := range sc.keep {
			// Copied out of img: the overlay keeps them.
			x.r.loan, x.r.event = bytes.Clone(x.r.loan), bytes.Clone(x.r.event)
			l.over.add(x.r, x.ix, 0)
		}
	}
	// A damaged log, or one cut short, is moved aside (never deleted) and
	// a new one begins.
	if rec != nil && rec.Damage != nil && rec.Damage.Offset >= 0 {
		if rec.MovedTo, err = s.setAside(o.fs, lp); err != nil {
			return err
		}
		img = make([]byte, len(img))
	}
	if err := l.prealloc(); err != nil {
		return fmt.Errorf("preallocating %s: %w", lp, err)
	}
	if err := syncParent(o.fs, path); err != nil {
		return fmt.Errorf("syncing the directory of %s: %w", path, err)
	}
	// What was not replayed is of no use: it is zeroed before the commit
	// makes bolt look for passes in it. What was is zeroed once bolt has
	// it; until then its records are of passes before bolt's.
	if !replay {
		if err := l.zeroLog(img); err != nil {
			return err
		}
	}
	epoch := m.epoch
	if !m.ok {
		// A random first pass: a stray log of another file is never read
		// as this one's.
		var b [8]byte
		_, _ = rand.Read(b[:])
		epoch = binary.BigEndian.Uint64(b[:]) >> 2
	}
	// What was replayed is committed as the second pass after bolt's, and
	// writing goes on in the third: a pass a crash left half written is
	// never written again, so no record of it can come back.
	epoch += 2
	legacy := replay && m.format == 0
	// A recovery drops part of the log: the events it held, or could
	// have held where no whole record accounts for its bytes, may have
	// been read. Their numbers are skipped, never given again.
	var floor, skip uint64
	if rec != nil && rec.Damage != nil {
		floor, skip = sc.maxSeq, numbersIn(int64(sc.unread)+lost)
	}
	var next uint64
	err = s.update(func(tx *bbolt.Tx) error {
		var err error
		next, err = openCommitTx(tx, l.over, epoch, size, floor, skip, !legacy)
		return err
	})
	if err != nil {
		return err
	}
	if replay {
		if err := l.zeroLog(img); err != nil {
			return err
		}
	}
	if legacy {
		err := s.update(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyWALFormat, binary.BigEndian.AppendUint64(nil, walFormat))
		})
		if err != nil {
			return err
		}
	}
	if rec != nil {
		rec.Kept, rec.Dropped, rec.Unread, rec.NextEvent = len(sc.keep), sc.dropped, sc.unread, next
	}
	l.over = newOverlay()
	l.epoch, l.ready, l.nextSeq = epoch+1, epoch+2, next
	s.ckptDone = make(chan struct{})
	go s.checkpointer()
	return nil
}

// openCommitTx commits o, what replay read, as pass epoch (checkpointTx),
// and returns the next event's number: past every number bolt's events,
// the log, floor and any webhook's cursor have reached (a webhook may
// have delivered an event whose record was lost with a log), and skip
// numbers more.
func openCommitTx(tx *bbolt.Tx, o *overlay, epoch uint64, size int64, floor, skip uint64, format bool) (uint64, error) {
	if err := checkpointTx(tx, o, epoch, size); err != nil {
		return 0, err
	}
	meta := tx.Bucket(bucketMeta)
	if format {
		if err := meta.Put(keyWALFormat, binary.BigEndian.AppendUint64(nil, walFormat)); err != nil {
			return 0, err
		}
	}
	events := tx.Bucket(bucketEvents)
	top := max(events.Sequence(), floor)
	if b := tx.Bucket(bucketWebhooks); b != nil {
		err := b.ForEach(func(_, v []byte) error {
			var w boltWebhook
			if err := json.Unmarshal(v, &w); err != nil {
				return err
			}
			n, err := journal.ParseCursor(w.State.Cursor)
			top = max(top, n)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("reading the webhooks' cursors: %w", err)
		}
	}
	top += skip
	if top > events.Sequence() {
		if err := events.SetSequence(top); err != nil {
			return 0, err
		}
	}
	return top + 1, nil
}

// readLog reads the first size bytes of the log (zeros past its end) and
// returns how long it is.
func readLog(f logFile, size int64) (img []byte, n int64, err error) {
	if n, err = f.Size(); err != nil {
		return nil, 0, err
	}
	img = make([]byte, size)
	if _, err := f.ReadAt(img[:min(n, size)], 0); err != nil && err != io.EOF {
		return nil, 0, err
	}
	return img, n, nil
}

// zeroLog writes zeros over every sector of the log that img (as read at
// open) has anything in, and syncs them; each half's first sector last,
// after the rest is synced, as a checkpoint cleans a half.
func (l *walLog) zeroLog(img []byte) error {
	firsts := map[int64]bool{0: true, l.size / 2: true}
	dirty := func(s int64) bool {
		return nonZeroEnd(img[s:min(s+sector, int64(len(img)))]) > 0
	}
	for _, last := range []bool{false, true} {
		wrote := false
		for s := int64(0); s < int64(len(img)); {
			if firsts[s] != last || !dirty(s) {
				s += sector
				continue
			}
			e := s + sector
			for !last && e < int64(len(img)) && !firsts[e] && dirty(e) {
				e += sector
			}
			e = min(e, int64(len(img)))
			zero := writeZeros
			if last {
				zero = func(f logFile, s, e int64) error { return zeroFirst(f, s, e-s) }
			}
			if err := zero(l.f, s, e); err != nil {
				return fmt.Errorf("cleaning %s: %w", l.f.Name(), err)
			}
			wrote = true
			s = e
		}
		if wrote {
			if err := l.f.Datasync(); err != nil {
				return fmt.Errorf("cleaning %s: %w", l.f.Name(), err)
			}
		}
	}
	return nil
}

// setAside moves the damaged log at lp aside and opens a new one in its
// place; the caller preallocates it and syncs the directory.
func (s *Store) setAside(fsys logFS, lp string) (string, error) {
	l := s.log
	if err := l.f.Close(); err != nil {
		return "", fmt.Errorf("closing %s: %w", lp, err)
	}
	moved := damagedName(lp, time.Now())
	if err := fsys.Rename(lp, moved); err != nil {
		return "", fmt.Errorf("moving the damaged log aside: %w", err)
	}
	f, err := fsys.OpenLog(lp, true)
	if err != nil {
		return "", err
	}
	l.f = f
	return moved, nil
}
