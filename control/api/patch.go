package api

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
)

// Patch media types. Strategic merge patch is applied as a JSON merge
// patch: lists are replaced, never merged by key.
const (
	mediaMergePatch     = "application/merge-patch+json"
	mediaStrategicPatch = "application/strategic-merge-patch+json"
)

// patch applies a JSON merge patch (RFC 7386) to the current object, or
// to its status or scale. A metadata.resourceVersion in the patch is a
// precondition; otherwise the patch is re-applied on conflict.
func (s *Server) patch(ctx context.Context, w http.ResponseWriter, r *http.Request, rq *request) (object, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != mediaMergePatch && mt != mediaStrategicPatch {
		return nil, errUnsupportedMediaType(ct, mediaMergePatch, mediaStrategicPatch)
	}
	data, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	js, err := toJSON("json", data)
	if err != nil {
		return nil, err
	}
	var p map[string]any
	if err := json.Unmarshal(js, &p); err != nil {
		return nil, errBadRequest("malformed patch: %v", err)
	}
	precond, err := patchPrecondition(p)
	if err != nil {
		return nil, err
	}
	if rq.sub == "scale" {
		return s.patchScale(ctx, rq, p, precond)
	}
	return s.update(ctx, rq, func(cur object) (object, error) {
		m, err := toMap(cur)
		if err != nil {
			return nil, errInternal(err)
		}
		merged, err := json.Marshal(mergePatch(m, p))
		if err != nil {
			return nil, errInternal(err)
		}
		return rq.res.decodeJSON(w, r, merged)
	}, precond)
}

func patchPrecondition(p map[string]any) (uint64, error) {
	md, _ := p["metadata"].(map[string]any)
	rv, present := md["resourceVersion"]
	if !present || rv == nil {
		return 0, nil
	}
	s, ok := rv.(string)
	if !ok {
		return 0, errBadRequest("metadata.resourceVersion in the patch must be a string")
	}
	return parseRevision(s)
}

// mergePatch applies patch to target per RFC 7386: objects merge
// recursively, null deletes, anything else replaces.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
		} else {
			tm[k] = mergePatch(tm[k], v)
		}
	}
	return tm
}
