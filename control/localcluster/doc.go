// Package localcluster starts and stops weir's local cluster on one
// machine (`weir up` / `weir down`). Today that is a single-member control
// plane running as a background `weir server` process with its data under
// the data dir; its PID, log and client config are recorded there so that
// `weir down` stops exactly what `weir up` started (by PID) and removes it.
package localcluster
