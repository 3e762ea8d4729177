package nodee2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/weirnet/weir/tests/testutil"
)

// zooDir holds the manifest zoo: real-world-shaped manifests whose images
// are the test image (tests/zoo).
const zooDir = "../zoo"

// TestManifestZoo applies every manifest of tests/zoo with the real
// kubectl to a one-node cluster running pods in containerd, and checks
// that each behaves as it would on Kubernetes (each check is a subtest,
// so one failing shows which manifest and what it saw).
func TestManifestZoo(t *testing.T) {
	testutil.RequireBinary(t, "kubectl", exec.LookPath)
	c, _, _, _ := onePodNode(t)
	kc := kubeconfigFor(t, c)
	z := &zoo{kc: kc}

	files, err := filepath.Glob(filepath.Join(zooDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", zooDir, err)
	}
	checks := map[string]func(*testing.T, *zoo){
		"cronjob.yaml":             zooCronJob,
		"deployment-config.yaml":   zooDeploymentConfig,
		"log-agent-daemonset.yaml": zooLogAgent,
		"namespace-quota.yaml":     zooNamespaceQuota,
		"nginx-init.yaml":          zooNginxInit,
		"redis-statefulset.yaml":   zooRedis,
	}
	var names []string
	refused := map[string]string{} // manifest -> what kubectl apply said
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	sort.Strings(names)
	for _, name := range names {
		if checks[name] == nil {
			t.Errorf("tests/zoo/%s has no check in TestManifestZoo", name)
		}
		// Apply all first: the checks then wait on each in turn, and the
		// CronJob's schedule runs meanwhile.
		if out, errOut, code := z.kubectl(t, "apply", "-f", filepath.Join(zooDir, name)); code != 0 {
			refused[name] = fmt.Sprintf("exit %d\n%s%s", code, out, errOut)
		}
	}
	for _, name := range names {
		if check := checks[name]; check != nil {
			t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
				if r, ok := refused[name]; ok {
					t.Fatalf("kubectl apply -f %s: %s", name, r)
				}
				check(t, z)
			})
		}
	}
}

type zoo struct{ kc *kubectlEnv }

func (z *zoo) kubectl(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return z.kc.run(t, nil, "kubectl", append([]string{"--kubeconfig", z.kc.path}, args...)...)
}

// out is kubectl's stdout, trimmed; "" when it fails.
func (z *zoo) out(t *testing.T, args ...string) string {
	t.Helper()
	out, _, code := z.kubectl(t, args...)
	if code != 0 {
		return ""
	}
	return strings.TrimSpace(out)
}

