package nodeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/streaming/pkg/httpstream/wsstream"
	utilexec "k8s.io/utils/exec"

	"github.com/weirnet/weir/node/runtime"
)

// The kubelet's defaults: a stream idle this long is closed; a client
// must open its streams this soon after the upgrade.
const (
	streamIdleTimeout     = 4 * time.Hour
	streamCreationTimeout = 30 * time.Second
)

// v5Protocol is remotecommand's WebSocket protocol with stream close
// (kubectl 1.30+ speaks it first).
const v5Protocol = "v5.channel.k8s.io"

// serveExec answers /exec/{namespace}/{pod}/{container}?command=ARG...&input=1&output=1&error=1&tty=1
// with the kubelet's remotecommand protocols (SPDY v1-v4, WebSocket
// channel.k8s.io v1-v5).
func (s *Server) serveExec(w http.ResponseWriter, r *http.Request) {
	ns, pod, ctr := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	cmd := r.URL.Query()["command"]
	if len(cmd) == 0 || cmd[0] == "" {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "give the command as command=ARG parameters, one per argument")
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error())
		return
	}
	if err := s.cfg.Runtime.CheckContainer(r.Context(), ns, pod, ctr); err != nil {
		writeError(w, err)
		return
	}
	ex := &executor{s: s, namespace: ns}
	if wsstream.IsWebSocketRequestWithStreamCloseProtocol(r) {
		serveV5(w, r, opts, func(ctx context.Context, in io.Reader, out, errw io.WriteCloser, resize <-chan remotecommand.TerminalSize) error {
			return ex.ExecInContainer(ctx, pod, "", ctr, cmd, in, out, errw, opts.TTY, resize, 0)
		})
		return
	}
	remotecommand.ServeExec(w, r, ex, pod, "", ctr, cmd, opts, streamIdleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// serveAttach answers /attach/{namespace}/{pod}/{container}: the
// container's output from now on, until it stops. weir keeps no
// container's stdin or terminal, so input and tty are refused.
func (s *Server) serveAttach(w http.ResponseWriter, r *http.Request) {
	ns, pod, ctr := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error())
		return
	}
	if opts.Stdin || opts.TTY {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest,
			"weir does not keep a container's stdin or terminal open (spec.containers[].stdin and tty are not supported): attach without -i and -t to follow the output, or use exec")
		return
	}
	if err := s.cfg.Runtime.CheckContainer(r.Context(), ns, pod, ctr); err != nil {
		writeError(w, err)
		return
	}
	at := &executor{s: s, namespace: ns}
	if wsstream.IsWebSocketRequestWithStreamCloseProtocol(r) {
		serveV5(w, r, opts, func(ctx context.Context, in io.Reader, out, errw io.WriteCloser, resize <-chan remotecommand.TerminalSize) error {
			return at.AttachContainer(ctx, pod, "", ctr, in, out, errw, false, resize)
		})
		return
	}
	remotecommand.ServeAttach(w, r, at, pod, "", ctr, opts, streamIdleTimeout, streamCreationTimeout, remotecommand.SupportedStreamingProtocols)
}

// servePortForward answers /portForward/{namespace}/{pod}: SPDY
// portforward.k8s.io (one stream pair per connection) or WebSocket
// v4.channel.k8s.io with ?port=.
func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request) {
	ns, pod := r.PathValue("namespace"), r.PathValue("pod")
	var opts *portforward.V4Options
	if wsstream.IsWebSocketRequest(r) {
		var err error
		if opts, err = portforward.NewV4Options(r); err != nil {
			writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error())
			return
		}
	}
	if err := s.cfg.Runtime.CheckPod(ns, pod); err != nil {
		writeError(w, err)
		return
	}
	portforward.ServePortForward(w, r, &executor{s: s, namespace: ns}, pod, "", opts, streamIdleTimeout, streamCreationTimeout, portforward.SupportedProtocols)
}

// executor runs the streaming protocols' calls on the runtime.
type executor struct {
	s         *Server
	namespace string
}

