package client

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/vocab/manifest"
)

// Manifest is one object read from a manifest, with where it came from.
type Manifest struct {
	Source string // file path, or "-" for stdin
	Object *unstructured.Unstructured
}

// ReadManifests reads every object from paths, in order: "-" is stdin; a
// directory contributes its .yaml, .yml and .json files, recursively, in
// lexical order; a file is read whatever its name.
func ReadManifests(paths []string, stdin io.Reader) ([]Manifest, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no manifest given: pass -f FILE, -f DIR or -f - (stdin)")
	}
	var out []Manifest
	for _, p := range paths {
		files, err := manifestFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			objs, err := readManifest(f, stdin)
			if err != nil {
				return nil, err
			}
			for _, o := range objs {
				out = append(out, Manifest{Source: f, Object: o})
			}
		}
	}
	return out, nil
}

// manifestFiles expands one -f argument into files.
func manifestFiles(p string) ([]string, error) {
	if p == "-" {
		return []string{p}, nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isManifestName(path) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read manifest directory %s: %w", p, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("directory %s holds no .yaml, .yml or .json files", p)
	}
	return files, nil
}

func isManifestName(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// readManifest decodes one file (or stdin for "-").
func readManifest(path string, stdin io.Reader) ([]*unstructured.Unstructured, error) {
	var r io.Reader = stdin
	name := "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read manifest: %w", err)
		}
		defer f.Close()
		r, name = f, path
	}
	data, err := io.ReadAll(io.LimitReader(r, manifest.MaxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", name, err)
	}
	objs, err := manifest.DecodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return objs, nil
}
