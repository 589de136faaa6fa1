package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
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
// finds it, until a checkpoint commits it into bolt.
//
// The file is preallocated (zeros written and synced once), so that an
// append changes no file size and its sync flushes data only. It has two
// halves, and the log is written in passes, numbered: pass n fills half
// n%2 from its start. When a half is full, its pass is frozen and the next
// begins in the other half, while a checkpoint commits the frozen pass
// into bolt in the background, its number with it (the meta bucket's
// wal_epoch: the last pass bolt has). A pass begins only in a half whose
// previous pass is in bolt, so writers never wait for a checkpoint unless
// a whole half fills while one runs. A record is
//
//	length uint32 | crc32c(pass, payload) uint32 | payload
//	payload: 'P' | key | loan JSON                                 a loan written
//	         'D' | key                                             a loan deleted
//	         'A' | key | loan JSON | seq | dedupe key | event JSON  Apply
//
// where each field but the last is prefixed by its length (uvarint; seq is
// the uvarint itself). Summing a record with its pass number makes an old
// pass's records in a reused half fail their checksum: no half is ever
// rewritten. Replay, at open, reads the passes after wal_epoch (at most
// two: the frozen one and the one after it), each until a zero length or a
// bad checksum (a torn append), commits them into bolt and goes on two
// passes later, past any pass a crash may have left half written.

const (
	// walSize is the preallocated size: halves of about 1,700 checkouts
	// each, a checkpoint's worth, and little to write at a file's first
	// open or to take on a small disk.
	walSize      = 2 << 20
	opPut        = 'P'
	opDelete     = 'D'
	opApply      = 'A'
	recordHeader = 8
)

