// Package clientgo holds client-go programs run against a real weir
// cluster, as the operators and controllers users bring would run:
// informers/ is a SharedInformerFactory program (default feature gates,
// protobuf), and the test here runs it against a `weir server` with 1,000
// Services, checking that its caches sync within 2 s and that an update
// comes back through them within 100 ms.
package clientgo
