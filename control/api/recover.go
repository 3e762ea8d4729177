package api

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
)

// recoverMiddleware turns a panic in a handler into a logged 500 Status,
// so no request can take the member down.
func (s *Server) recoverMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if rec.code == 0 {
				s.writeError(rec, r, errInternal(fmt.Errorf("panic serving %s %s: %v", r.Method, r.URL.Path, v)))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}
