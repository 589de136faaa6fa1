package bolt

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/lendgate/lendgate/host/journal"
	"go.etcd.io/bbolt"
)

// The pending log: a checkout's first write (its loan, pending, before the
// distributor is called) is appended to a small file beside the bolt file
// and synced once, rather than committed to bolt, whose every commit syncs
// twice. The loan is kept in memory too, where the reads find it, until a
// bolt commit writes it (the checkout's second write, or a checkpoint).
//
// The file is preallocated (zeros written and synced once), so that an
// append changes no file size and its sync flushes data only. A record is
//
//	length uint32 | crc32c(epoch, payload) uint32 | payload
//	payload: op byte ('P' put, 'D' delete) | key length uvarint | key | loan JSON
//
// where epoch is a number the bolt file's meta bucket keeps. A checkpoint
// commits every loan the log still holds into bolt (as pending loans) and
// moves the epoch on in the same transaction: the records written before it
// then fail their checksum, and the log starts again at offset 0 with no
// rewrite. Replay, at open, reads records until a zero length or a bad
// checksum (a torn append), and checkpoints what it read.

const (
	// pendingLogSize is the preallocated size: a couple of thousand
	// checkouts between checkpoints (each a commit of the loans then in
	// flight), and little to write at a file's first open.
	pendingLogSize = 1 << 20
	opPut          = 'P'
	opDelete       = 'D'
	recordHeader   = 8
)

var (
	keyPendingEpoch = []byte("pending_log_epoch")
	castagnoli      = crc32.MakeTable(crc32.Castagnoli)
)

// pendingLoan is a loan only the pending log holds.
type pendingLoan struct {
	loan journal.Loan
	json []byte
}

// pendingLog is a bolt file's pending log and the loans it holds.
type pendingLog struct {
	f  *os.File
	mu sync.Mutex // guards the fields below; held across a checkpoint
	// off is where the next record goes; epoch what records are summed with.
	off     int64
	epoch   uint64
	written uint64 // bytes appended since open: what a sync covers
	loans   map[string]pendingLoan
	// seen holds the keys of the loans this epoch has a put record of,
	// even once bolt has the loan: deleting one writes a tombstone, or the
	// replay after a crash would bring the put back.
	seen map[string]struct{}
	// pages counts the 4 KiB pages the syncs flushed (the span appended
	// since the previous one, from dirty), syncs the syncs.
	pages int64
	syncs int64
	dirty int64 // offset of the first append not synced yet; -1: none

	smu    sync.Mutex // one sync at a time; writers queued behind it share the next
	synced uint64     // (smu) written covered by the last sync
}

// pendingLogPath is the log's file beside the bolt file at path.
func pendingLogPath(path string) string { return path + "-pending" }

