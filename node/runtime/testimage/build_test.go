package testimage

import "testing"

// TestImageApplets: the commands kubectl and the tests run in the
// container are linked to busybox (kubectl cp runs tar).
func TestImageApplets(t *testing.T) {
	links := map[string]bool{}
	for _, f := range Image([]byte("busybox"), []byte("server")).Files {
		if f.Link == "busybox" {
			links[f.Path] = true
		}
	}
	for _, a := range []string{"sh", "cat", "tar", "wget"} {
		if !links["/bin/"+a] {
			t.Errorf("/bin/%s is no link to busybox", a)
		}
	}
}
