package memory

import "github.com/lendgate/lendgate/host/journal"

// eventChunk is how many events one chunk of an eventLog holds.
const eventChunk = 1024

// eventLog is the store's event log, indexed from 0 (event i has cursor
// i+1), in fixed chunks: appending never copies the events already kept, as
// one growing slice did (a long copy of pointerful memory, under the lock,
// every time it doubled).
type eventLog struct {
	chunks [][]eventEntry
	n      int
}

// eventEntry is an event and its dedupe key ("" for none), kept beside it
// so that a purge can forget the key.
type eventEntry struct {
	ev  journal.Event
	key string
}

func (l *eventLog) len() int { return l.n }

// at returns the entry of event i (0 ≤ i < len).
func (l *eventLog) at(i int) *eventEntry { return &l.chunks[i/eventChunk][i%eventChunk] }

func (l *eventLog) append(e eventEntry) {
	if l.n%eventChunk == 0 {
		l.chunks = append(l.chunks, make([]eventEntry, 0, eventChunk))
	}
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, e)
	l.n++
}

// dropBefore frees the chunks whose events all lie before i (purged ones:
// at is not called for them again).
func (l *eventLog) dropBefore(i int) {
	for c := range min(i/eventChunk, len(l.chunks)) {
		l.chunks[c] = nil
	}
}
