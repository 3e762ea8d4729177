package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// MaxManifestBytes bounds the input of DecodeManifest: manifests are
// configuration, not data, and the bound keeps decoding memory bounded.
const MaxManifestBytes = 32 << 20

// MaxObjects bounds the number of objects one manifest may hold.
const MaxObjects = 10000

// Error is a decoding error in one document of a manifest.
type Error struct {
	Document int    // 1-based index of the document in the manifest
	Line     int    // 1-based line where the document starts (YAML only)
	Item     int    // 1-based index in a List document, 0 otherwise
	Field    string // the offending field, when known ("metadata.name")
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "manifest document %d", e.Document)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	if e.Item > 0 {
		fmt.Fprintf(&b, ", list item %d", e.Item)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %s", e.Field)
	}
	return b.String() + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrTooLarge reports a manifest over MaxManifestBytes or MaxObjects.
var ErrTooLarge = errors.New("manifest: too large; split it into several files")

// DecodeManifest decodes a manifest: YAML documents separated by "---"
// lines, or a stream of JSON objects. Empty documents are skipped; a
// document of kind List (or any kind ending in "List" with an items array)
// is expanded into its items. Every object must carry apiVersion, kind and
// metadata.name (or metadata.generateName).
func DecodeManifest(data []byte) ([]*unstructured.Unstructured, error) {
	if len(data) > MaxManifestBytes {
		return nil, fmt.Errorf("%w (%d bytes, limit %d)", ErrTooLarge, len(data), MaxManifestBytes)
	}
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, d := range docs {
		objs, err := decodeDocument(d)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
		if len(out) > MaxObjects {
			return nil, fmt.Errorf("%w (more than %d objects)", ErrTooLarge, MaxObjects)
		}
	}
	return out, nil
}

// document is one document of a manifest before decoding.
type document struct {
	index int
	line  int
	json  bool
	data  []byte
}

// splitDocuments splits a manifest into documents: a JSON stream when the
// input starts with '{', YAML documents otherwise.
func splitDocuments(data []byte) ([]document, error) {
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		return splitJSON(trimmed)
	}
	return splitYAML(data), nil
}

func splitJSON(data []byte) ([]document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []document
	for i := 1; ; i++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, &Error{Document: i, Err: fmt.Errorf("malformed JSON: %w", err)}
		}
		docs = append(docs, document{index: i, json: true, data: raw})
		if len(docs) > MaxObjects {
			return nil, fmt.Errorf("%w (more than %d documents)", ErrTooLarge, MaxObjects)
		}
	}
}

// splitYAML splits on lines that are exactly "---" (trailing spaces
// allowed), the YAML document separator, remembering where each starts.
func splitYAML(data []byte) []document {
	var docs []document
	start, line, startLine := 0, 1, 1
	flush := func(end int) {
		docs = append(docs, document{index: len(docs) + 1, line: startLine, data: data[start:end]})
	}
	for pos := 0; pos < len(data); {
		nl := bytes.IndexByte(data[pos:], '\n')
		end := len(data)
		if nl >= 0 {
			end = pos + nl + 1
		}
		if isSeparator(data[pos:end]) {
			if pos > start || len(docs) > 0 {
				flush(pos)
			}
			start, startLine = end, line+1
		}
		pos = end
		line++
	}
	flush(len(data))
	return docs
}

func isSeparator(line []byte) bool {
	t := bytes.TrimRight(line, " \t\r\n")
	return bytes.Equal(t, []byte("---"))
}
