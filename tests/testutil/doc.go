// Package testutil is the one place where weir's tests meet privilege:
// RequirePrivileged decides whether a test that needs root may skip, and
// the Netns and Cgroup helpers create throwaway, weir-prefixed network
// namespaces and cgroup v2 subtrees that are removed with t.Cleanup.
//
// Rule: a privileged test skips only when the process is not root and CI is
// unset. Under CI=true it runs, and fails loudly when it cannot.
package testutil
