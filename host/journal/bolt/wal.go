package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// The write-ahead log: every write of a loan (PutLoan, DeleteLoan) and of
// an event (Apply) is appended to a file beside the bolt file,
// <file>-wal, and synced once (one sync shared by the writers that append
// meanwhile), rather than committed to bolt, whose every commit syncs
// twice and writes a leaf and its branches in each of several B-trees.
// What the log holds is kept in memory too (overlay.go), where every read
// finds it; a checkpoint commits it all into bolt in one transaction.
//
// The file is preallocated (zeros written and synced once), so that an
// append changes no file size and its sync flushes data only. A record is
//
//	length uint32 | crc32c(epoch, payload) uint32 | payload
//	payload: 'P' | key | loan JSON                                 a loan written
//	         'D' | key                                             a loan deleted
//	         'A' | key | loan JSON | seq | dedupe key | event JSON  Apply
//
// where each field but the last is prefixed by its length (uvarint; seq is
// the uvarint itself) and epoch is a number the bolt file's meta bucket
// keeps. A checkpoint commits every loan and event the log holds into bolt
// and moves the epoch on in the same transaction: the records written
// before it then fail their checksum, and the log starts again at offset 0
// with no rewrite. Replay, at open, reads records until a zero length or a
// bad checksum (a torn append), and checkpoints what it read.

const (
	// walSize is the preallocated size: about two thousand checkouts
	// between checkpoints, and little to write at a file's first open.
	walSize      = 4 << 20
	opPut        = 'P'
	opDelete     = 'D'
	opApply      = 'A'
	recordHeader = 8
)

var (
	keyWALEpoch = []byte("wal_epoch")
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
)

// walRecord is one record's payload, decoded.
type walRecord struct {
	op     byte
	key    string // the loan's (loanKey)
	loan   []byte // its JSON; 'P' and 'A'
	seq    uint64 // the event's number; 'A'
	dedupe string // 'A'
	event  []byte // the event's stored record (numbered); 'A'
}

// encode returns the record with room for its header, which seal fills.
func (r walRecord) encode() []byte {
	p := make([]byte, recordHeader, recordHeader+1+4*binary.MaxVarintLen64+len(r.key)+len(r.loan)+len(r.dedupe)+len(r.event))
	p = append(p, r.op)
	p = binary.AppendUvarint(p, uint64(len(r.key)))
	p = append(p, r.key...)
	switch r.op {
	case opPut:
		p = append(p, r.loan...)
	case opApply:
		p = binary.AppendUvarint(p, uint64(len(r.loan)))
		p = append(p, r.loan...)
		p = binary.AppendUvarint(p, r.seq)
		p = binary.AppendUvarint(p, uint64(len(r.dedupe)))
		p = append(p, r.dedupe...)
		p = append(p, r.event...)
	}
	return p
}

var errShortRecord = errors.New("a record's field overruns it")

// field reads a length-prefixed field of p.
func field(p []byte) (f, rest []byte, err error) {
	n, w := binary.Uvarint(p)
	if w <= 0 || uint64(len(p)-w) < n {
		return nil, nil, errShortRecord
	}
	return p[w : w+int(n)], p[w+int(n):], nil
}

// parseRecord decodes a payload; its slices alias p.
func parseRecord(p []byte) (walRecord, error) {
	r := walRecord{op: p[0]}
	key, rest, err := field(p[1:])
	if err != nil {
		return r, err
	}
	r.key = string(key)
	switch r.op {
	case opPut:
		r.loan = rest
	case opDelete:
	case opApply:
		if r.loan, rest, err = field(rest); err != nil {
			return r, err
		}
		seq, w := binary.Uvarint(rest)
		if w <= 0 {
			return r, errShortRecord
		}
		r.seq = seq
		var dk []byte
		if dk, rest, err = field(rest[w:]); err != nil {
			return r, err
		}
		r.dedupe, r.event = string(dk), rest
	default:
		return r, fmt.Errorf("a record of op %q", r.op)
	}
	return r, nil
}

// walLog is a bolt file's write-ahead log and what it holds (overlay.go).
type walLog struct {
	f    *os.File
	size int64      // the preallocated size (walSize; smaller in tests)
	mu   sync.Mutex // guards the fields below; held across a checkpoint
	// off is where the next record goes; epoch what records are summed with.
	off     int64
	epoch   uint64
	written uint64 // bytes appended since open: what a sync covers
	over    overlay
	nextSeq uint64 // the next event's number
	// failed, once set, refuses every write: an append or a sync that
	// failed leaves what is on disk unknown (see Decisions).
	failed error
	// pages counts the 4 KiB pages the syncs flushed (the span appended
	// since the previous one, from dirty), syncs the syncs.
	pages int64
	syncs int64
	dirty int64 // offset of the first append not synced yet; -1: none

	smu    sync.Mutex    // one sync at a time; writers queued behind it share the next
	synced atomic.Uint64 // written covered by the last sync
}

// walPath is the log's file beside the bolt file at path.
func walPath(path string) string { return path + "-wal" }

// openWAL opens (or creates) the log of the bolt file at path and, if
// replay, reads what it holds; the caller checkpoints it. A file that
// never kept an epoch never had a log: a log found beside it is not its
// own, and is not read.
func openWAL(path string, size int64, epoch uint64, replay bool) (*walLog, error) {
	lp := walPath(path)
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	l := &walLog{f: f, size: size, epoch: epoch, over: newOverlay(), dirty: -1}
	if err := l.prealloc(); err != nil {
		f.Close()
		return nil, fmt.Errorf("preallocating %s: %w", lp, err)
	}
	if !replay {
		return l, nil
	}
	if err := l.replay(); err != nil {
		f.Close()
		return nil, fmt.Errorf("reading %s: %w", lp, err)
	}
	return l, nil
}

