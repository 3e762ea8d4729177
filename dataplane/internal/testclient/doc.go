// Package testclient is the client side of the dataplane's traffic tests.
// The tests re-execute their own binary as a child process placed in the
// hooked cgroup and in a client network namespace (so its sockets meet the
// socket-LB programs, while the test process itself stays outside); the
// child runs Main, which reads Requests as JSON lines on stdin and answers
// each with one Result line on stdout.
//
// Backends in the tests greet every TCP connection and every UDP datagram
// with their name and a newline, then echo; that is how the client learns
// which backend it reached.
package testclient
