package host

// BoltPagesWritten is how many pages the bolt file's commits have written
// so far (bbolt's own count): the benchmarks report it per checkout, a
// figure the disk's noise does not blur.
func BoltPagesWritten(s *BoltStore) int64 {
	st := s.db.Stats()
	return st.TxStats.GetWrite()
}
