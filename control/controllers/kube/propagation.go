package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DeletePropagating deletes an object with a propagationPolicy
// (Foreground: its dependents go first; Orphan: they are kept),
// conditional on its uid when uid is non-empty. The answer (the object's
// last or current state) is decoded into out when out is non-nil.
func (c *Client) DeletePropagating(ctx context.Context, k Kind, ns, name string, uid types.UID, policy metav1.DeletionPropagation, out any) error {
	opts := &metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{Kind: "DeleteOptions", APIVersion: "v1"}, PropagationPolicy: &policy}
	if uid != "" {
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	return c.do(ctx, http.MethodDelete, k.path(ns, name, ""), opts, out)
}

// MergePatch applies a JSON merge patch (RFC 7386) to an object; a
// metadata.resourceVersion in the patch makes it conditional (409 when
// the object moved on). The answer is decoded into out when out is
// non-nil.
func (c *Client) MergePatch(ctx context.Context, k Kind, ns, name string, patch, out any) error {
	data, err := json.Marshal(patch)
	if err != nil {
		return fmt.Errorf("encode patch of %s %s: %w", k.Resource, Key(ns, name), err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	path := k.path(ns, name, "")
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, c.base+path, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("build PATCH %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/merge-patch+json")
	req.Header.Set("User-Agent", "weir-controllers")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("PATCH %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return decodeStatus(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode PATCH %s answer: %w", path, err)
	}
	return nil
}
