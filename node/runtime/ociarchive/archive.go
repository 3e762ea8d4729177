package ociarchive

import (
	"archive/tar"
	"bytes"
	_ "crypto/sha256" // registers sha256 for go-digest
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// File is one entry of the layer: a regular file (Data), a directory
// (Dir) or a symlink (Link).
type File struct {
	Path string // absolute path in the image, e.g. /bin/busybox
	Mode int64  // permission bits; 0 means 0755 for dirs and 0644 for files
	Data []byte
	Link string // symlink target
	Dir  bool
}

// Image is what Write puts into the archive.
type Image struct {
	Name       string // full reference, e.g. docker.io/weir/testimage:1
	Files      []File
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
}

// epoch is the fixed modification time of every entry.
var epoch = time.Unix(0, 0).UTC()

// Write writes img as an OCI image layout tarball to w.
func Write(w io.Writer, img Image) error {
	tag, err := tagOf(img.Name)
	if err != nil {
		return err
	}
	layer, err := layerTar(img.Files)
	if err != nil {
		return err
	}
	layerDesc := descriptor(ocispec.MediaTypeImageLayer, layer)
	config, err := json.Marshal(imageConfig(img, layerDesc.Digest))
	if err != nil {
		return fmt.Errorf("image config: %w", err)
	}
	configDesc := descriptor(ocispec.MediaTypeImageConfig, config)
	manifest, err := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest, Config: configDesc, Layers: []ocispec.Descriptor{layerDesc}})
	if err != nil {
		return fmt.Errorf("image manifest: %w", err)
	}
	manifestDesc := descriptor(ocispec.MediaTypeImageManifest, manifest)
	manifestDesc.Platform = &ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	manifestDesc.Annotations = map[string]string{"io.containerd.image.name": img.Name, ocispec.AnnotationRefName: tag}
	index, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{manifestDesc}})
	if err != nil {
		return fmt.Errorf("image index: %w", err)
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	tw := tar.NewWriter(w)
	entries := []struct {
		name string
		data []byte
	}{{ocispec.ImageLayoutFile, layout}, {"index.json", index}, {blobPath(layerDesc), layer},
		{blobPath(configDesc), config}, {blobPath(manifestDesc), manifest}}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: epoch}); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if err := writeFile(tw, e.name, 0o644, e.data); err != nil {
			return fmt.Errorf("write %s: %w", e.name, err)
		}
	}
	return tw.Close()
}

// tagOf is the tag of a reference ("latest" when it has none).
func tagOf(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, " \t\n@") {
		return "", fmt.Errorf("ociarchive: image name %q: want a reference like docker.io/weir/testimage:1", name)
	}
	last := name[strings.LastIndex(name, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 {
		return last[i+1:], nil
	}
	return "latest", nil
}

func descriptor(mediaType string, data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
}

func blobPath(d ocispec.Descriptor) string {
	return path.Join("blobs", d.Digest.Algorithm().String(), d.Digest.Encoded())
}

func imageConfig(img Image, diffID digest.Digest) ocispec.Image {
	created := epoch
	env := img.Env
	if len(env) == 0 {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	return ocispec.Image{Created: &created, Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
		Config: ocispec.ImageConfig{Entrypoint: img.Entrypoint, Cmd: img.Cmd, Env: env, WorkingDir: img.WorkingDir},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}}
}

// layerTar renders the files as an uncompressed layer.
func layerTar(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
			return nil, fmt.Errorf("ociarchive: file path %q must be absolute and clean", f.Path)
		}
		name := strings.TrimPrefix(f.Path, "/")
		var err error
		switch {
		case f.Dir:
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: modeOr(f.Mode, 0o755), ModTime: epoch})
		case f.Link != "":
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: f.Link, Mode: 0o777, ModTime: epoch})
		default:
			err = writeFile(tw, name, modeOr(f.Mode, 0o644), f.Data)
		}
		if err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("ociarchive: an image needs at least one file")
	}
	return buf.Bytes(), nil
}

func writeFile(tw *tar.Writer, name string, mode int64, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func modeOr(m, def int64) int64 {
	if m == 0 {
		return def
	}
	return m
}