var (
	keyWALEpoch = []byte("wal_epoch")
	keyWALSize  = []byte("wal_size")
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

// size is the length of the record, header included.
func (r walRecord) size() int {
	n := recordHeader + 1 + uvarintLen(uint64(len(r.key))) + len(r.key)
	switch r.op {
	case opPut:
		n += len(r.loan)
	case opApply:
		n += uvarintLen(uint64(len(r.loan))) + len(r.loan) + uvarintLen(r.seq) +
			uvarintLen(uint64(len(r.dedupe))) + len(r.dedupe) + len(r.event)
	}
	return n
}

// uvarintLen is the length of x as a uvarint.
func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// appendTo appends the record to p, with room for its header, which seal
// fills.
func (r walRecord) appendTo(p []byte) []byte {
	p = append(p, make([]byte, recordHeader)...)
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
	mu   sync.Mutex // guards the fields below
	cond sync.Cond  // on mu: a frozen pass committed (or failed to)
	// epoch is the pass being written, off where its next record goes in
	// its half.
	epoch   uint64
	off     int64
	written uint64 // bytes appended since open: what a sync covers
	over    *overlay
	// frozen is the previous pass, being committed into bolt (nil: none);
	// ckptErr the failure of its last commit, gen the count of passes
	// committed and dropped from memory.
	frozen      *overlay
	frozenEpoch uint64
	ckptErr     error
	gen         atomic.Uint64 // written under mu; Apply reads it without
	kick        chan struct{} // wakes the checkpointer
	nextSeq     uint64        // the next event's number
	// failed, once set, refuses every write: an append or a sync that
	// failed leaves what is on disk unknown (see Decisions).
	failed  error
	closed  bool // Close has begun
	stopped bool // the checkpointer is told to stop (kick is closed)
	// queued holds the records appended but not written yet, free the
	// buffers of spans written since, for the next; pages counts the 4 KiB
	// pages the syncs wrote, syncs the syncs.
	queued []span
	free   [][]byte
	pages  int64
	syncs  int64

	smu     sync.Mutex    // guards syncing
	syncing chan struct{} // closed when the sync in flight ends (nil: none)
	synced  atomic.Uint64 // written covered by the last sync
	waiting atomic.Int32  // writers in syncTo
}

// walPath is the log's file beside the bolt file at path.
func walPath(path string) string { return path + "-wal" }

// openWAL opens (or creates) the log of the bolt file at path, whose
// last pass in bolt is epoch, and, if replay, reads the passes after it
// as they were written, in halves of a log of replaySize bytes; the caller
// commits them. From then on the log is of size bytes. A file that never
// kept an epoch never had a log: a log found beside it is not its own, and
// is not read.
func openWAL(path string, size, replaySize int64, epoch uint64, replay bool) (*walLog, error) {
	lp := walPath(path)
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	l := &walLog{f: f, size: size &^ 1, epoch: epoch, over: newOverlay(), kick: make(chan struct{}, 1)}
	l.cond.L = &l.mu
	if err := l.prealloc(); err != nil {
		f.Close()
		return nil, fmt.Errorf("preallocating %s: %w", lp, err)
	}
	if !replay {
		return l, nil
	}
	if err := l.replay(replaySize &^ 1); err != nil {
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

// replay reads the two passes after l.epoch, written in a log of size
// bytes, into the overlay, in order.
func (l *walLog) replay(size int64) error {
	buf := make([]byte, size/2)
	for pass := l.epoch + 1; pass <= l.epoch+2; pass++ {
		n, err := l.f.ReadAt(buf, int64(pass%2)*(size/2))
		if err != nil && err != io.EOF {
			return err
		}
		if err := l.replayPass(pass, buf[:n]); err != nil {
			return err
		}
	}
	return nil
}

// replayPass reads the records of pass from buf, its half.
func (l *walLog) replayPass(pass uint64, buf []byte) error {
	for off := 0; off+recordHeader <= len(buf); {
		size := int(binary.BigEndian.Uint32(buf[off:]))
		sum := binary.BigEndian.Uint32(buf[off+4:])
		end := off + recordHeader + size
		if size == 0 || end > len(buf) || sum != sumOf(pass, buf[off+recordHeader:end]) {
			return nil // the end of this pass's records, or a torn append
		}
		r, err := parseRecord(buf[off+recordHeader : end])
		if err != nil {
			return err
		}
		var ix journal.Loan
		if r.op != opDelete {
			if ix, err = decodeIndexed(r.loan); err != nil {
				return fmt.Errorf("loan %q: %w", r.key, err)
			}
		}
		// Copied out of buf, which is reused: the overlay keeps them.
		r.loan = bytes.Clone(r.loan)
		r.event = bytes.Clone(r.event)
		l.over.add(r, ix, 0)
		off = end
	}
	return nil
}

// base is the file offset of pass's half.
func (l *walLog) base(pass uint64) int64 { return int64(pass%2) * (l.size / 2) }

func sumOf(pass uint64, payload []byte) uint32 {
	h := crc32.Update(0, castagnoli, binary.BigEndian.AppendUint64(nil, pass))
	return crc32.Update(h, castagnoli, payload)
}

// seal fills rec's header for the current epoch; l.mu is held.
func (l *walLog) seal(rec []byte) {
	binary.BigEndian.PutUint32(rec, uint32(len(rec)-recordHeader))
	binary.BigEndian.PutUint32(rec[4:], sumOf(l.epoch, rec[recordHeader:]))
}

// write appends r at off, sealed; l.mu is held, and the pass's half has
// room for it (fits(r.size())). It only queues the record: the sync that
// covers it writes it (syncTo), so that the writers of one sync share one
// write too. It returns the written count the caller's sync must cover.
func (l *walLog) write(r walRecord) uint64 {
	at := l.base(l.epoch) + l.off
	n := len(l.queued)
	if n == 0 || l.queued[n-1].at+int64(len(l.queued[n-1].b)) != at {
		var b []byte
		if k := len(l.free); k > 0 {
			b, l.free = l.free[k-1], l.free[:k-1]
		}
		l.queued = append(l.queued, span{at: at, b: b})
		n++
	}
	sp := &l.queued[n-1]
	start := len(sp.b)
	sp.b = r.appendTo(sp.b)
	l.seal(sp.b[start:])
	size := len(sp.b) - start
	l.off += int64(size)
	l.written += uint64(size)
	return l.written
}

// span is a run of records to write at a file offset.
type span struct {
	at int64
	b  []byte
}

// fits says whether a record of n bytes fits in the pass's half after
// off; l.mu is held.
func (l *walLog) fits(n int) bool { return l.off+int64(n) <= l.size/2 }

// syncTo returns once the log is written and synced past written: a sync
// started after the caller's append covers it, and the writers that wait
// meanwhile share the next one (its write and its sync). One writer at a
// time leads a sync; the others wait for it to end, all woken at once:
// those it covered return, and one of the rest leads the next. Spans are
// written in the order they were appended, so a half written again after
// its pass was committed is never overwritten by that pass's records. A
// failed write or sync fails the log: the kernel may have dropped the
// pages it could not write, so no later sync would vouch for them.
func (l *walLog) syncTo(written uint64) error {
	if l.synced.Load() >= written {
		return nil
	}
	l.waiting.Add(1)
	defer l.waiting.Add(-1)
	for {
		l.smu.Lock()
		if l.synced.Load() >= written {
			l.smu.Unlock()
			return nil
		}
		if l.syncing != nil {
			done := l.syncing
			l.smu.Unlock()
			<-done
			continue
		}
		done := make(chan struct{})
		l.syncing = done
		l.smu.Unlock()
		err := l.sync()
		l.smu.Lock()
		l.syncing = nil
		l.smu.Unlock()
		close(done)
		if err != nil {
			return err
		}
	}
}

// sync writes the queued spans and syncs them; its caller leads the sync.
func (l *walLog) sync() error {
	if l.waiting.Load() > 1 {
		// Others wait for this sync too: let the writers that are about
		// to append run first, so that one sync covers them as well. A
		// sync costs the kernel about as much CPU as a checkout costs
		// the host; alone, a writer does not wait.
		runtime.Gosched()
	}
	l.mu.Lock()
	if l.failed != nil {
		defer l.mu.Unlock()
		return l.failed
	}
	target, spans := l.written, l.queued
	l.queued = nil
	l.syncs++
	for _, sp := range spans {
		end := sp.at + int64(len(sp.b))
		l.pages += (end-1)/4096 - sp.at/4096 + 1
	}
	l.mu.Unlock()
	err := l.writeSpans(spans)
	if err == nil {
		err = datasync(l.f)
	}
	l.mu.Lock()
	for _, sp := range spans {
		// Written: its buffer takes the next records (a few are kept,
		// none larger than a half).
		if len(l.free) < 4 && int64(cap(sp.b)) <= l.size/2 {
			l.free = append(l.free, sp.b[:0])
		}
	}
	if err != nil {
		// The leader's writers get the error every later writer gets.
		err = fmt.Errorf("bolt store: writing %s: %w", l.f.Name(), err)
		l.failed = err
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	l.synced.Store(target)
	return nil
}

func (l *walLog) writeSpans(spans []span) error {
	for _, sp := range spans {
		if _, err := l.f.WriteAt(sp.b, sp.at); err != nil {
			return err
		}
	}
	return nil
}

// walEpoch reads the last pass of the log bolt has from the meta bucket
// (ok false: the file never had a log), and the size of the log the
// passes after it are written in (0: not recorded).
func walEpoch(tx *bbolt.Tx) (epoch uint64, size int64, ok bool) {
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keyWALSize); len(v) == 8 {
		size = int64(binary.BigEndian.Uint64(v))
	}
	if v := meta.Get(keyWALEpoch); len(v) == 8 {
		return binary.BigEndian.Uint64(v), size, true
	}
	return 0, size, false
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
