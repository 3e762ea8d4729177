package encrypt

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func mustGenerate(t *testing.T) *Config {
	t.Helper()
	c, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func transformers(t *testing.T, c *Config) *Transformers {
	t.Helper()
	tr, err := c.Transformers()
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestRoundTripAndAuthenticatedData: a value encrypts to kube's aesgcm
// format, decrypts only under its own key, and other resources pass
// through.
func TestRoundTripAndAuthenticatedData(t *testing.T) {
	c := mustGenerate(t)
	tr := transformers(t, c)
	key := []byte("secrets\x00default\x00s")
	enc, err := tr.ToStorage("secrets", key, []byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(enc, []byte("k8s:enc:aesgcm:v1:"+c.KeyNames()[0]+":")) || bytes.Contains(enc, []byte("hunter2")) {
		t.Fatalf("stored form %q", enc)
	}
	plain, stale, err := tr.FromStorage("secrets", key, enc)
	if err != nil || stale || string(plain) != "hunter2" {
		t.Fatalf("read back: %q %v %v", plain, stale, err)
	}
	if _, _, err := tr.FromStorage("secrets", []byte("secrets\x00default\x00other"), enc); err == nil {
		t.Fatal("a ciphertext moved to another key decrypted")
	}
	if out, err := tr.ToStorage("configmaps", key, []byte("x")); err != nil || string(out) != "x" {
		t.Fatalf("uncovered resource: %q %v", out, err)
	}
	// identity reads plaintext (stale: not the writing provider).
	if plain, stale, err := tr.FromStorage("secrets", key, []byte(`{"old":1}`)); err != nil || !stale || string(plain) != `{"old":1}` {
		t.Fatalf("identity read: %q %v %v", plain, stale, err)
	}
	// another cluster's key does not read it.
	if _, _, err := transformers(t, mustGenerate(t)).FromStorage("secrets", key, enc); err == nil {
		t.Fatal("a foreign key decrypted the value")
	}
}

// TestRotationSteps: AddReadKey keeps the writer and reads the new key;
// Promote writes with it and reports old values stale; DropOthers keeps
// only it (and identity).
func TestRotationSteps(t *testing.T) {
	c := mustGenerate(t)
	old := c.KeyNames()[0]
	key := []byte("k")
	oldVal, _ := transformers(t, c).ToStorage("secrets", key, []byte("v"))
	nk, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s1 := c.AddReadKey(nk)
	if got := s1.KeyNames(); !slices.Equal(got, []string{old, nk.Name}) {
		t.Fatalf("step 1 keys %v", got)
	}
	if v, _ := transformers(t, s1).ToStorage("secrets", key, []byte("v")); !bytes.Contains(v, []byte(old)) {
		t.Fatal("step 1 changed the writing key")
	}
	s2 := s1.Promote(nk.Name)
	tr2 := transformers(t, s2)
	if v, _ := tr2.ToStorage("secrets", key, []byte("v")); !bytes.Contains(v, []byte(nk.Name)) {
		t.Fatal("step 2 does not write with the new key")
	}
	if _, stale, err := tr2.FromStorage("secrets", key, oldVal); err != nil || !stale {
		t.Fatalf("old value after step 2: stale %v err %v", stale, err)
	}
	s3 := s2.DropOthers(nk.Name)
	if got := s3.KeyNames(); !slices.Equal(got, []string{nk.Name}) {
		t.Fatalf("step 3 keys %v", got)
	}
	if _, _, err := transformers(t, s3).FromStorage("secrets", key, oldVal); err == nil {
		t.Fatal("the dropped key still reads")
	}
	if c.KeyNames()[0] != old || len(c.KeyNames()) != 1 {
		t.Fatal("the steps changed the original config")
	}
	// From no config at all, the default resources get the key.
	on := (&Config{}).AddReadKey(nk).Promote(nk.Name)
	tr := transformers(t, on)
	for _, r := range DefaultResources {
		if v, _ := tr.ToStorage(r, key, []byte("v")); !bytes.HasPrefix(v, []byte("k8s:enc:aesgcm:v1:"+nk.Name)) {
			t.Errorf("%s not encrypted after turning encryption on: %q", r, v)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"wrong kind":    "apiVersion: apiserver.config.k8s.io/v1\nkind: Other\nresources: []\n",
		"unknown field": "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: []\nextra: 1\n",
		"secretbox": "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n" +
			"  providers:\n  - secretbox:\n      keys: [{name: a, secret: YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=}]\n",
		"short key": "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n" +
			"  providers:\n  - aesgcm:\n      keys: [{name: a, secret: YWFh}]\n",
		"no keys": "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n" +
			"  providers:\n  - aesgcm:\n      keys: []\n",
		"twice": "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n" +
			"- resources: [secrets]\n  providers: [{identity: {}}]\n- resources: [secrets]\n  providers: [{identity: {}}]\n",
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	c := mustGenerate(t)
	path := filepath.Join(t.TempDir(), "enc.yaml")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", st.Mode(), err)
	}
	got, err := Load(path)
	if err != nil || !slices.Equal(got.KeyNames(), c.KeyNames()) {
		t.Fatalf("load: %v %v", got, err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "kind: EncryptionConfiguration") || !strings.Contains(string(data), "identity: {}") {
		t.Fatalf("file:\n%s", data)
	}
}

func FuzzParse(f *testing.F) {
	c, _ := Generate()
	data, _ := c.Marshal()
	f.Add(data)
	f.Add([]byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: [{resources: [a], providers: [{identity: {}}]}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		tr, err := c.Transformers()
		if err != nil {
			t.Fatalf("parsed config without transformers: %v", err)
		}
		for _, r := range tr.Resources() {
			v, err := tr.ToStorage(r, []byte("k"), []byte("v"))
			if err != nil {
				continue
			}
			if p, _, err := tr.FromStorage(r, []byte("k"), v); err != nil || string(p) != "v" {
				t.Fatalf("round trip of %s: %q %v", r, p, err)
			}
		}
	})
}
