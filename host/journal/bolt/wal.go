package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
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
// wal_epoch: the last pass bolt has), and then writes zeros over what the
// pass wrote (the rest of its half, then its first sector, each synced),
// so that every pass begins in a half of zeros. A pass begins only in a
// half so cleaned, so writers never wait for a checkpoint unless a whole
// half fills while one runs. A record is
//
//	0xA7 | pass uint64 | length uint32 | crc32c(payload) uint32 |
//	crc32c(the 17 bytes before) uint32 | payload | 0x5A
//	payload: 'P' | key | loan JSON                                 a loan written
//	         'D' | key                                             a loan deleted
//	         'A' | key | loan JSON | seq | dedupe key | event JSON  Apply
//
// where each field of the payload but the last is prefixed by its length
// (uvarint; seq is the uvarint itself). The header has a checksum of its
// own, so a record's length is trusted before its payload is read, and
// the first and last bytes of a record are never zero. Replay (replay.go)
// tells a record a crash cut short from damage: a crash can leave only the
// last write unfinished, and what it did not write of it is still zeros;
// a record that fails its checksum with every byte written, or with
// anything written after it, is damage, and the journal is not opened.

const (
	// walSize is the preallocated size: halves of about 1,700 checkouts
	// each, a checkpoint's worth, and little to write at a file's first
	// open or to take on a small disk.
	walSize  = 2 << 20
	opPut    = 'P'
	opDelete = 'D'
	opApply  = 'A'

	recordMagic    = 0xA7
	recordEnd      = 0x5A
	recordHeader   = 21 // magic, pass, length, payload's checksum, header's checksum
	recordOverhead = recordHeader + 1
	// sector is the unit a disk writes whole: a crash leaves each sector
	// of a write either written or as it was. Halves begin on one.
	sector = 512
)

var (
	keyWALEpoch  = []byte("wal_epoch")
	keyWALSize   = []byte("wal_size")
	keyWALClosed = []byte("wal_closed")
	keyWALFormat = []byte("wal_format")
	castagnoli   = crc32.MakeTable(crc32.Castagnoli)
)

// walFormat is the format of the log's records this code writes (kept in
// the meta bucket as wal_format). A file with a wal_epoch and no format
// had its log written by an earlier build, in records of length, checksum
// and payload only (replay.go reads them once, at open).
const walFormat = 2

// walRecord is one record's payload, decoded.
type walRecord struct {
	op     byte
	key    string // the loan's (loanKey)
	loan   []byte // its JSON; 'P' and 'A'
	seq    uint64 // the event's number; 'A'
	dedupe string // 'A'
	event  []byte // the event's stored record (numbered); 'A'
}

