package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/lendgate/lendgate/host/journal"
)

// Replay: how the passes after bolt's last are read at open, and how a
// record a crash cut short is told from damage.
//
// What a crash can leave: the log's writes are issued by one sync at a
// time, each sync's writes before its fdatasync, so a crash leaves every
// write before the last sync whole and, of the writes after it (the last
// group, never acknowledged), any part: some sectors written, the others
// as they were. And what they were is zeros: a pass begins only in a half
// whose earlier pass was committed into bolt and then zeroed (walLog.clean),
// the rest of the half first and its first sector last, each synced. So in
// the half of a pass, past its last whole record, a crash leaves zeros,
// except within the one record it cut short. Hence, at the first record
// that is not whole (Q), with Z the end of the half's last non-zero byte:
//
//   - Z <= Q: the pass ends at Q (the zeros of its half);
//   - a record cut short: its header holds and its end byte is not
//     written (Z < its end), or a whole sector inside it is zeros with
//     nothing after it, or its header does not hold and nothing is written
//     past the header's bytes. The pass ends at Q: that record was never
//     acknowledged, nor anything after it;
//   - anything else is damage: a record with every byte written that fails
//     its checksum (a flipped bit), a record with anything written after it
//     (a later record of the pass, or any non-zero byte: a crash writes
//     nothing past the record it cuts), a record of another pass where this
//     pass's belong (a log that is not this file's).
//
// A record's first byte (0xA7) and last (0x5A) are never zero, and its
// header has a checksum of its own, so no whole record reads as cut short.
// Of the two passes after bolt's, the first must end whole when the second
// holds anything (a crash cuts one write: the second pass's records were
// written after the first's last). A half whose first sector holds a
// record of an earlier pass is one whose zeroing a crash cut short: its
// pass never began, and it is not read (a pass begins only once its whole
// half, first sector last, is zeros).

// scanned is a record read back, with its loan's indexed members.
type scanned struct {
	r  walRecord
	ix journal.Loan
}

// passScan is what the half of one pass holds.
type passScan struct {
	records  []scanned // the whole records, in order; their slices alias the half
	end      int       // the offset after the last of them
	torn     bool      // a record cut short follows them
	notBegun bool      // the half holds an earlier pass: this one never began
	damage   *damageAt
}

// damageAt is where a pass's half is damaged, and what follows it.
type damageAt struct {
	off    int // in the half
	reason string
	after  int    // whole records of the pass found after it
	maxSeq uint64 // the highest event number among them
	// unread is how many bytes after it no whole record accounts for.
	unread int
}

// scanPass reads the half h of pass.
func scanPass(pass uint64, h []byte) passScan {
	var ps passScan
	if hd, ok := readHeader(h); ok && hd.pass < pass {
		ps.notBegun = true
		return ps
	}
	off := 0
	var hd recHeader
	var hok bool
	for {
		hd, hok = readHeader(h[off:])
		if !hok || hd.pass != pass || off+hd.size() > len(h) {
			break
		}
		r, ok, err := wholeRecord(h[off:off+hd.size()], hd)
		if !ok {
			break
		}
		var ix journal.Loan
		if err == nil && r.op != opDelete {
			ix, err = decodeIndexed(r.loan)
		}
		if err != nil {
			ps.damage = damaged(pass, h, off, fmt.Sprintf("a record whose checksum holds does not decode: %v", err))
			return ps
		}
		ps.records = append(ps.records, scanned{r, ix})
		off += hd.size()
	}
	ps.end = off
	z := nonZeroEnd(h)
	if z <= off {
		return ps
	}
	var reason string
	switch {
	case hok && hd.pass != pass:
		reason = fmt.Sprintf("a record of pass %d where pass %d's belong: the log is not this file's", hd.pass, pass)
	case hok && off+hd.size() > len(h):
		reason = "a record longer than its half"
	case hok:
		end := off + hd.size()
		hole := holeIn(h, off, end)
		if z < end || (z == end && hole) {
			ps.torn = true
			return ps
		}
		reason = "checksum mismatch"
		if hole {
			reason = "a sector of it is missing"
		}
		if z > end && !anyRecord(pass, h, off+1) {
			reason += ", and data follows it"
		}
	case z <= off+recordHeader:
		ps.torn = true
		return ps
	default:
		reason = "no record header where the log goes on"
	}
	ps.damage = damaged(pass, h, off, reason)
	return ps
}

// wholeRecord checks the record b whose header hd holds: ok when its
// checksum and end byte do; err when it then does not decode.
func wholeRecord(b []byte, hd recHeader) (r walRecord, ok bool, err error) {
	payload := b[recordHeader : len(b)-1]
	if b[len(b)-1] != recordEnd || crc32.Checksum(payload, castagnoli) != hd.sum {
		return r, false, nil
	}
	r, err = parseRecord(payload)
	return r, true, err
}

// damaged describes damage at off in the half h of pass: it counts the
// whole records of the pass found anywhere after it (which cannot be
// trusted: what came between them is lost), their highest event number,
// and the bytes after it no whole record accounts for.
func damaged(pass uint64, h []byte, off int, reason string) *damageAt {
	d := &damageAt{off: off, reason: reason}
	after, maxSeq, whole := recordsIn(pass, h, off+1)
	d.after, d.maxSeq = after, maxSeq
	d.unread = max(0, nonZeroEnd(h)-off-whole)
	return d
}

