package api

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/weirnet/weir/control/api/tables"
)

// codecs is the API's one serialization path: a runtime.Scheme holding
// every k8s.io/api type, the unversioned meta types (Status, WatchEvent,
// options) and meta.k8s.io/v1 (Table, PartialObjectMetadata), and its
// CodecFactory, which reads and writes JSON, YAML and protobuf
// (application/vnd.kubernetes.protobuf) for objects and watch streams.
type codecs struct {
	scheme  *runtime.Scheme
	factory serializer.CodecFactory
}

func newCodecs() *codecs {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	utilruntime.Must(metav1.AddMetaToScheme(s))
	utilruntime.Must(metav1beta1.AddMetaToScheme(s))
	utilruntime.Must(apidiscoveryv2.AddToScheme(s))
	// Options bodies (DeleteOptions) may name meta.k8s.io/v1, as kube-apiserver allows.
	s.AddUnversionedTypes(metav1.SchemeGroupVersion, &metav1.DeleteOptions{})
	return &codecs{scheme: s, factory: serializer.NewCodecFactory(s)}
}

// listOf builds the typed list (PodList, DeploymentList, ...) of res's
// kind holding items, so that every encoding, protobuf included, sees a
// registered type.
func (c *codecs) listOf(res *resource, items []runtime.Object, lm metav1.ListMeta) (runtime.Object, error) {
	gvk := schema.GroupVersionKind{Group: res.Group, Version: res.Version, Kind: res.Kind + "List"}
	list, err := c.scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("api: no list type for %s: %w", res.Kind, err)
	}
	if err := meta.SetList(list, items); err != nil {
		return nil, fmt.Errorf("api: fill %s: %w", gvk.Kind, err)
	}
	la, err := meta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	la.SetResourceVersion(lm.ResourceVersion)
	la.SetContinue(lm.Continue)
	la.SetRemainingItemCount(lm.RemainingItemCount)
	list.GetObjectKind().SetGroupVersionKind(gvk)
	return list, nil
}

// outputRestrictions says which conversions (?as=) an answer allows:
// objects and lists may be turned into a Table or PartialObjectMetadata
// (List); nothing else may.
type outputRestrictions struct{ transforms bool }

func (o outputRestrictions) AllowsMediaTypeTransform(_, subType string, target *schema.GroupVersionKind) bool {
	if target == nil {
		return true
	}
	if target.Kind == "Table" && subType == "vnd.kubernetes.protobuf" {
		return false // a Table's cells have no protobuf form, as in kube-apiserver
	}
	if !o.transforms || target.Group != metav1.GroupName || target.Version != "v1" && !(target.Version == "v1beta1" && target.Kind == "Table") {
		return false
	}
	switch target.Kind {
	case "Table", "PartialObjectMetadata", "PartialObjectMetadataList":
		return true
	}
	return false
}
func (outputRestrictions) AllowsServerVersion(string) bool  { return false }
func (outputRestrictions) AllowsStreamSchema(s string) bool { return s == "watch" }

// errNotAcceptable is the 406 answer when the client accepts no media
// type the server writes.
func errNotAcceptable(accept string) *apierrors.StatusError {
	return newStatus(http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable,
		fmt.Sprintf("only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf (not %q)", accept))
}

// negotiate picks the serializer for an answer from the Accept header, and
// the conversion the client asked for (as=Table, ...), if any.
func (s *Server) negotiate(r *http.Request, transforms bool) (negotiation.MediaTypeOptions, runtime.SerializerInfo, error) {
	opts, info, err := negotiation.NegotiateOutputMediaType(r, s.codecs.factory, outputRestrictions{transforms: transforms})
	if err != nil {
		return opts, info, errNotAcceptable(r.Header.Get("Accept"))
	}
	return opts, info, nil
}