// prealloc writes the zeros of a new (or short) log and syncs them and
// the directory's entry.
func (l *walLog) prealloc() error {
	fi, err := l.f.Stat()
	if err != nil || fi.Size() >= l.size {
		return err
	}
	zeros := make([]byte, l.size-fi.Size())
	if _, err := l.f.WriteAt(zeros, fi.Size()); err != nil {
		return err
	}
	if err := l.f.Sync(); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(l.f.Name()))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// replay reads the records of the current epoch into the overlay.
func (l *walLog) replay() error {
	fi, err := l.f.Stat()
	if err != nil {
		return err
	}
	buf := make([]byte, max(l.size, fi.Size())) // a log of a larger size too
	n, err := l.f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return err
	}
	buf = buf[:n]
	for off := 0; off+recordHeader <= len(buf); {
		size := int(binary.BigEndian.Uint32(buf[off:]))
		sum := binary.BigEndian.Uint32(buf[off+4:])
		end := off + recordHeader + size
		if size == 0 || end > len(buf) || sum != l.sum(buf[off+recordHeader:end]) {
			break // the end of this epoch's records, or a torn append
		}
		r, err := parseRecord(buf[off+recordHeader : end])
		if err != nil {
			return err
		}
		var ix journal.Loan
		if r.op != opDelete {
			if err := json.Unmarshal(r.loan, &ix); err != nil {
				return fmt.Errorf("loan %q: %w", r.key, err)
			}
		}
		// Copied out of buf, which is dropped: the overlay keeps them.
		r.loan = append([]byte(nil), r.loan...)
		r.event = append([]byte(nil), r.event...)
		l.over.add(r, indexed(ix), 0)
		off = end
	}
	return nil
}

func (l *walLog) sum(payload []byte) uint32 {
	h := crc32.Update(0, castagnoli, binary.BigEndian.AppendUint64(nil, l.epoch))
	return crc32.Update(h, castagnoli, payload)
}

// seal fills rec's header for the current epoch; l.mu is held.
func (l *walLog) seal(rec []byte) {
	binary.BigEndian.PutUint32(rec, uint32(len(rec)-recordHeader))
	binary.BigEndian.PutUint32(rec[4:], l.sum(rec[recordHeader:]))
}

// write appends rec (sealed) at off; l.mu is held. It returns the written
// count the caller's sync must cover. A failed append fails the log.
func (l *walLog) write(rec []byte) (uint64, error) {
	if _, err := l.f.WriteAt(rec, l.off); err != nil {
		l.failed = fmt.Errorf("bolt store: appending to %s: %w", l.f.Name(), err)
		return 0, l.failed
	}
	if l.dirty < 0 {
		l.dirty = l.off
	}
	l.off += int64(len(rec))
	l.written += uint64(len(rec))
	return l.written, nil
}

// fits says whether a record of n bytes fits after off; l.mu is held.
func (l *walLog) fits(n int) bool { return l.off+int64(n) <= l.size }

// syncTo returns once the log is synced past written: a sync started after
// the caller's write covers it, and the writers that wait meanwhile share
// the next one. A failed sync fails the log: the kernel may have dropped
// the pages it could not write, so no later sync would vouch for them.
func (l *walLog) syncTo(written uint64) error {
	if l.synced.Load() >= written {
		return nil
	}
	l.smu.Lock()
	defer l.smu.Unlock()
	if l.synced.Load() >= written {
		return nil
	}
	l.mu.Lock()
	if l.failed != nil {
		defer l.mu.Unlock()
		return l.failed
	}
	target := l.written
	l.syncs++
	l.countDirty()
	l.mu.Unlock()
	if err := datasync(l.f); err != nil {
		l.mu.Lock()
		l.failed = fmt.Errorf("bolt store: syncing %s: %w", l.f.Name(), err)
		l.mu.Unlock()
		return err
	}
	l.synced.Store(target)
	return nil
}

// countDirty adds the pages appended to since the last sync to pages;
// l.mu is held.
func (l *walLog) countDirty() {
	if l.dirty >= 0 && l.off > l.dirty {
		l.pages += (l.off-1)/4096 - l.dirty/4096 + 1
	}
	l.dirty = -1
}

// reset starts the log again after a checkpoint committed; l.mu is held.
func (l *walLog) reset() {
	l.countDirty()
	l.epoch++
	l.off = 0
	l.over = newOverlay()
}

// walEpoch reads the log's epoch from the meta bucket (ok false: the
// file never had a log).
func walEpoch(tx *bbolt.Tx) (epoch uint64, ok bool) {
	if v := tx.Bucket(bucketMeta).Get(keyWALEpoch); len(v) == 8 {
		return binary.BigEndian.Uint64(v), true
	}
	return 0, false
}

// indexed is the part of r the overlay filters on, copied: the caller
// keeps r's pointers, and reads decode the record's JSON afresh.
func indexed(r journal.Loan) journal.Loan {
	ix := journal.Loan{ID: r.ID, Provider: r.Provider, Patron: r.Patron, Status: r.Status}
	if r.ExpiresAt != nil {
		t := *r.ExpiresAt
		ix.ExpiresAt = &t
	}
	return ix
}
