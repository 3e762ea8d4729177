// Package nodeapi is the agent's node API: the HTTPS endpoint the control
// plane calls for a pod's logs and for exec, as kube-apiserver calls the
// kubelet. It listens on the node's address (agent flag --node-api-port,
// default 10250) with a serving certificate the control plane issues at
// registration (signed by the cluster CA for the node's addresses) and
// answers only requests carrying the cluster's node token as
// "Authorization: Bearer <token>" (compared in constant time).
//
// # Endpoints
//
//	GET  /containerLogs/{namespace}/{pod}/{container}?follow=&tailLines=&previous=
//	     text/plain: the container's stdout and stderr as written. Without
//	     follow the request is bounded by Config.LogTimeout; with follow it
//	     streams (flushed per write) until the client goes away, the
//	     container stops or restarts, or the pod is removed.
//	POST /exec/{namespace}/{pod}/{container}?command=ARG&command=ARG...&stdin=
//	     Runs the command in the running container, without a terminal:
//	     the answer is an execstream (control/api/execstream): stdout and
//	     stderr frames, then the exit code (or an error frame when the
//	     command could not start). With stdin=true the request body is the
//	     command's stdin (streamed; its end closes stdin); otherwise stdin is
//	     empty. Bounded by Config.ExecTimeout; the command is killed when
//	     the client goes away.
//
// The answer is committed once the log is open or the command runs (the
// runtime calls Started); errors before that are Kubernetes Status
// objects: unknown pod 404, unknown or not running container 400, missing
// token 401. Later errors end an exec stream with an error frame.
//
// # Testing
//
//	go test ./node/nodeapi/   # a fake-free handler test over TLS with a real CA
package nodeapi