// wait polls kubectl args until its trimmed stdout satisfies ok.
func (z *zoo) wait(t *testing.T, what string, d time.Duration, ok func(string) bool, args ...string) string {
	t.Helper()
	var last string
	deadline := time.Now().Add(d)
	for {
		last = z.out(t, args...)
		if ok(last) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; kubectl %s last printed %q", what, d, strings.Join(args, " "), last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// readyPods waits until want pods matching selector in ns are Ready and
// returns their names.
func (z *zoo) readyPods(t *testing.T, ns, selector string, want int) []string {
	t.Helper()
	tmpl := `{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`
	out := z.wait(t, selector+" pods Ready", 120*time.Second, func(s string) bool {
		lines := strings.Fields(s)
		if len(lines) != want {
			return false
		}
		for _, l := range lines {
			if !strings.HasSuffix(l, "=True") {
				return false
			}
		}
		return true
	}, "get", "pods", "-n", ns, "-l", selector, "-o", "jsonpath="+tmpl)
	var names []string
	for _, l := range strings.Fields(out) {
		names = append(names, strings.TrimSuffix(l, "=True"))
	}
	return names
}

// exec runs a shell command in a pod's container and returns its stdout.
func (z *zoo) exec(t *testing.T, ns, pod, container, script string) string {
	t.Helper()
	out, errOut, code := z.kubectl(t, "exec", "-n", ns, pod, "-c", container, "--", "/bin/sh", "-c", script)
	if code != 0 {
		t.Fatalf("kubectl exec %s/%s -c %s -- %q: exit %d: %s", ns, pod, container, script, code, errOut)
	}
	return out
}

// zooDeploymentConfig: envFrom (with a prefix), fieldRef and
// resourceFieldRef env, the configMap file with its items, the secret's
// defaultMode, the Service's endpoints, and a ConfigMap change reaching
// the mounted file.
func zooDeploymentConfig(t *testing.T, z *zoo) {
	pods := z.readyPods(t, "default", "app=shop", 2)
	env := z.exec(t, "default", pods[0], "web", "env")
	for _, want := range []string{"APP_MODE=production", "LOG_LEVEL=info", "SECRET_DB_USER=shop", "SECRET_DB_PASSWORD=s3cret-zoo",
		"POD_NAME=" + pods[0], "MEMORY_LIMIT=128"} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("env of %s lacks %s:\n%s", pods[0], want, env)
		}
	}
	if got := z.exec(t, "default", pods[0], "web", "cat /etc/shop/app.properties; ls /etc/shop"); !strings.Contains(got, "cache.size=128") || strings.Contains(got, "APP_MODE") {
		t.Errorf("/etc/shop (items: only app.properties): %q", got)
	}
	if got := strings.TrimSpace(z.exec(t, "default", pods[0], "web", "stat -L -c %a /etc/shop-credentials/DB_PASSWORD; cat /etc/shop-credentials/DB_PASSWORD")); got != "400\ns3cret-zoo" {
		t.Errorf("secret file mode and content: %q, want 400 and s3cret-zoo", got)
	}
	z.wait(t, "2 ready endpoints for Service shop", 30*time.Second, func(s string) bool { return len(strings.Fields(s)) == 2 },
		"get", "endpointslices", "-l", "kubernetes.io/service-name=shop", "-o", `jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}`)
	if _, e, code := z.kubectl(t, "patch", "configmap", "shop-config", "--type", "merge", "-p", `{"data":{"app.properties":"cache.size=256\n"}}`); code != 0 {
		t.Fatalf("patch shop-config: %s", e)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(z.exec(t, "default", pods[0], "web", "cat /etc/shop/app.properties"), "cache.size=256") {
		if time.Now().After(deadline) {
			t.Fatal("the ConfigMap change did not reach the mounted file within 60 s")
		}
		time.Sleep(time.Second)
	}
}

// zooNginxInit: the init container ran to completion before the server,
// and the server sees what it wrote into the shared emptyDir.
func zooNginxInit(t *testing.T, z *zoo) {
	pods := z.readyPods(t, "default", "app.kubernetes.io/name=static-site", 1)
	if got := z.out(t, "get", "pod", pods[0], "-o", "jsonpath={.status.initContainerStatuses[0].state.terminated.reason}"); got != "Completed" {
		t.Errorf("init container state: %q, want Completed", got)
	}
	if got := z.exec(t, "default", pods[0], "nginx", "cat /usr/share/nginx/html/index.html; touch /usr/share/nginx/html/x 2>/dev/null && echo writable; grep -c ' /var/cache/nginx tmpfs ' /proc/mounts"); got != "<h1>rendered by init</h1>\n1\n" {
		t.Errorf("the server's view: %q, want the rendered page, a read-only mount and a tmpfs cache", got)
	}
}

// zooLogAgent: the DaemonSet runs on every node (one here) and its pod
// reads the node's /var/log through the hostPath volume.
func zooLogAgent(t *testing.T, z *zoo) {
	pods := z.readyPods(t, "kube-system", "k8s-app=log-agent", 1)
	z.wait(t, "DaemonSet log-agent status", 30*time.Second, func(s string) bool { return s == "1/1/1" },
		"get", "daemonset", "-n", "kube-system", "log-agent", "-o", "jsonpath={.status.desiredNumberScheduled}/{.status.numberReady}/{.status.numberAvailable}")
	host, err := os.ReadDir("/var/log")
	if err != nil || len(host) == 0 {
		t.Fatalf("the host's /var/log: %v (%d entries)", err, len(host))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		seen := z.exec(t, "kube-system", pods[0], "agent", "cat /tmp/seen")
		if strings.Contains("\n"+seen, "\n"+host[0].Name()+"\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent's listing of /var/log/host lacks %s:\n%s", host[0].Name(), seen)
		}
		time.Sleep(time.Second)
	}
	if got := z.exec(t, "kube-system", pods[0], "agent", "touch /var/log/host/weir-zoo 2>/dev/null && echo writable || echo read-only"); got != "read-only\n" {
		t.Errorf("the readOnly hostPath mount: %q", got)
	}
}

