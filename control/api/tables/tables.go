package tables

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Options selects what Convert puts in the Table; the zero value is what
// kube-apiserver answers to `kubectl get`.
type Options struct {
	// NoHeaders leaves ColumnDefinitions empty (TableOptions.noHeaders).
	NoHeaders bool
	// IncludeObject is TableOptions.includeObject: "" or "Metadata" puts a
	// PartialObjectMetadata in each row, "Object" the whole object, "None"
	// nothing. Any other value is a 400 BadRequest.
	IncludeObject metav1.IncludeObjectPolicy
	// GroupVersion is the meta.k8s.io version the client asked the Table in
	// (v1 or v1beta1); it names the Table and the rows' PartialObjectMetadata.
	// Zero means meta.k8s.io/v1.
	GroupVersion schema.GroupVersion
	// Now is the instant ages are measured from; zero means time.Now().
	Now time.Time
}

// Convert renders obj, one typed object or a typed list of the k8s.io/api
// kinds, as the metav1.Table kube-apiserver returns for it: the kind's
// column definitions and one row per object, with every column (priority 0
// and above), since the server always prints wide and kubectl hides the
// priority>0 columns unless -o wide. Kinds without a printer get the
// default table (Name, Created At). obj is not modified.
func Convert(obj runtime.Object, opts Options) (*metav1.Table, error) {
	gv := opts.GroupVersion
	if gv.Empty() {
		gv = metav1.SchemeGroupVersion
	}
	if gv != metav1.SchemeGroupVersion && gv != metav1beta1.SchemeGroupVersion {
		return nil, notAcceptable(fmt.Sprintf("no Table exists in group version %s", gv))
	}
	switch opts.IncludeObject {
	case "", metav1.IncludeMetadata, metav1.IncludeObject, metav1.IncludeNone:
	default:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("unrecognized includeObject value: %q", opts.IncludeObject))
	}
	if v := reflect.ValueOf(obj); !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return nil, apierrors.NewInternalError(fmt.Errorf("tables: no object to convert (%T)", obj))
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	p := &printer{now: now}

	k, ok := kindOf(obj)
	var table *metav1.Table
	var err error
	if ok {
		table, err = p.kindTable(k, obj)
	} else {
		table, err = p.defaultTable(obj)
	}
	if err != nil {
		return nil, err
	}
	if opts.NoHeaders {
		table.ColumnDefinitions = nil
	}
	if l, err := meta.ListAccessor(obj); err == nil {
		table.ResourceVersion = l.GetResourceVersion()
		table.Continue = l.GetContinue()
		table.RemainingItemCount = l.GetRemainingItemCount()
	} else if c, err := meta.CommonAccessor(obj); err == nil {
		table.ResourceVersion = c.GetResourceVersion()
	}
	table.SetGroupVersionKind(gv.WithKind("Table"))
	for i := range table.Rows {
		if err := includeObject(&table.Rows[i].Object, opts.IncludeObject, gv); err != nil {
			return nil, err
		}
	}
	return table, nil
}

// kind is one printer of printers.go: its columns, and the cells of one
// object's row.
type kind struct {
	columns []metav1.TableColumnDefinition
	row     func(p *printer, obj runtime.Object) metav1.TableRow
}

// kindTable builds the table of a kind with a printer; rows of a list are
// never nil (kube-apiserver's printers answer "rows": [] for an empty list).
func (p *printer) kindTable(k *kind, obj runtime.Object) (*metav1.Table, error) {
	// A copy: the caller owns the Table, the definitions are shared.
	table := &metav1.Table{ColumnDefinitions: slices.Clone(k.columns), Rows: []metav1.TableRow{}}
	add := func(item runtime.Object) error {
		row := k.row(p, item)
		row.Object = runtime.RawExtension{Object: item}
		table.Rows = append(table.Rows, row)
		return nil
	}
	if meta.IsListType(obj) {
		if err := meta.EachListItem(obj, add); err != nil {
			return nil, apierrors.NewInternalError(fmt.Errorf("tables: list %T: %w", obj, err))
		}
		return table, nil
	}
	_ = add(obj)
	return table, nil
}

// defaultTable is kube-apiserver's default table convertor (used for the
// kinds with no printer: Role, ClusterRole, LimitRange, ...): the name and
// the creation time in RFC 3339, UTC.
func (p *printer) defaultTable(obj runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: objectMetaDoc["name"]},
		{Name: "Created At", Type: "date", Description: objectMetaDoc["creationTimestamp"]},
	}}
	add := func(item runtime.Object) error {
		m, err := meta.Accessor(item)
		if err != nil {
			return notAcceptable(fmt.Sprintf("the resource %T does not support being converted to a Table", item))
		}
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells:  []interface{}{m.GetName(), m.GetCreationTimestamp().UTC().Format(time.RFC3339)},
			Object: runtime.RawExtension{Object: item},
		})
		return nil
	}
	var err error
	if meta.IsListType(obj) {
		err = meta.EachListItem(obj, add)
	} else {
		err = add(obj)
	}
	if err != nil {
		return nil, err
	}
	return table, nil
}

// includeObject replaces a row's object as TableOptions.includeObject asks.
func includeObject(ext *runtime.RawExtension, policy metav1.IncludeObjectPolicy, gv schema.GroupVersion) error {
	switch policy {
	case metav1.IncludeNone:
		ext.Object = nil
	case metav1.IncludeObject:
		ext.Object = withKind(ext.Object)
	default: // "", Metadata
		m, err := meta.Accessor(ext.Object)
		if err != nil {
			return apierrors.NewInternalError(fmt.Errorf("tables: metadata of %T: %w", ext.Object, err))
		}
		partial := meta.AsPartialObjectMetadata(m)
		partial.SetGroupVersionKind(gv.WithKind("PartialObjectMetadata"))
		ext.Object = partial
	}
	return nil
}

// withKind returns obj with apiVersion and kind set (a copy, when they
// were not), so that the row's object encodes as a complete object.
func withKind(obj runtime.Object) runtime.Object {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return obj
	}
	gvks, _, err := scheme.ObjectKinds(obj)
	if err != nil || len(gvks) == 0 {
		return obj
	}
	c := obj.DeepCopyObject()
	c.GetObjectKind().SetGroupVersionKind(gvks[0])
	return c
}

// scheme knows the served kinds, to name a row's object (read-only after
// package initialisation).
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		discoveryv1.AddToScheme, networkingv1.AddToScheme, policyv1.AddToScheme,
		rbacv1.AddToScheme, coordinationv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(fmt.Sprintf("tables: scheme: %v", err)) // programming error, caught by any test
		}
	}
	return s
}()

func notAcceptable(msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusNotAcceptable,
		Reason:  metav1.StatusReasonNotAcceptable,
		Message: msg,
	}}
}

// printer carries what every cell needs: the instant ages count from.
type printer struct {
	now time.Time
}

// age is kube's translateTimestampSince: "<unknown>" for a zero time, else
// a HumanDuration ("5m", "3d2h", "2y").
func (p *printer) age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(p.now.Sub(t.Time))
}

func (p *printer) microAge(t metav1.MicroTime) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(p.now.Sub(t.Time))
}
