package cbsim

import "net/http"

var checkAccessFields = []field{
	{"EAN", "EBS-10063", "EBS-10064", isEAN},
	{"UserId", "EBS-10075", "EBS-10075", func(v string) bool { return v != "\x00" }},
}

func (s *Sim) checkAccess(w http.ResponseWriter, f map[string]string) {
	if checkFields(w, f, checkAccessFields) {
		return
	}
	user, ean := f["UserId"], f["EAN"]
	password, known := s.users[user]
	if !known {
		writeEBS(w, http.StatusOK, ebsUserUnknown, texts[ebsUserUnknown])
		return
	}
	access := "N"
	if f["UserPassword"] == password && s.hasAccess(user, ean) {
		access = "Y"
	}
	writeJSON(w, http.StatusOK, map[string]map[string]string{"Access": {"Accessable": access}})
}

func (s *Sim) hasAccess(user, ean string) bool {
	if s.grants[user][ean] {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.orders {
		if o.UserID == user && o.EAN == ean {
			return true
		}
	}
	return false
}