// zooRedis: ordered stable names, a bound claim per replica, per-pod DNS
// through the headless Service, and a replica that keeps its name and
// its volume's data across a delete.
func zooRedis(t *testing.T, z *zoo) {
	pods := z.readyPods(t, "default", "app=redis", 2)
	if strings.Join(pods, ",") != "redis-0,redis-1" {
		t.Fatalf("StatefulSet pods %v, want redis-0,redis-1", pods)
	}
	z.wait(t, "claims data-redis-0 and data-redis-1 Bound", 30*time.Second, func(s string) bool { return s == "data-redis-0=Bound data-redis-1=Bound" },
		"get", "pvc", "-l", "app=redis", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.phase}{" "}{end}`)
	z.exec(t, "default", "redis-0", "redis", "echo persisted-by-zoo > /data/dump.rdb")
	addr := z.out(t, "get", "pod", "redis-1", "-o", "jsonpath={.status.podIP}")
	got := z.exec(t, "default", "redis-0", "redis", "nslookup redis-1.redis.default.svc.cluster.local || true")
	if addr == "" || !strings.Contains(got, addr) {
		t.Errorf("redis-1.redis.default.svc.cluster.local from redis-0: %q, want %s", got, addr)
	}
	uid := z.out(t, "get", "pod", "redis-0", "-o", "jsonpath={.metadata.uid}")
	if _, e, code := z.kubectl(t, "delete", "pod", "redis-0", "--wait=false"); code != 0 {
		t.Fatalf("delete redis-0: %s", e)
	}
	z.wait(t, "redis-0 back, Ready, as a new pod", 120*time.Second, func(s string) bool { return strings.HasSuffix(s, "=True") && !strings.HasPrefix(s, uid) },
		"get", "pod", "redis-0", "-o", `jsonpath={.metadata.uid}={.status.conditions[?(@.type=="Ready")].status}`)
	if got := z.exec(t, "default", "redis-0", "redis", "cat /data/dump.rdb"); got != "persisted-by-zoo\n" {
		t.Errorf("redis-0's data after the delete: %q", got)
	}
}

// zooCronJob: the schedule fires and its Job completes.
func zooCronJob(t *testing.T, z *zoo) {
	z.wait(t, "a Job of CronJob report completed", 150*time.Second, func(s string) bool { return strings.Contains(s, "=1") },
		"get", "jobs", "-o", `jsonpath={range .items[?(@.metadata.ownerReferences[0].name=="report")]}{.metadata.name}={.status.succeeded}{" "}{end}`)
	if got := z.out(t, "get", "cronjob", "report", "-o", "jsonpath={.status.lastScheduleTime}"); got == "" {
		t.Error("CronJob report has no status.lastScheduleTime")
	}
}

// zooNamespaceQuota: the LimitRange's defaults reach the pod, its max is
// enforced, the quota counts and then refuses with kube's messages.
func zooNamespaceQuota(t *testing.T, z *zoo) {
	z.readyPods(t, "team-a", "app=worker", 1)
	if got := z.out(t, "get", "pod", "-n", "team-a", "worker", "-o", "jsonpath={.spec.containers[0].resources.requests.cpu}/{.spec.containers[0].resources.limits.memory}"); got != "100m/128Mi" {
		t.Errorf("the LimitRange's defaults on worker: %q, want 100m/128Mi", got)
	}
	pod := func(name, mem string) string {
		return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `","namespace":"team-a"},"spec":{"containers":[{"name":"c","image":"docker.io/weir/testimage:1","imagePullPolicy":"Never","args":["-udp-echo="],"resources":{"limits":{"memory":"` + mem + `"}}}]}}`
	}
	create := func(body string) (string, int) {
		out, errOut, code := z.kc.run(t, strings.NewReader(body), "kubectl", "--kubeconfig", z.kc.path, "create", "-f", "-")
		return out + errOut, code
	}
	if out, code := create(pod("too-big", "1Gi")); code == 0 || !strings.Contains(out, "maximum memory usage per Container is 512Mi, but limit is 1Gi") {
		t.Errorf("a pod over the LimitRange's max: exit %d, %q", code, out)
	}
	for _, name := range []string{"extra-1", "extra-2"} {
		if out, code := create(pod(name, "64Mi")); code != 0 {
			t.Fatalf("create %s within the quota: %s", name, out)
		}
	}
	out, code := create(pod("extra-3", "64Mi"))
	if code == 0 || !strings.Contains(out, `pods "extra-3" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=3, limited: pods=3`) {
		t.Errorf("the fourth pod: exit %d, %q; want kube's exceeded-quota message", code, out)
	}
	z.wait(t, "quota status.used pods", 30*time.Second, func(s string) bool { return s == "3" },
		"get", "resourcequota", "-n", "team-a", "compute", "-o", "jsonpath={.status.used.pods}")
}
