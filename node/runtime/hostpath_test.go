package runtime

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestCheckHostPath: the kubelet's hostPath type checks, and the two
// types that make what is missing.
func TestCheckHostPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		path string
		typ  corev1.HostPathType
		err  string // "" for success
	}{
		{missing, corev1.HostPathUnset, ""},
		{dir, corev1.HostPathDirectory, ""},
		{file, corev1.HostPathDirectory, "is not a directory"},
		{missing, corev1.HostPathDirectory, "is not a directory"},
		{file, corev1.HostPathFile, ""},
		{dir, corev1.HostPathFile, "is not a file"},
		{missing, corev1.HostPathFile, "is not a file"},
		{sock, corev1.HostPathSocket, ""},
		{file, corev1.HostPathSocket, "is not a socket file"},
		{"/dev/null", corev1.HostPathCharDev, ""},
		{file, corev1.HostPathCharDev, "is not a character device"},
		{"/dev/null", corev1.HostPathBlockDev, "is not a block device"},
		{file, corev1.HostPathDirectoryOrCreate, "is not a directory"},
		{dir, corev1.HostPathFileOrCreate, "is not a file"},
	} {
		err := checkHostPath(c.path, &c.typ)
		if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), "hostPath type check failed: "+c.path+" "+c.err)) {
			t.Errorf("%s as %q: %v, want %q", c.path, c.typ, err, c.err)
		}
	}
	made := filepath.Join(dir, "a", "b")
	create := corev1.HostPathDirectoryOrCreate
	if err := checkHostPath(made, &create); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(made); err != nil || !st.IsDir() {
		t.Errorf("DirectoryOrCreate made %v %v", st, err)
	}
	newFile := filepath.Join(dir, "c", "d.txt")
	createFile := corev1.HostPathFileOrCreate
	if err := checkHostPath(newFile, &createFile); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(newFile); err != nil || !st.Mode().IsRegular() || st.Size() != 0 {
		t.Errorf("FileOrCreate made %v %v", st, err)
	}
}
