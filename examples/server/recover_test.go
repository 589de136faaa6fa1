package main

import (
	"strings"
	"testing"

	"github.com/lendgate/lendgate/host"
)

// -recover-journal is the bolt journal's step: with another driver it
// says so rather than touching anything.
func TestRecoverJournalIsBolts(t *testing.T) {
	_, err := recoverBolt(host.StoreConfig{Driver: "postgres", DSN: "postgres://x"})
	if err == nil || !strings.Contains(err.Error(), `store.driver "postgres" keeps no log of its own`) {
		t.Fatalf("recoverBolt(postgres) = %v", err)
	}
	rec, err := recoverBolt(host.StoreConfig{DSN: t.TempDir() + "/lendgate.db"})
	if err != nil || rec.Damage != nil {
		t.Fatalf("recoverBolt of a new journal = %+v, %v", rec, err)
	}
}
