package bolt

import (
	"bytes"
	"encoding/json"
	"errors"

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
