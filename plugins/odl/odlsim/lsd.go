package odlsim

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"time"
)

// statusURL is the LSD's address.
func (s *Sim) statusURL(base string, ln *loan) string {
	return base + "/loans/" + url.PathEscape(ln.id) + "/status"
}

// lsd renders ln as a License Status Document. Call with s.mu held.
func (s *Sim) lsd(base string, ln *loan) map[string]any {
	loanURL := base + "/loans/" + url.PathEscape(ln.id)
	var links []link
	if !s.noSelf {
		links = append(links, s.link("self", loanURL+"/status", TypeLSD, false))
	}
	if ln.running() {
		// An ended loan's LSD has no licence to hand out.
		links = append(links, s.link("license", loanURL+"/license", TypeLCPLicense, false))
		links = append(links, s.link("register", loanURL+"/register{?id,name}", TypeLSD, true))
		if !ln.lic.NoReturn {
			if s.untemplated {
				links = append(links, s.link("return", loanURL+"/return", TypeLSD, false))
			} else {
				links = append(links, s.link("return", loanURL+"/return{?id,name}", TypeLSD, true))
			}
		}
		switch {
		case ln.lic.RenewHTML:
			links = append(links, s.link("renew", loanURL+"/renew", "text/html", false))
		case s.untemplated:
			links = append(links, s.link("renew", loanURL+"/renew", TypeLSD, false))
		default:
			links = append(links, s.link("renew", loanURL+"/renew{?end,id,name}", TypeLSD, true))
		}
		item := url.PathEscape(itemOf(ln.lic.pub.identifier))
		if ln.lic.Publication {
			links = append(links, s.link("publication", base+"/publications/"+item+"/content", ln.lic.Format, false))
		}
		if ln.lic.Format == TypeAudiobook {
			links = append(links, s.link("manifest", base+"/publications/"+item+"/manifest.json", TypeAudiobook, false))
		}
	}
	doc := map[string]any{
		"id":      ln.id,
		"status":  ln.status,
		"message": "The loan is " + ln.status + ".",
		"updated": map[string]string{"license": stamp(ln.updatedLicense), "status": stamp(ln.updatedStatus)},
		"links":   links,
		"events":  append([]event{}, ln.events...),
	}
	if !ln.potentialEnd.IsZero() {
		doc["potential_rights"] = map[string]string{"end": stamp(ln.potentialEnd)}
	}
	return doc
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Sim) writeLSD(w http.ResponseWriter, status int, base string, ln *loan) {
	writeJSON(w, status, TypeLSD, s.lsd(base, ln))
}

// lookup finds the loan of an LSD id and expires it if its end has
// passed. Call with s.mu held.
func (s *Sim) lookup(w http.ResponseWriter, id string) (*loan, bool) {
	ln, ok := s.loans[id]
	if !ok {
		writeProblem(w, http.StatusNotFound, "about:blank", "Not found", "no such license status document")
		return nil, false
	}
	s.sweepLoan(ln, s.now())
	return ln, true
}

