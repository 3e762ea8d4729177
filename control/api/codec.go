package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"sigs.k8s.io/yaml"
)

// Media types of request bodies.
const (
	mediaJSON = "application/json"
	mediaYAML = "application/yaml"
)

// bodyFormat returns "json" or "yaml" for a request's Content-Type, with
// detection when the header is absent, or a 415 Status.
func bodyFormat(r *http.Request, data []byte) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
			return "json", nil
		}
		return "yaml", nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", errUnsupportedMediaType(mediaJSON, mediaYAML)
	}
	switch mt {
	case mediaJSON:
		return "json", nil
	case mediaYAML, "application/x-yaml", "text/yaml":
		return "yaml", nil
	}
	return "", errUnsupportedMediaType(mediaJSON, mediaYAML)
}

// readBody reads a bounded request body (413 beyond the limit).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, errTooLarge(limit)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge(limit)
	}
	if err != nil {
		return nil, errBadRequest("reading the request body: %v", err)
	}
	return data, nil
}

// toJSON converts a body of the given format to JSON and checks that it is
// one JSON object.
func toJSON(format string, data []byte) ([]byte, error) {
	js := data
	if format == "yaml" {
		var err error
		if js, err = yaml.YAMLToJSON(data); err != nil {
			return nil, errBadRequest("malformed YAML in the request body: %v", err)
		}
	}
	t := bytes.TrimSpace(js)
	if len(t) == 0 || t[0] != '{' {
		if !json.Valid(t) && format == "json" {
			return nil, errBadRequest("malformed JSON in the request body: %v", jsonSyntaxError(t))
		}
		return nil, errBadRequest("the request body must be a single %s object", strings.ToUpper(format))
	}
	if !json.Valid(t) {
		return nil, errBadRequest("malformed JSON in the request body: %v", jsonSyntaxError(t))
	}
	return t, nil
}

func jsonSyntaxError(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return errors.New("empty body")
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
