package testimage

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/weirnet/weir/node/runtime/ociarchive"
)

// Name is the reference the test image is imported under; pods name it
// "weir/testimage:1". A fixed tag (not latest) makes the API default
// imagePullPolicy IfNotPresent, so the imported image is used as it is.
const Name = "docker.io/weir/testimage:1"

// Applets are the busybox applets linked into /bin.
var applets = []string{"sh", "ls", "cat", "echo", "sleep", "wget", "nc", "ps", "kill", "hostname", "env", "true",
	"false", "id", "mkdir", "rm", "touch", "date", "grep", "head", "tail", "nslookup", "ping", "ip", "ifconfig", "sed", "wc", "mount", "tar"}

// Image is the test image from the two binaries' contents.
func Image(busybox, server []byte) ociarchive.Image {
	files := []ociarchive.File{{Path: "/bin", Dir: true}, {Path: "/bin/busybox", Mode: 0o755, Data: busybox},
		{Path: "/weir-testserver", Mode: 0o755, Data: server}, {Path: "/etc", Dir: true}, {Path: "/tmp", Dir: true, Mode: 0o1777},
		{Path: "/etc/passwd", Data: []byte("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")},
		{Path: "/etc/group", Data: []byte("root:x:0:\nnogroup:x:65534:\n")}}
	for _, a := range applets {
		files = append(files, ociarchive.File{Path: "/bin/" + a, Link: "busybox"})
	}
	return ociarchive.Image{Name: Name, Files: files, Entrypoint: []string{"/weir-testserver"}}
}

// BuildServer compiles cmd/weir-testserver statically (CGO_ENABLED=0)
// into dir and returns its path. It needs the weir module as the working
// directory or a parent of it.
func BuildServer(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "weir-testserver")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "github.com/weirnet/weir/cmd/weir-testserver")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build weir-testserver: %v: %s", err, b)
	}
	return out, nil
}

// Write writes the image archive to out from the busybox and server
// binaries at the given paths.
func Write(out, busyboxPath, serverPath string) error {
	busybox, err := os.ReadFile(busyboxPath)
	if err != nil {
		return fmt.Errorf("read busybox (install Debian's busybox-static): %w", err)
	}
	server, err := os.ReadFile(serverPath)
	if err != nil {
		return fmt.Errorf("read weir-testserver: %w", err)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := ociarchive.Write(f, Image(busybox, server)); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	return f.Close()
}

// Build compiles the server into a temporary dir and writes the archive
// to out, with busybox from /bin/busybox.
func Build(ctx context.Context, out string) error {
	dir, err := os.MkdirTemp("", "weir-testimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	server, err := BuildServer(ctx, dir)
	if err != nil {
		return err
	}
	return Write(out, "/bin/busybox", server)
}
