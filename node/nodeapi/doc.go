// Package nodeapi is the agent's node API: the HTTPS endpoint the control
// plane calls for a pod's logs, exec, attach and port-forward, as
// kube-apiserver calls the kubelet. It listens on the node's address (agent flag --node-api-port,
// default 10250) with a serving certificate the control plane issues at
// registration (signed by the cluster CA for the node's name and the
// addresses it owns) and answers only clients with a certificate from the
// cluster CA whose CN is allowed (Config.AllowedUsers: the control plane's
// weir:apiserver-kubelet-client); the TLS handshake requires a client
// certificate, any other identity (another node's, a user's) is a 403.
//
// # Endpoints (the kubelet's)
//
//	GET  /containerLogs/{namespace}/{pod}/{container}?follow=&previous=&timestamps=&tailLines=&sinceSeconds=&sinceTime=&limitBytes=
//	     text/plain: the container's stdout and stderr lines (from its CRI
//	     log, node/runtime), with RFC3339Nano time prefixes when asked.
//	     Without follow the request is bounded by Config.LogTimeout; with
//	     follow it streams (flushed per write) until the client goes away,
//	     the container stops or restarts, or the pod is removed.
//	GET|POST /exec/{namespace}/{pod}/{container}?command=ARG...&input=1&output=1&error=1&tty=1
//	GET|POST /attach/{namespace}/{pod}/{container}?output=1&error=1
//	     remotecommand through k8s.io/cri-streaming: SPDY
//	     v1-v4.channel.k8s.io and WebSocket channel.k8s.io up to v4; the
//	     WebSocket v5.channel.k8s.io (kubectl 1.30+) is served here
//	     (stream close ends stdin). A TTY exec gets a terminal resized as
//	     the client asks; the exit status is a NonZeroExitCode Status with
//	     an ExitCode cause on the error channel. Bounded by
//	     Config.ExecTimeout; the command is killed when the client goes.
//	     Attach follows the container's output; weir keeps no container
//	     stdin or terminal, so attach with input or tty is a 400.
//	GET|POST /portForward/{namespace}/{pod}[?port=N...]
//	     SPDY portforward.k8s.io (a data and an error stream per
//	     connection) or WebSocket v4.channel.k8s.io with ports; each
//	     connection is a TCP connection to 127.0.0.1:port dialled inside
//	     the pod's network namespace.
//
// Errors found before the answer is committed (the upgrade, or the first
// log byte) are Kubernetes Status objects: unknown pod 404, unknown or not
// running container 400, a client that is not the control plane 403. Later errors of a stream go
// on its error channel.
//
// # Testing
//
//	go test ./node/nodeapi/   # a fake-free handler test over TLS with a real CA
package nodeapi
