package host

import (
	"bytes"
	"encoding/json"
	"errors"
)

// boltEvent is an event encoded before its number is known: JSON whose
// leading id and cursor members are empty, and the dedupe key it was
// journaled under as a member of its own.
type boltEvent []byte

// boltEventHead is how an Event with no id and no cursor starts when
// encoded: the members Event declares first.
var boltEventHead = []byte(`{"id":"","cursor":"",`)

// encodeBoltEvent encodes e (its ID and Cursor are ignored) with
// dedupeKey, if any, as the member dedupe_key: readers decoding an Event
// skip it, and purging the event finds its key there.
func encodeBoltEvent(e Event, dedupeKey string) (boltEvent, error) {
	e.ID, e.Cursor = "", ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, boltEventHead) || b[len(b)-1] != '}' {
		return nil, errors.New("host: an Event no longer encodes its id and cursor first")
	}
	if dedupeKey != "" {
		k, err := json.Marshal(dedupeKey)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b[:len(b)-1], `,"dedupe_key":`...), k...), '}')
	}
	return boltEvent(b), nil
}

// numbered is the event's record with its id and cursor set (both are
// digits and letters, which JSON needs no escape for).
func (e boltEvent) numbered(id, cursor string) []byte {
	out := make([]byte, 0, len(e)+len(id)+len(cursor))
	out = append(out, `{"id":"`...)
	out = append(out, id...)
	out = append(out, `","cursor":"`...)
	out = append(out, cursor...)
	out = append(out, `",`...)
	return append(out, e[len(boltEventHead):]...)
}
