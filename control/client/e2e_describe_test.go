package client_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/client/printers"
)

// TestE2EDescribeWithEvents stores a pod and events about it (and about
// something else), and describes the pod with the events EventsFor finds.
func TestE2EDescribeWithEvents(t *testing.T) {
	c := newCluster(t).client
	ctx := ctxT(t)
	ns := client.NamespaceOptions{Namespace: "default"}
	pod := apply(t, c, `
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {containers: [{name: web, image: nginx:1.27, ports: [{containerPort: 80}]}]}
`, ns)[0].Object
	now := time.Now().UTC().Format(time.RFC3339)
	apply(t, c, `
apiVersion: v1
kind: Event
metadata: {name: web.1}
involvedObject: {kind: Pod, name: web, namespace: default, uid: "`+string(pod.GetUID())+`"}
type: Normal
reason: Scheduled
message: assigned default/web to node-1
lastTimestamp: "`+now+`"
source: {component: weir-scheduler}
---
apiVersion: v1
kind: Event
metadata: {name: other.1}
involvedObject: {kind: Pod, name: other, namespace: default}
type: Warning
reason: Failed
message: not about web
lastTimestamp: "`+now+`"
`, ns)
	events, err := c.EventsFor(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].GetName() != "web.1" {
		t.Fatalf("EventsFor = %d events, want web.1 only", len(events))
	}
	var out bytes.Buffer
	if err := printers.Describe(&out, pod, events, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Name:", "web", "Image:", "nginx:1.27", "Events:", "Scheduled", "weir-scheduler", "assigned default/web to node-1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("describe output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "not about web") {
		t.Errorf("describe shows another object's event:\n%s", out.String())
	}
}
