package member

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/weirnet/weir/control/nodestream"
	pb "github.com/weirnet/weir/vocab/nodestreampb"
)

// bootstrapNode gets node's certificate the way an agent does: a key, a
// CSR and RequestCertificate with the bootstrap token.
func bootstrapNode(t *testing.T, m *Member, token, node string) *tls.Certificate {
	t.Helper()
	pair, _ := requestNodeCert(t, m, nodestream.DialConfig{CAPEM: m.CACert(), BootstrapToken: token}, node)
	return pair
}

// requestNodeCert asks the node stream dialled with dc (credentials, CA)
// for a certificate for node: a new key, a CSR and RequestCertificate.
// It returns the certificate and the CA bundle the answer carries.
func requestNodeCert(t *testing.T, m *Member, dc nodestream.DialConfig, node string) (*tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "system:node:" + node, Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	dc.Addr, dc.ServerName = m.NodeStreamAddr(), "127.0.0.1"
	c, conn, err := nodestream.Dial(dc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := c.RequestCertificate(ctx, &pb.CertificateRequest{NodeName: node,
		CsrPem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})})
	if err != nil {
		t.Fatalf("certificate for %s: %v", node, err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	pair, err := tls.X509KeyPair(resp.CertPem, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	if err != nil {
		t.Fatal(err)
	}
	return &pair, resp.CaPem
}

func nodeStreamAs(t *testing.T, m *Member, cert *tls.Certificate) pb.NodeStreamClient {
	t.Helper()
	c, conn, err := nodestream.Dial(nodestream.DialConfig{Addr: m.NodeStreamAddr(), CAPEM: m.CACert(), ServerName: "127.0.0.1",
		Certificate: func() (*tls.Certificate, error) { return cert, nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return c
}

func apiAs(t *testing.T, m *Member, cert *tls.Certificate) kubernetes.Interface {
	t.Helper()
	kder, _ := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: m.APIURL(), TLSClientConfig: rest.TLSClientConfig{CAData: m.CACert(),
		CertData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		KeyData:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})}})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// nodeTestMember starts a member with its node stream, defaults and
// leader loops (controllers), all stopped when t ends; it returns a
// context for t, an admin clientset and a bootstrap token, as `weir token
// create` makes it.
func nodeTestMember(t *testing.T) (*Member, context.Context, kubernetes.Interface, string) {
	t.Helper()
	m := startMember(t, Config{Name: "m1", DataDir: t.TempDir(), Bootstrap: true, NodeListen: "127.0.0.1:0"})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	if err := m.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	loops, stopLoops := context.WithCancel(ctx)
	wait := m.startLeaderLoops(loops)
	t.Cleanup(func() { stopLoops(); wait() })
	admin, err := kubernetes.NewForConfig(m.leaderRESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	tok := nodestream.NewBootstrapToken()
	sec, _ := nodestream.BootstrapTokenSecret(tok, time.Hour, "test")
	if _, err := admin.CoreV1().Secrets(sec.Namespace).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return m, ctx, admin, tok
}

// TestNodeRestrictionEndToEnd: a member with its node stream, controllers
// and API. node-a joins with a bootstrap token; with its credential it
// cannot register or subscribe as node-b, send node-b's pod status, or
// read through the API a Secret its pods do not use, nor write node-b's
// Node or pods; node-b's pod's EndpointSlice never changes.
func TestNodeRestrictionEndToEnd(t *testing.T) {
	m, ctx, admin, tok := nodeTestMember(t)
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	var certA, certB *tls.Certificate
	eventually("the node stream serving", func() bool { return m.NodeStreamAddr() != "" && m.tls.CA() != nil })
	certA = bootstrapNode(t, m, tok, "node-a")
	certB = bootstrapNode(t, m, tok, "node-b")
	a, b := nodeStreamAs(t, m, certA), nodeStreamAs(t, m, certB)
	for _, n := range []struct {
		c    pb.NodeStreamClient
		name string
		ip   string
	}{{a, "node-a", "192.0.2.1"}, {b, "node-b", "192.0.2.2"}} {
		if _, err := n.c.Register(ctx, &pb.RegisterRequest{NodeName: n.name, Addresses: []string{n.ip}, Capacity: map[string]string{"cpu": "2", "pods": "110"}}); err != nil {
			t.Fatalf("register %s: %v", n.name, err)
		}
	}

	// Workload: pod-a on node-a uses Secret used; pod-b on node-b backs
	// Service victim, Running and Ready at 10.244.1.5.
	for _, name := range []string{"used", "other"} {
		if _, err := admin.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name},
			StringData: map[string]string{"k": "v-" + name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mkPod := func(name, node string, vols []corev1.Volume) *corev1.Pod {
		p, err := admin.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
			Spec: corev1.PodSpec{NodeName: node, Volumes: vols, Containers: []corev1.Container{{Name: "c", Image: "weir/testimage:1",
				Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	mkPod("pod-a", "node-a", []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "used"}}}}}}}})
	podB := mkPod("pod-b", "node-b", nil)
	if _, err := admin.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "victim"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "pod-b"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80)}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// node-b reports its pod Running and Ready over its own stream.
	ready, _ := json.Marshal(corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1.5", PodIPs: []corev1.PodIP{{IP: "10.244.1.5"}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: corev1.ContainersReady, Status: corev1.ConditionTrue}}})
	sb, err := b.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sb.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: "node-b"}}})
	sb.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_PodStatus{PodStatus: &pb.PodStatus{Namespace: "default", Name: "pod-b", Uid: string(podB.UID), StatusJson: ready}}})
	var slice *discoveryv1.EndpointSlice
	eventually("victim's EndpointSlice lists 10.244.1.5", func() bool {
		l, err := admin.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=victim"})
		if err != nil || len(l.Items) != 1 || len(l.Items[0].Endpoints) != 1 || l.Items[0].Endpoints[0].Addresses[0] != "10.244.1.5" {
			return false
		}
		slice = &l.Items[0]
		return true
	})

	// The node stream, as node-a, acting for node-b.
	if _, err := a.Register(ctx, &pb.RegisterRequest{NodeName: "node-b", Addresses: []string{"6.6.6.6"}}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("register as node-b: %v, want PermissionDenied", err)
	}
	sub, err := a.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sub.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: "node-b"}}})
	if _, err := sub.Recv(); status.Code(err) != codes.PermissionDenied {
		t.Errorf("subscribe as node-b: %v, want PermissionDenied", err)
	}
	forged, _ := json.Marshal(corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "6.6.6.6", PodIPs: []corev1.PodIP{{IP: "6.6.6.6"}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}})
	sa, err := a.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sa.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Subscribe{Subscribe: &pb.Subscribe{NodeName: "node-a"}}})
	sa.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_PodStatus{PodStatus: &pb.PodStatus{Namespace: "default", Name: "pod-b", Uid: string(podB.UID), StatusJson: forged}}})
	for {
		if _, err := sa.Recv(); err != nil {
			if status.Code(err) != codes.PermissionDenied {
				t.Errorf("forged pod status: stream ended with %v, want PermissionDenied", err)
			}
			break
		}
	}

	// The API, as node-a.
	api := apiAs(t, m, certA)
	eventually("node-a may read the Secret its pod uses", func() bool {
		_, err := api.CoreV1().Secrets("default").Get(ctx, "used", metav1.GetOptions{})
		return err == nil
	})
	forbidden := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want 403 Forbidden", what, err)
		}
	}
	_, err = api.CoreV1().Secrets("default").Get(ctx, "other", metav1.GetOptions{})
	forbidden("get a Secret no pod of node-a uses", err)
	_, err = api.CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
	forbidden("list Secrets", err)
	_, err = api.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	forbidden("list all pods", err)
	if _, err := api.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=node-a"}); err != nil {
		t.Errorf("list node-a's pods: %v", err)
	}
	_, err = api.CoreV1().Pods("default").Get(ctx, "pod-b", metav1.GetOptions{})
	forbidden("get node-b's pod", err)
	patch := []byte(`{"status":{"podIP":"6.6.6.6","podIPs":[{"ip":"6.6.6.6"}]}}`)
	_, err = api.CoreV1().Pods("default").Patch(ctx, "pod-b", types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	forbidden("patch node-b's pod status", err)
	if _, err := api.CoreV1().Pods("default").Patch(ctx, "pod-a", types.MergePatchType, []byte(`{"status":{"message":"ok"}}`), metav1.PatchOptions{}, "status"); err != nil {
		t.Errorf("patch its own pod's status: %v", err)
	}
	_, err = api.CoreV1().Nodes().Patch(ctx, "node-b", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	forbidden("patch node-b", err)
	_, err = api.CoreV1().Nodes().Patch(ctx, "node-a", types.MergePatchType, []byte(`{"metadata":{"labels":{"node-restriction.kubernetes.io/trusted":"yes"}}}`), metav1.PatchOptions{})
	forbidden("set a node-restriction label on itself", err)
	if _, err := api.CoreV1().Nodes().Patch(ctx, "node-a", types.MergePatchType, []byte(`{"metadata":{"labels":{"zone":"a"}}}`), metav1.PatchOptions{}); err != nil {
		t.Errorf("label its own Node: %v", err)
	}
	_, err = api.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-c"}}, metav1.CreateOptions{})
	forbidden("create another Node", err)
	err = api.CoreV1().Pods("default").Delete(ctx, "pod-b", metav1.DeleteOptions{})
	forbidden("delete node-b's pod", err)
	_, err = api.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "sneaky"},
		Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "c", Image: "x"}}}}, metav1.CreateOptions{})
	forbidden("create a regular pod", err)
	_, err = api.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	forbidden("list ConfigMaps", err)
	// Leases: its own, in kube-node-lease, only. node-b's stream made node-b's.
	leases := api.CoordinationV1().Leases("kube-node-lease")
	if _, err := admin.CoordinationV1().Leases("kube-node-lease").Get(ctx, "node-b", metav1.GetOptions{}); err != nil {
		t.Errorf("node-b's lease, renewed by its stream: %v", err)
	}
	own, err := leases.Get(ctx, "node-a", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		own, err = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}, metav1.CreateOptions{})
	}
	if err != nil {
		t.Errorf("get or create its own lease: %v", err)
	} else if _, err := leases.Update(ctx, own, metav1.UpdateOptions{}); err != nil {
		t.Errorf("update its own lease: %v", err)
	}
	_, err = leases.Patch(ctx, "node-b", types.MergePatchType, []byte(`{"spec":{"holderIdentity":"node-a"}}`), metav1.PatchOptions{})
	forbidden("patch node-b's lease", err)
	_, err = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node-c"}}, metav1.CreateOptions{})
	forbidden("create a lease named for another node", err)
	_, err = api.CoordinationV1().Leases("default").Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}, metav1.CreateOptions{})
	forbidden("create a lease outside kube-node-lease", err)

	// Nothing of node-b's changed.
	time.Sleep(time.Second) // the controllers had a chance to act on a forged status
	p, err := admin.CoreV1().Pods("default").Get(ctx, "pod-b", metav1.GetOptions{})
	if err != nil || p.Status.PodIP != "10.244.1.5" {
		t.Errorf("pod-b: %v, podIP %s", err, p.Status.PodIP)
	}
	l, err := admin.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=victim"})
	if err != nil || len(l.Items) != 1 || l.Items[0].ResourceVersion != slice.ResourceVersion {
		t.Errorf("victim's EndpointSlice changed: %v %s", err, dump(l))
	}
	n, err := admin.CoreV1().Nodes().Get(ctx, "node-b", metav1.GetOptions{})
	if err != nil || !strings.Contains(fmt.Sprint(n.Status.Addresses), "192.0.2.2") || strings.Contains(fmt.Sprint(n.Status.Addresses), "6.6.6.6") {
		t.Errorf("node-b's addresses: %v %v", err, n.Status.Addresses)
	}
}

func dump(v any) string { b, _ := json.Marshal(v); return string(b) }