// size is the length of the record, header and end byte included.
func (r walRecord) size() int {
	n := recordOverhead + 1 + uvarintLen(uint64(len(r.key))) + len(r.key)
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
// fills, and its end byte.
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
	return append(p, recordEnd)
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
	if len(p) == 0 {
		return walRecord{}, errShortRecord
	}
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
	f    logFile
	size int64      // the preallocated size (walSize; smaller in tests)
	mu   sync.Mutex // guards the fields below
	cond sync.Cond  // on mu: a frozen pass committed (or failed to), a half cleaned
	// epoch is the pass being written, off where its next record goes in
	// its half.
	epoch   uint64
	off     int64
	written uint64 // bytes appended since open: what a sync covers
	over    *overlay
	// frozen is the previous pass, being committed into bolt (nil: none),
	// frozenOff how far it wrote into its half and frozenWritten the
	// written count past its last record; ckptErr the failure of its last
	// commit, gen the count of passes committed and dropped from memory.
	frozen        *overlay
	frozenEpoch   uint64
	frozenOff     int64
	frozenWritten uint64
	ckptErr       error
	gen           atomic.Uint64 // written under mu; Apply reads it without
	// ready is the last pass that may begin: its half holds zeros only.
	ready   uint64
	kick    chan struct{} // wakes the checkpointer
	nextSeq uint64        // the next event's number
	// failed, once set, refuses every write: an append or a sync that
	// failed leaves what is on disk unknown (see Decisions).
	failed  error
	closed  bool // Close has begun
	stopped bool // the checkpointer is told to stop (kick is closed)
	// queued holds the records appended but not written yet, free the
	// buffers of spans written since, for the next; pages counts the 4 KiB
	// pages the syncs (and the cleaning of halves) wrote, syncs the syncs.
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

func newWALLog(f logFile, size int64) *walLog {
	l := &walLog{f: f, size: size, over: newOverlay(), kick: make(chan struct{}, 1)}
	l.cond.L = &l.mu
	return l
}

// logSize rounds a log's size down to two halves of whole sectors.
func logSize(n int64) int64 { return n &^ (2*sector - 1) }

// prealloc writes the zeros of a new (or short) log and syncs them; the
// caller syncs the directory's entry.
func (l *walLog) prealloc() error {
	n, err := l.f.Size()
	if err != nil || n >= l.size {
		return err
	}
	if err := writeZeros(l.f, n, l.size); err != nil {
		return err
	}
	return l.f.Datasync()
}

// zeros is what writeZeros writes, a chunk at a time.
var zeros = make([]byte, 64<<10)

// writeZeros writes zeros over [from, to) of f.
func writeZeros(f logFile, from, to int64) error {
	for from < to {
		n := min(to-from, int64(len(zeros)))
		if _, err := f.WriteAt(zeros[:n], from); err != nil {
			return err
		}
		from += n
	}
	return nil
}

// base is the file offset of pass's half.
func (l *walLog) base(pass uint64) int64 { return int64(pass%2) * (l.size / 2) }

// clean writes zeros over the off bytes pass wrote into its half (the pass
// is in bolt, and its records all written), for the pass after the next:
// the rest of them first, then its first sector, each synced, so that a
// half whose first sector is zeros holds zeros only (replay.go).
func (l *walLog) clean(pass uint64, off int64) error {
	base := l.base(pass)
	step := func(from, to int64) error {
		if from >= to {
			return nil
		}
		if err := writeZeros(l.f, from, to); err != nil {
			return err
		}
		l.mu.Lock()
		l.pages += (to-1)/4096 - from/4096 + 1
		l.syncs++
		l.mu.Unlock()
		return l.f.Datasync()
	}
	err := step(base+sector, base+off)
	if err == nil {
		err = zeroFirst(l.f, base, min(off, sector))
		if err == nil {
			l.mu.Lock()
			l.pages++
			l.syncs++
			l.mu.Unlock()
			err = l.f.Datasync()
		}
	}
	if err != nil {
		return fmt.Errorf("bolt store: cleaning %s: %w", l.f.Name(), err)
	}
	return nil
}

// zeroFirst writes zeros over the first n bytes of a half at base (at
// most a sector) with its first record's header last: a write cut short
// anywhere leaves either that header whole (the half still reads as the
// earlier pass's) or nothing but part of it (it reads as a pass that
// wrote nothing whole).
func zeroFirst(f logFile, base, n int64) error {
	if n > recordHeader {
		if err := writeZeros(f, base+recordHeader, base+n); err != nil {
			return err
		}
	}
	return writeZeros(f, base, base+min(n, recordHeader))
}

// seal fills rec's header for the current epoch; l.mu is held.
func (l *walLog) seal(rec []byte) { sealRecord(rec, l.epoch) }

// sealRecord fills the header of rec, a record of pass.
func sealRecord(rec []byte, pass uint64) {
	payload := rec[recordHeader : len(rec)-1]
	rec[0] = recordMagic
	binary.BigEndian.PutUint64(rec[1:], pass)
	binary.BigEndian.PutUint32(rec[9:], uint32(len(payload)))
	binary.BigEndian.PutUint32(rec[13:], crc32.Checksum(payload, castagnoli))
	binary.BigEndian.PutUint32(rec[17:], crc32.Checksum(rec[:17], castagnoli))
}

// recHeader is a record's header, read.
type recHeader struct {
	pass uint64
	n    int    // the payload's length
	sum  uint32 // the payload's checksum
}

// size is the length of the record, header and end byte included.
func (h recHeader) size() int { return recordOverhead + h.n }

// readHeader reads the header at the start of b: ok when its magic byte
// and checksum hold.
func readHeader(b []byte) (h recHeader, ok bool) {
	if len(b) < recordHeader || b[0] != recordMagic ||
		crc32.Checksum(b[:17], castagnoli) != binary.BigEndian.Uint32(b[17:]) {
		return h, false
	}
	return recHeader{pass: binary.BigEndian.Uint64(b[1:]), n: int(binary.BigEndian.Uint32(b[9:])),
		sum: binary.BigEndian.Uint32(b[13:])}, true
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
		err = l.f.Datasync()
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

// walMeta is what bolt's meta bucket says of the log.
type walMeta struct {
	epoch uint64 // the last pass of the log bolt has
	size  int64  // the size of the log the passes after it are written in (0: not recorded)
	ok    bool   // the file has had a log
	// closed: the file was closed cleanly after its last pass, so the
	// log holds nothing the file lacks.
	closed bool
	format uint64 // the log's record format (0: an earlier build's)
}

func readWALMeta(tx *bbolt.Tx) walMeta {
	var m walMeta
	meta := tx.Bucket(bucketMeta)
	u64 := func(k []byte) (uint64, bool) {
		v := meta.Get(k)
		if len(v) != 8 {
			return 0, false
		}
		return binary.BigEndian.Uint64(v), true
	}
	if v, ok := u64(keyWALSize); ok {
		m.size = int64(v)
	}
	m.epoch, m.ok = u64(keyWALEpoch)
	closed, ok := u64(keyWALClosed)
	m.closed = ok && m.ok && closed == m.epoch
	m.format, _ = u64(keyWALFormat)
	return m
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
