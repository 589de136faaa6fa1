package bolt

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/lendgate/lendgate/host/journal"
)

// boltEvent is an event encoded before its number is known: JSON whose
// leading id and cursor members are empty.
type boltEvent []byte

// boltEventHead is how an journal.Event with no id and no cursor starts when
// encoded: the members journal.Event declares first.
var boltEventHead = []byte(`{"id":"","cursor":"",`)

// encodeBoltEvent encodes e (its ID and Cursor are ignored), outside the
// transaction: numbered splices them in once the number is drawn.
func encodeBoltEvent(e journal.Event) (boltEvent, error) {
	e.ID, e.Cursor = "", ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, boltEventHead) {
		return nil, errors.New("host: an journal.Event no longer encodes its id and cursor first")
	}
	return boltEvent(b), nil
}

// boltDedupeMember is the member of a stored event that keeps its dedupe
// key, for PurgeEvents to delete the key with the event. It is the bolt
// file's own (journal.Event has no such field, and readers decoding into
// one ignore it): keeping the key in the event's record rather than in an
// index of its own (event_dedupe_keys, which events of layout 2 still use)
// spares every checkout the pages of one more B-tree.
const boltDedupeMember = "bolt_dedupe_key"

// numbered is the event's record with its id and cursor set (both are
// digits and letters, which JSON needs no escape for) and, when dedupe is
// not empty, the dedupe key (a JSON string, already encoded) as
// boltDedupeMember.
func (e boltEvent) numbered(id, cursor string, dedupe []byte) []byte {
	out := make([]byte, 0, len(e)+len(id)+len(cursor)+len(dedupe)+len(boltDedupeMember)+4)
	out = append(out, `{"id":"`...)
	out = append(out, id...)
	out = append(out, `","cursor":"`...)
	out = append(out, cursor...)
	out = append(out, `",`...)
	if len(dedupe) == 0 {
		return append(out, e[len(boltEventHead):]...)
	}
	out = append(out, e[len(boltEventHead):len(e)-1]...) // without its closing brace
	out = append(out, `,"`+boltDedupeMember+`":`...)
	out = append(out, dedupe...)
	return append(out, '}')
}

// storedEventMeta is what PurgeEvents reads of a stored event.
type storedEventMeta struct {
	At     time.Time `json:"at"`
	Dedupe *string   `json:"bolt_dedupe_key"`
}