// openPendingLog opens (or creates) the log of the bolt file at path and,
// if replay, reads the loans it holds; the caller checkpoints them. A file
// that never kept an epoch never had a log: a log found beside it is not
// its own, and is not read.
func openPendingLog(path string, epoch uint64, replay bool) (*pendingLog, error) {
	lp := pendingLogPath(path)
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	l := &pendingLog{f: f, epoch: epoch, loans: map[string]pendingLoan{}, seen: map[string]struct{}{}, dirty: -1}
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
func (l *pendingLog) prealloc() error {
	fi, err := l.f.Stat()
	if err != nil || fi.Size() >= pendingLogSize {
		return err
	}
	zeros := make([]byte, pendingLogSize-fi.Size())
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

// replay reads the records of the current epoch into loans.
func (l *pendingLog) replay() error {
	buf := make([]byte, pendingLogSize)
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
		if err := l.apply(buf[off+recordHeader : end]); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// apply applies one record's payload to loans.
func (l *pendingLog) apply(p []byte) error {
	op := p[0]
	klen, n := binary.Uvarint(p[1:])
	if n <= 0 || 1+n+int(klen) > len(p) {
		return errors.New("a record's key overruns it")
	}
	key := string(p[1+n : 1+n+int(klen)])
	switch op {
	case opPut:
		v := p[1+n+int(klen):]
		var r journal.Loan
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("loan %q: %w", key, err)
		}
		l.loans[key] = pendingLoan{loan: r, json: append([]byte{}, v...)}
	case opDelete:
		delete(l.loans, key)
	default:
		return fmt.Errorf("a record of op %q", op)
	}
	return nil
}

func (l *pendingLog) sum(payload []byte) uint32 {
	h := crc32.Update(0, castagnoli, binary.BigEndian.AppendUint64(nil, l.epoch))
	return crc32.Update(h, castagnoli, payload)
}

// record encodes op on key (and v) as one record; l.mu is held.
func (l *pendingLog) record(op byte, key string, v []byte) []byte {
	p := make([]byte, recordHeader, recordHeader+1+binary.MaxVarintLen64+len(key)+len(v))
	p = append(p, op)
	p = binary.AppendUvarint(p, uint64(len(key)))
	p = append(p, key...)
	p = append(p, v...)
	binary.BigEndian.PutUint32(p, uint32(len(p)-recordHeader))
	binary.BigEndian.PutUint32(p[4:], l.sum(p[recordHeader:]))
	return p
}

// write appends rec at off; l.mu is held. It returns the written count
// the caller's sync must cover.
func (l *pendingLog) write(rec []byte) (uint64, error) {
	if _, err := l.f.WriteAt(rec, l.off); err != nil {
		return 0, err
	}
	if l.dirty < 0 {
		l.dirty = l.off
	}
	l.off += int64(len(rec))
	l.written += uint64(len(rec))
	return l.written, nil
}

// fits says whether a record of n bytes fits after off; l.mu is held.
func (l *pendingLog) fits(n int) bool { return l.off+int64(n) <= pendingLogSize }

// syncTo returns once the log is synced past written: a sync started after
// the caller's write covers it, and the writers that wait meanwhile share
// the next one.
func (l *pendingLog) syncTo(written uint64) error {
	l.smu.Lock()
	defer l.smu.Unlock()
	if l.synced >= written {
		return nil
	}
	l.mu.Lock()
	target := l.written
	l.syncs++
	l.countDirty()
	l.mu.Unlock()
	if err := datasync(l.f); err != nil {
		return err
	}
	l.synced = target
	return nil
}

// snapshot copies the loans the log holds, for a read to merge.
func (l *pendingLog) snapshot() []pendingLoan {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Collect(maps.Values(l.loans))
}

// get returns the loan of key if only the log holds it.
func (l *pendingLog) get(key string) (pendingLoan, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.loans[key]
	return p, ok
}

// settled forgets key's loan once a bolt commit has written it, unless
// the log took a newer record of it meanwhile (then that one stands).
func (l *pendingLog) settled(key string, was []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.loans[key]; ok && &p.json[0] == &was[0] {
		delete(l.loans, key)
	}
}

// checkpointTx writes the loans the log holds into bolt as pending loans
// (those bolt has a record of are newer there) and moves the epoch on;
// l.mu is held. After its commit, call reset.
func (l *pendingLog) checkpointTx(tx *bbolt.Tx, loans map[string]pendingLoan) error {
	for key, p := range loans {
		if string(loanKey(p.loan.Provider, p.loan.ID)) != key {
			return fmt.Errorf("pending log: loan %q recorded under key %q", p.loan.ID, key)
		}
		if loanJSON(tx, p.loan.Provider, p.loan.ID) != nil {
			continue
		}
		if err := putLoanJSON(tx, p.loan, p.json); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketMeta).Put(keyPendingEpoch, binary.BigEndian.AppendUint64(nil, l.epoch+1))
}

// countDirty adds the pages appended to since the last sync to pages;
// l.mu is held.
func (l *pendingLog) countDirty() {
	if l.dirty >= 0 && l.off > l.dirty {
		l.pages += (l.off-1)/4096 - l.dirty/4096 + 1
	}
	l.dirty = -1
}

// reset starts the log again after a checkpoint committed; l.mu is held.
func (l *pendingLog) reset() {
	l.countDirty()
	l.epoch++
	l.off = 0
	clear(l.loans)
	clear(l.seen)
}

// pendingEpoch reads the log's epoch from the meta bucket (ok false: the
// file never had a log).
func pendingEpoch(tx *bbolt.Tx) (epoch uint64, ok bool) {
	if v := tx.Bucket(bucketMeta).Get(keyPendingEpoch); len(v) == 8 {
		return binary.BigEndian.Uint64(v), true
	}
	return 0, false
}