// recordsIn finds the whole records of pass in h from offset from on,
// wherever they begin: how many, their highest event number, and how
// many bytes they take.
func recordsIn(pass uint64, h []byte, from int) (n int, maxSeq uint64, whole int) {
	for i := from; i+recordOverhead <= len(h); {
		j := bytes.IndexByte(h[i:len(h)-recordOverhead+1], recordMagic)
		if j < 0 {
			break
		}
		i += j
		hd, ok := readHeader(h[i:])
		if !ok || hd.pass != pass || i+hd.size() > len(h) {
			i++
			continue
		}
		r, ok, err := wholeRecord(h[i:i+hd.size()], hd)
		if !ok || err != nil {
			i++
			continue
		}
		n++
		if r.op == opApply {
			maxSeq = max(maxSeq, r.seq)
		}
		i += hd.size()
		whole += hd.size()
	}
	return n, maxSeq, whole
}

// anyRecord says whether a whole record of pass begins in h after from
// (the damage's description then counts them).
func anyRecord(pass uint64, h []byte, from int) bool {
	n, _, _ := recordsIn(pass, h, from)
	return n > 0
}

// holeIn says whether a whole sector within [from, to) of h is zeros.
func holeIn(h []byte, from, to int) bool {
	for s := (from + sector - 1) / sector * sector; s+sector <= to; s += sector {
		if nonZeroEnd(h[s:s+sector]) == 0 {
			return true
		}
	}
	return false
}

// nonZeroEnd is the offset after the last non-zero byte of b (0: none).
func nonZeroEnd(b []byte) int {
	i := len(b)
	for ; i >= 8; i -= 8 {
		if binary.LittleEndian.Uint64(b[i-8:i]) != 0 {
			break
		}
	}
	for ; i > 0 && b[i-1] == 0; i-- {
	}
	return i
}

// logScan is what replay found in the two passes after bolt's last.
type logScan struct {
	keep []scanned // the records to replay, in order
	// damage, when not nil, is where the log is damaged (its offset in
	// the file); dropped the whole records found after it, maxSeq their
	// highest event number, unread the bytes after it no whole record
	// accounts for.
	damage  *DamageError
	dropped int
	maxSeq  uint64
	unread  int
}

// scanLog reads the passes after epoch from img, a log of halves of half
// bytes, as written in the current format.
func scanLog(name string, img []byte, half int64, epoch uint64) logScan {
	var out logScan
	p1, p2 := epoch+1, epoch+2
	h1 := img[int64(p1%2)*half : int64(p1%2)*half+half]
	h2 := img[int64(p2%2)*half : int64(p2%2)*half+half]
	s1, s2 := scanPass(p1, h1), scanPass(p2, h2)
	second := func() (n int, maxSeq uint64, unread int) { // all of the second pass, dropped
		if s2.notBegun {
			return 0, 0, 0
		}
		n, maxSeq, whole := recordsIn(p2, h2, 0)
		return n, maxSeq, max(0, nonZeroEnd(h2)-whole)
	}
	fail := func(pass uint64, d *damageAt, also bool) {
		out.damage = &DamageError{Log: name, Offset: int64(pass%2)*half + int64(d.off), Pass: pass, Reason: d.reason}
		out.dropped, out.maxSeq, out.unread = d.after, d.maxSeq, d.unread
		if also {
			n, m, u := second()
			out.dropped, out.maxSeq, out.unread = out.dropped+n, max(out.maxSeq, m), out.unread+u
		}
		out.damage.After = out.dropped
	}
	out.keep = s1.records
	switch {
	case s1.damage != nil:
		fail(p1, s1.damage, true)
	case (s1.torn || s1.notBegun) && !s2.notBegun && nonZeroEnd(h2) > 0:
		// The crash cut a write of the first pass, yet the second holds
		// what was written after it.
		reason := fmt.Sprintf("its last record is cut short, yet pass %d after it holds data", p2)
		if s1.notBegun {
			reason = fmt.Sprintf("it never began, yet pass %d after it holds data", p2)
		}
		fail(p1, damaged(p1, h1, s1.end, reason), true)
	case s2.damage != nil:
		out.keep = append(out.keep, s2.records...)
		fail(p2, s2.damage, false)
	default:
		out.keep = append(out.keep, s2.records...)
	}
	return out
}

// scanLegacy reads the passes after epoch from img as an earlier build
// wrote them (length | crc32c(pass, payload) | payload), each until a
// zero length or a bad checksum: that format cannot tell damage from a
// cut write.
func scanLegacy(img []byte, half int64, epoch uint64) (logScan, error) {
	var out logScan
	for pass := epoch + 1; pass <= epoch+2; pass++ {
		buf := img[int64(pass%2)*half : int64(pass%2)*half+half]
		for off := 0; off+8 <= len(buf); {
			size := int(binary.BigEndian.Uint32(buf[off:]))
			end := off + 8 + size
			if size == 0 || end > len(buf) {
				break
			}
			h := crc32.Update(0, castagnoli, binary.BigEndian.AppendUint64(nil, pass))
			if binary.BigEndian.Uint32(buf[off+4:]) != crc32.Update(h, castagnoli, buf[off+8:end]) {
				break
			}
			r, err := parseRecord(buf[off+8 : end])
			var ix journal.Loan
			if err == nil && r.op != opDelete {
				ix, err = decodeIndexed(r.loan)
			}
			if err != nil {
				return out, fmt.Errorf("loan %q: %w", r.key, err)
			}
			out.keep = append(out.keep, scanned{r, ix})
			off = end
		}
	}
	return out, nil
}
