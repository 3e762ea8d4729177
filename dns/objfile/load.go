package objfile

import "github.com/weirnet/weir/vocab/manifest"

// MaxFileBytes bounds one file: these are manifests, not data dumps.
const MaxFileBytes = manifest.MaxManifestBytes

// Objects are the objects read from a path.
type Objects = manifest.Typed

// Load reads every object under path (a file or a directory).
func Load(path string) (Objects, error) { return manifest.LoadTyped(path) }

// Files lists the manifest files of path: path itself, or the *.yaml,
// *.yml and *.json files of a directory, sorted.
func Files(path string) ([]string, error) { return manifest.Files(path) }

// Parse adds the objects of a multi-document YAML (or JSON) stream to out.
func Parse(data []byte, out *Objects) error { return manifest.ParseTyped(data, out) }