// status answers the LSD (no authentication, LSD §2.1).
func (s *Sim) status(w http.ResponseWriter, r *http.Request, id string) {
	base := s.base(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ln, ok := s.lookup(w, id); ok {
		s.writeLSD(w, http.StatusOK, base, ln)
	}
}

// licenseDocument answers a minimal LCP licence: its rights (start, end),
// the patron's hint and links to the publication and back to the LSD.
func (s *Sim) licenseDocument(w http.ResponseWriter, r *http.Request, id string) {
	base := s.base(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	ln, ok := s.lookup(w, id)
	if !ok {
		return
	}
	item := url.PathEscape(itemOf(ln.lic.pub.identifier))
	links := []link{
		s.link("publication", base+"/publications/"+item+"/content", ln.lic.Format, false),
		s.link("status", s.statusURL(base, ln), TypeLSD, false),
	}
	if ln.hintURL != "" {
		links = append(links, s.link("hint", ln.hintURL, "text/html", false))
	}
	writeJSON(w, http.StatusOK, TypeLCPLicense, map[string]any{
		"id":       ln.id,
		"issued":   stamp(ln.start),
		"updated":  stamp(ln.updatedLicense),
		"provider": "https://odlsim.example",
		"encryption": map[string]any{
			"profile":  ProtectionLCPProfile,
			"user_key": map[string]string{"text_hint": ln.hint, "algorithm": "http://www.w3.org/2001/04/xmlenc#sha256"},
		},
		"links":  links,
		"user":   map[string]string{"id": ln.patron},
		"rights": map[string]string{"start": stamp(ln.start), "end": stamp(ln.end)},
	})
}

// returnLoan is the LSD's return link: active → returned, ready →
// cancelled (LSD §3.4).
func (s *Sim) returnLoan(w http.ResponseWriter, r *http.Request, id string) {
	base := s.base(r)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ln, ok := s.lookup(w, id)
	if !ok {
		return
	}
	switch {
	case ln.lic.NoReturn:
		writeProblem(w, http.StatusBadRequest, TypeReturn, "Not returnable", "this licence offers no return")
		return
	case ln.status == StatusReturned || ln.status == StatusCancelled:
		writeProblem(w, http.StatusForbidden, TypeReturnAlready, "Already returned", "the publication was returned before")
		return
	case ln.status == StatusExpired:
		writeProblem(w, http.StatusForbidden, TypeReturnExpired, "Expired", "the loan has expired")
		return
	case !ln.running():
		writeProblem(w, http.StatusBadRequest, TypeReturn, "Not returned", "the loan is "+ln.status)
		return
	}
	status := StatusReturned
	if ln.status == StatusReady {
		status = StatusCancelled
	}
	ln.end, ln.updatedLicense = now, now
	ln.events = append(ln.events, event{Type: "return", Name: r.URL.Query().Get("name"), ID: r.URL.Query().Get("id"), Timestamp: stamp(now)})
	s.end(ln, status, now, true)
	s.writeLSD(w, http.StatusOK, base, ln)
}

// renew is the LSD's renew link (PUT, LSD §3.5). An end past
// potential_rights.end answers 200 with the end unchanged, as servers do.
func (s *Sim) renew(w http.ResponseWriter, r *http.Request, id string) {
	base := s.base(r)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ln, ok := s.lookup(w, id)
	if !ok {
		return
	}
	if ln.lic.RenewHTML {
		writeProblem(w, http.StatusForbidden, TypeRenew, "Not renewable here", "renew through the library's page")
		return
	}
	if !ln.running() {
		writeProblem(w, http.StatusForbidden, TypeRenew, "Not renewable", "the loan is "+ln.status)
		return
	}
	var end time.Time
	if v := r.URL.Query().Get("end"); v != "" {
		t, ok := parseTime(v)
		if !ok {
			writeProblem(w, http.StatusBadRequest, TypeRenew, "Not renewed", "end must be an ISO 8601 date and time")
			return
		}
		if !t.After(ln.end) {
			writeProblem(w, http.StatusForbidden, TypeRenewDate, "Incorrect renewal period", "end is not after the loan's end")
			return
		}
		end = t
	} else {
		end = ln.end.Add(DefaultRenewPeriod)
		if !ln.potentialEnd.IsZero() && end.After(ln.potentialEnd) {
			end = ln.potentialEnd
		}
	}
	if (ln.potentialEnd.IsZero() || !end.After(ln.potentialEnd)) && end.After(ln.end) {
		ln.end, ln.updatedLicense, ln.updatedStatus = end.UTC(), now, now
		ln.renewals++
		ln.events = append(ln.events, event{Type: "renew", Name: r.URL.Query().Get("name"), ID: r.URL.Query().Get("id"), Timestamp: stamp(now)})
		s.signalLocked()
	}
	s.writeLSD(w, http.StatusOK, base, ln)
}

// renewPage is the text/html renew link: a page for people.
func (s *Sim) renewPage(w http.ResponseWriter, id string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<html><body><p>Ask your library to renew loan %s.</p></body></html>", html.EscapeString(id))
}

// register is the LSD's register link: ready → active, notified.
func (s *Sim) register(w http.ResponseWriter, r *http.Request, id string) {
	base := s.base(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	ln, ok := s.lookup(w, id)
	if !ok {
		return
	}
	if !ln.running() {
		writeProblem(w, http.StatusBadRequest, TypeRegistration, "Not registered", "the loan is "+ln.status)
		return
	}
	s.activate(ln, r.URL.Query().Get("id"), r.URL.Query().Get("name"))
	s.writeLSD(w, http.StatusOK, base, ln)
}

// activate registers a device on ln, making a ready loan active (and
// notifying). Call with s.mu held.
func (s *Sim) activate(ln *loan, device, name string) {
	now := s.now()
	ln.events = append(ln.events, event{Type: "register", ID: device, Name: name, Timestamp: stamp(now)})
	if ln.status == StatusReady {
		ln.status, ln.updatedStatus = StatusActive, now
		s.notify(ln)
	}
	s.signalLocked()
}

// content serves a publication's file or audiobook manifest.
func (s *Sim) content(w http.ResponseWriter, item, what string) {
	s.mu.Lock()
	pub, ok := s.byItem[item]
	s.mu.Unlock()
	if !ok {
		writeProblem(w, http.StatusNotFound, TypeGeneric, "Not found", "no such publication")
		return
	}
	if what == "manifest.json" {
		writeJSON(w, http.StatusOK, TypeAudiobook, map[string]any{
			"metadata":     map[string]any{"@type": "http://schema.org/Audiobook", "identifier": pub.identifier, "title": pub.title},
			"readingOrder": []map[string]any{{"href": "chapter1.mp3", "type": "audio/mpeg", "duration": 60}},
		})
		return
	}
	w.Header().Set("Content-Type", TypeEPUB)
	fmt.Fprintf(w, "PK simulated publication %s", pub.identifier)
}
