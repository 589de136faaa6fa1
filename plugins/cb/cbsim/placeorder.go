package cbsim

import (
	"fmt"
	"net/http"
	"strconv"
)

// field checks one request field: the code when it is missing, and the code
// and test when it is present but malformed.
type field struct {
	name      string
	missing   string
	malformed string
	valid     func(string) bool
}

// placeOrderFields are checked in this order; see the package documentation.
var placeOrderFields = []field{
	{"EAN", "EBS-10063", "EBS-10064", isEAN},
	{"ReadingMethod", "EBS-10065", "EBS-10066", oneOf("D", "CR")},
	{"Protection", "EBS-10067", "EBS-10068", oneOf("00", "02", "03")},
	{"RentalUnit", "EBS-10069", "EBS-10070", oneOf("DAG")},
	{"RentalNumberOfUnits", "EBS-10071", "EBS-10072", units},
	{"OrderReference", "EBS-10073", "EBS-10074", func(v string) bool { return len([]rune(v)) <= 100 && v != "\x00" }},
	{"UserId", "EBS-10075", "EBS-10075", func(v string) bool { return v != "\x00" }},
}

// checkFields answers the first missing or malformed field and reports
// whether it did.
func checkFields(w http.ResponseWriter, fields map[string]string, checks []field) bool {
	for _, f := range checks {
		v := fields[f.name]
		switch {
		case v == "":
			writeEBS(w, http.StatusBadRequest, f.missing, f.name+" is mandatory.")
			return true
		case !f.valid(v):
			writeEBS(w, http.StatusBadRequest, f.malformed, f.name+" has an invalid value.")
			return true
		}
	}
	return false
}

func isEAN(v string) bool {
	if len(v) != 13 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

func oneOf(allowed ...string) func(string) bool {
	return func(v string) bool {
		for _, a := range allowed {
			if v == a {
				return true
			}
		}
		return false
	}
}

// units allows 1–21: CB documents "max 21" for rentals.
func units(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n >= 1 && n <= 21
}

// allowedPairs are the ReadingMethod/Protection combinations CB supports.
var allowedPairs = map[[2]string]bool{
	{"CR", "02"}: true,
	{"D", "02"}:  true,
	{"D", "03"}:  true,
}

func (s *Sim) placeOrder(w http.ResponseWriter, f map[string]string) {
	if checkFields(w, f, placeOrderFields) {
		return
	}
	if !allowedPairs[[2]string{f["ReadingMethod"], f["Protection"]}] {
		writeEBS(w, http.StatusOK, ebsCombination, texts[ebsCombination])
		return
	}
	n, _ := strconv.Atoi(f["RentalNumberOfUnits"])

	s.mu.Lock()
	defer s.mu.Unlock()
	var first *Order
	if cb := f["CbOrderReference"]; cb != "" {
		first = s.byCb[cb]
		switch {
		case first == nil:
			writeEBS(w, http.StatusOK, ebsReferenceUnknown, texts[ebsReferenceUnknown])
			return
		case first.UserID != f["UserId"]:
			writeEBS(w, http.StatusOK, ebsOtherUser, texts[ebsOtherUser])
			return
		}
	}
	if _, used := s.byRef[f["OrderReference"]]; used {
		writeEBS(w, http.StatusOK, ebsDuplicate, texts[ebsDuplicate])
		return
	}
	out, listed := s.catalogue[f["EAN"]]
	if !listed {
		out = outcome{code: ebsNotFound}
	}
	applies := out.code != "" &&
		(!out.onlyCR || f["ReadingMethod"] == "CR") &&
		(!out.unlessFull || n != 21)
	if applies {
		status := out.status
		if status == 0 {
			status = http.StatusOK
		}
		writeEBS(w, status, out.code, texts[out.code])
		return
	}

	o := &Order{
		CbOrderReference: strconv.Itoa(s.nextCb),
		OrderReference:   f["OrderReference"],
		EAN:              f["EAN"],
		ReadingMethod:    f["ReadingMethod"],
		Protection:       f["Protection"],
		Units:            n,
		UserID:           f["UserId"],
		PlacedAt:         s.now(),
	}
	s.nextCb++
	if first != nil {
		o.AdditionTo = first.CbOrderReference
		o.URL = first.URL
	} else {
		o.URL = fmt.Sprintf("%s/wmDwld.php?uid=%013x&ean=%s&r=1", s.deliveryBase, s.nextCb*7919, o.EAN)
	}
	s.orders = append(s.orders, o)
	s.byRef[o.OrderReference] = o
	s.byCb[o.CbOrderReference] = o
	writeJSON(w, http.StatusOK, map[string]map[string]string{"placeOrder": {
		"CbOrderReference": o.CbOrderReference,
		"EAN":              o.EAN,
		"URL":              o.URL,
	}})
}