// writeObject writes v in the negotiated media type. Registered API types
// (objects, lists, Status, discovery documents) go through the codecs,
// converted to a Table or PartialObjectMetadata when the client asked for
// it; weir's own documents (members) are JSON.
func (s *Server) writeObject(w http.ResponseWriter, r *http.Request, code int, v any) {
	obj, ok := v.(runtime.Object)
	if ok {
		if _, _, err := s.codecs.scheme.ObjectKinds(obj); err != nil {
			ok = false
		}
	}
	if !ok {
		s.writeJSON(w, r, code, v)
		return
	}
	_, isStatus := obj.(*metav1.Status)
	opts, info, err := s.negotiate(r, !isStatus && code < 300)
	if err != nil {
		if isStatus { // an error about an error: answer it in JSON
			info = s.jsonInfo()
		} else {
			s.writeError(w, r, err)
			return
		}
	}
	if opts.Convert != nil {
		if obj, err = s.transform(r, obj, *opts.Convert); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	data, err := s.encode(info, opts.Pretty, obj)
	if err != nil {
		s.log.Error("encode response", "path", r.URL.Path, "err", err)
		code, info = http.StatusInternalServerError, s.jsonInfo()
		data, _ = s.encode(info, false, wireStatus(errInternal(err)))
	}
	w.Header().Set("Content-Type", info.MediaType)
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// writeJSON writes a value that is no registered API type as JSON.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	data, err := jsonMarshal(v)
	if err != nil {
		s.log.Error("encode response", "path", r.URL.Path, "err", err)
		s.writeError(w, r, errInternal(err))
		return
	}
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}

func (s *Server) jsonInfo() runtime.SerializerInfo {
	info, _ := runtime.SerializerInfoForMediaType(s.codecs.factory.SupportedMediaTypes(), runtime.ContentTypeJSON)
	return info
}

// encode writes an object, already in its external version, with its
// apiVersion and kind set from the scheme.
func (s *Server) encode(info runtime.SerializerInfo, pretty bool, obj runtime.Object) ([]byte, error) {
	enc := info.Serializer
	if pretty && info.PrettySerializer != nil {
		enc = info.PrettySerializer
	}
	gvks, _, err := s.codecs.scheme.ObjectKinds(obj)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = runtime.WithVersionEncoder{Version: gvks[0].GroupVersion(), Encoder: enc, ObjectTyper: s.codecs.scheme}.Encode(obj, &buf)
	return buf.Bytes(), err
}

// transform converts an answer to the meta.k8s.io/v1 kind the client
// asked for in its Accept header.
func (s *Server) transform(r *http.Request, obj runtime.Object, to schema.GroupVersionKind) (runtime.Object, error) {
	switch to.Kind {
	case "Table":
		q := r.URL.Query()
		t, err := tables.Convert(obj, tables.Options{IncludeObject: metav1.IncludeObjectPolicy(q.Get("includeObject")),
			NoHeaders: q.Get("noHeaders") == "true", GroupVersion: to.GroupVersion(), Now: time.Now()})
		if se, ok := apiStatus(err); ok {
			return nil, se
		}
		return t, err
	case "PartialObjectMetadata":
		if meta.IsListType(obj) {
			return nil, errNotAcceptable(r.Header.Get("Accept") + ": a list is a PartialObjectMetadataList")
		}
		return partialMetadata(obj)
	case "PartialObjectMetadataList":
		if !meta.IsListType(obj) {
			return nil, errNotAcceptable(r.Header.Get("Accept") + ": one object is a PartialObjectMetadata")
		}
		items, err := meta.ExtractList(obj)
		if err != nil {
			return nil, errInternal(err)
		}
		la, err := meta.ListAccessor(obj)
		if err != nil {
			return nil, errInternal(err)
		}
		out := &metav1.PartialObjectMetadataList{Items: make([]metav1.PartialObjectMetadata, 0, len(items))}
		out.ResourceVersion, out.Continue, out.RemainingItemCount = la.GetResourceVersion(), la.GetContinue(), la.GetRemainingItemCount()
		for _, it := range items {
			p, err := partialMetadata(it)
			if err != nil {
				return nil, err
			}
			out.Items = append(out.Items, *p)
		}
		return out, nil
	}
	return nil, errNotAcceptable(to.String())
}

// partialMetadata is the PartialObjectMetadata of one object.
func partialMetadata(obj runtime.Object) (*metav1.PartialObjectMetadata, error) {
	ma, ok := obj.(metav1.ObjectMetaAccessor)
	if !ok {
		return nil, errInternal(fmt.Errorf("%T has no ObjectMeta", obj))
	}
	om, ok := ma.GetObjectMeta().(*metav1.ObjectMeta)
	if !ok {
		return nil, errInternal(fmt.Errorf("%T has no ObjectMeta", obj))
	}
	return &metav1.PartialObjectMetadata{ObjectMeta: *om.DeepCopy()}, nil
}

// decodeBody decodes a create or update body (JSON, YAML or protobuf, by
// Content-Type) into a typed object of r, defaulting apiVersion and kind
// to the URL's and refusing others. Unknown and duplicate fields follow
// ?fieldValidation as in kube-apiserver: Strict refuses them (400), Warn
// (the default) answers with Warning headers, Ignore drops them silently.
func (s *Server) decodeBody(w http.ResponseWriter, req *http.Request, r *resource) (object, error) {
	data, err := s.readBody(w, req)
	if err != nil {
		return nil, err
	}
	into := r.newObj()
	out, err := s.decodeInto(w, req, data, into, r.gvk())
	if err != nil {
		return nil, err
	}
	obj, ok := out.(object)
	if !ok || out.GetObjectKind().GroupVersionKind() != r.gvk() {
		got := out.GetObjectKind().GroupVersionKind()
		if got.GroupVersion() != r.gvk().GroupVersion() {
			return nil, errBadRequest("the API version in the data (%s) does not match the expected API version (%s)", got.GroupVersion(), r.APIVersion())
		}
		return nil, errBadRequest("the kind in the data (%s) does not match the expected kind (%s) of %s", got.Kind, r.Kind, r.Resource())
	}
	return obj, nil
}

// decodeInto decodes a request body of any served media type into into
// (whose kind def names when the body names none) with fieldValidation.
func (s *Server) decodeInto(w http.ResponseWriter, req *http.Request, data []byte, into runtime.Object, def schema.GroupVersionKind) (runtime.Object, error) {
	info, err := s.inputSerializer(req, data)
	if err != nil {
		return nil, err
	}
	validation := req.URL.Query().Get("fieldValidation")
	dec := info.Serializer
	switch validation {
	case "", "Warn", "Strict":
		if info.StrictSerializer != nil {
			dec = info.StrictSerializer
		}
	case "Ignore":
	default:
		return nil, errBadRequest("fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", not %q", validation)
	}
	out, gvk, err := dec.Decode(data, &def, into)
	if err != nil && runtime.IsStrictDecodingError(err) && out != nil {
		if validation == "Strict" {
			return nil, errBadRequest("%s in version %q cannot be handled as a %s: %v", def.Kind, def.Version, def.Kind, err)
		}
		if sde, ok := runtime.AsStrictDecodingError(err); ok {
			for _, e := range sde.Errors() {
				w.Header().Add("Warning", fmt.Sprintf("299 - %q", e))
			}
		}
		err = nil
	}
	if err != nil {
		if runtime.IsNotRegisteredError(err) {
			return nil, errBadRequest("the API version or kind in the data does not match the expected API version (%s) and kind (%s): %v", def.GroupVersion(), def.Kind, err)
		}
		return nil, errBadRequest("%s in version %q cannot be handled as a %s: %v", def.Kind, def.Version, def.Kind, err)
	}
	if gvk != nil {
		out.GetObjectKind().SetGroupVersionKind(*gvk)
	}
	return out, nil
}

// inputSerializer picks the decoder for a body by its Content-Type; a body
// without one is JSON when it starts with '{', else YAML.
func (s *Server) inputSerializer(req *http.Request, data []byte) (runtime.SerializerInfo, error) {
	ct := req.Header.Get("Content-Type")
	if ct == "" {
		ct = mediaYAML
		if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
			ct = mediaJSON
		}
	}
	info, err := negotiation.NegotiateInputSerializerForMediaType(ct, false, s.codecs.factory)
	if err != nil {
		var supported []string
		for _, i := range s.codecs.factory.SupportedMediaTypes() {
			supported = append(supported, i.MediaType)
		}
		return info, errUnsupportedMediaType(supported...)
	}
	return info, nil
}
