package store

// Hooks for the store_test package.

// ConfirmTermForTest runs the leader's read-index confirmation for term.
func (s *Store) ConfirmTermForTest(term uint64) error { return s.confirmTerm(term) }

// TermForTest is this member's current raft term.
func (s *Store) TermForTest() uint64 { return s.raft.CurrentTerm() }

// SetWatchHooksForTest sets the hooks run between applying a batch and
// publishing it, and between a new watcher's history phases; nil, nil
// removes them.
func SetWatchHooksForTest(beforePublish func(rev uint64), beforeRegister func()) {
	testHookBeforePublish, testHookBeforeRegister = beforePublish, beforeRegister
}
