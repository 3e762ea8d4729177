package store

// Hooks for the store_test package.

// ConfirmTermForTest runs the leader's read-index confirmation for term.
func (s *Store) ConfirmTermForTest(term uint64) error { return s.confirmTerm(term) }

// TermForTest is this member's current raft term.
func (s *Store) TermForTest() uint64 { return s.raft.CurrentTerm() }