func (e *executor) ExecInContainer(ctx context.Context, pod, _, container string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, e.s.cfg.ExecTimeout)
	defer cancel()
	o := runtime.ExecOptions{TTY: tty, Resize: sizes(ctx, resize)}
	if in != nil {
		o.Stdin = in
	}
	if out != nil {
		o.Stdout = out
	}
	if errw != nil {
		o.Stderr = errw
	}
	code, err := e.s.cfg.Runtime.Exec(ctx, e.namespace, pod, container, cmd, o)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("the command ran longer than the node's exec limit of %s and was killed", e.s.cfg.ExecTimeout)
		}
		return err
	}
	if code != 0 {
		return utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: code}
	}
	return nil
}

func (e *executor) AttachContainer(ctx context.Context, pod, _, container string, _ io.Reader, out, errw io.WriteCloser, _ bool, _ <-chan remotecommand.TerminalSize) error {
	var o, ew io.Writer = io.Discard, io.Discard
	if out != nil {
		o = out
	}
	if errw != nil {
		ew = errw
	}
	return e.s.cfg.Runtime.Attach(ctx, e.namespace, pod, container, o, ew)
}

func (e *executor) PortForward(ctx context.Context, pod, _ string, port int32, stream io.ReadWriteCloser) error {
	return e.s.cfg.Runtime.PortForward(ctx, e.namespace, pod, port, stream)
}

// sizes converts the protocol's terminal sizes into the runtime's.
func sizes(ctx context.Context, in <-chan remotecommand.TerminalSize) <-chan runtime.TerminalSize {
	if in == nil {
		return nil
	}
	out := make(chan runtime.TerminalSize)
	go func() {
		defer close(out)
		for sz := range in {
			select {
			case out <- runtime.TerminalSize{Width: sz.Width, Height: sz.Height}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// serveV5 serves one remotecommand session over WebSocket
// v5.channel.k8s.io: channels 0-2 stdin/stdout/stderr, 3 the final
// Status, 4 terminal sizes (JSON), and the close signal (255) that ends
// stdin. The session's exit code goes out as a NonZeroExitCode Status.
func serveV5(w http.ResponseWriter, r *http.Request, opts *remotecommand.Options, run func(ctx context.Context, in io.Reader, out, errw io.WriteCloser, resize <-chan remotecommand.TerminalSize) error) {
	pick := func(on bool, t wsstream.ChannelType) wsstream.ChannelType {
		if on {
			return t
		}
		return wsstream.IgnoreChannel
	}
	channels := []wsstream.ChannelType{pick(opts.Stdin, wsstream.ReadChannel), pick(opts.Stdout, wsstream.WriteChannel),
		pick(opts.Stderr, wsstream.WriteChannel), wsstream.WriteChannel, wsstream.ReadChannel}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{v5Protocol: {Binary: true, Channels: channels}})
	conn.SetIdleTimeout(streamIdleTimeout)
	_, streams, err := conn.Open(w, r)
	if err != nil {
		return // Open answered the client
	}
	defer conn.Close()
	first := 3 // an empty write on the lowest writable channel tells the client the session is up
	if opts.Stdout {
		first = 1
	} else if opts.Stderr {
		first = 2
	}
	if _, err := streams[first].Write(nil); err != nil {
		return
	}
	var in io.Reader
	var out, errw io.WriteCloser
	if opts.Stdin {
		in = streams[0]
	}
	if opts.Stdout {
		out = streams[1]
	}
	if opts.Stderr {
		errw = streams[2]
	}
	var resize chan remotecommand.TerminalSize
	if opts.TTY {
		resize = make(chan remotecommand.TerminalSize)
		go func() {
			defer close(resize)
			dec := json.NewDecoder(streams[4])
			for {
				var sz remotecommand.TerminalSize
				if dec.Decode(&sz) != nil {
					return
				}
				select {
				case resize <- sz:
				case <-r.Context().Done():
					return
				}
			}
		}()
	}
	st := metav1.Status{Status: metav1.StatusSuccess}
	if err := run(r.Context(), in, out, errw, resize); err != nil {
		var exit utilexec.ExitError
		if errors.As(err, &exit) && exit.Exited() {
			st = metav1.Status{Status: metav1.StatusFailure, Reason: remotecommand.NonZeroExitCodeReason,
				Message: err.Error(), Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{
					{Type: remotecommand.ExitCodeCauseType, Message: fmt.Sprint(exit.ExitStatus())}}}}
		} else {
			st = apierrors.NewInternalError(err).ErrStatus
		}
	}
	b, _ := json.Marshal(st)
	conn.SetWriteDeadline(10 * time.Second)
	streams[3].Write(b)
}
