package api

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podRule is one entry of podSupport: a PodSpec field, by its JSON path
// under a pod ("spec.volumes[*].configMap"), and whether weir supports it.
//
// A refused field, when set, is a 422 naming it; its whole subtree is
// refused with it. A supported field is checked against values (when
// given, the values weir implements; others are NotSupported) and check,
// then its children are looked up in the table in turn. A field of a
// PodSpec that has no rule is refused as unknown (TestPodSupportCoversPodSpec
// keeps the table complete for the k8s.io/api weir builds with).
type podRule struct {
	path    string
	refused string   // why weir refuses it; "" when supported
	values  []string // supported values (the field's value printed with %v); nil: any
	check   func(ctx *supportCtx, parent, v reflect.Value, p *field.Path) field.ErrorList
	note    string // supported: how it is honoured, or why storing it is all Kubernetes does too
}

// Reasons shared by several refused fields.
const (
	notRun       = "the node agent does not run them yet"
	volNotYet    = "the node agent does not mount this volume type yet; emptyDir, configMap, secret, downwardAPI, projected, hostPath and persistentVolumeClaim volumes are supported"
	volInTree    = "in-tree volume plugin of a cloud or storage system weir does not have"
	noScheduler  = "the scheduler does not honour it yet"
	noPriority   = "weir has no PriorityClasses or preemption"
	noDRA        = "weir has no dynamic resource allocation"
	noNewField   = "a Kubernetes feature weir does not implement"
	noSELinux    = "weir does not apply SELinux, AppArmor or Windows options"
	noRuntimeSec = "the node agent does not apply it to containers yet"
)

// podSupport is the table: every field of a PodSpec weir knows, supported
// or refused. docs/workloads.md points here.
var podSupport = slices.Concat([]podRule{
	{path: "spec.volumes", note: "the volume types below"},
	{path: "spec.volumes[*].name"},
	{path: "spec.volumes[*].emptyDir", note: "a 0777 directory in the pod's directory on the node (node/runtime/emptydir.go), shared by the pod's containers, kept across container restarts, removed with the pod"},
	{path: "spec.volumes[*].emptyDir.medium", values: []string{"", string(corev1.StorageMediumMemory)},
		note: "Memory: a tmpfs of sizeLimit, lowered to the pod's memory limit (the sum of its containers' limits when each has one); the kernel's default size (half of the node's RAM) where the kubelet uses the node's allocatable memory"},
	{path: "spec.volumes[*].emptyDir.sizeLimit", check: checkEmptyDirSizeLimit},
	{path: "spec.volumes[*].emptyDir.mode", refused: noNewField},
	{path: "spec.volumes[*].projected", note: "written atomically as the kubelet does (..data symlink swap) on a tmpfs, mounted read-only; configMap and secret sources are followed by watches and rewritten within seconds of a change"},
	{path: "spec.volumes[*].projected.sources"},
	{path: "spec.volumes[*].projected.defaultMode", check: checkFileMode},
	{path: "spec.volumes[*].projected.defaultUser", refused: noNewField},
	{path: "spec.volumes[*].projected.sources[*].serviceAccountToken"},
	{path: "spec.volumes[*].projected.sources[*].serviceAccountToken.audience"},
	{path: "spec.volumes[*].projected.sources[*].serviceAccountToken.expirationSeconds"},
	{path: "spec.volumes[*].projected.sources[*].serviceAccountToken.path"},
	{path: "spec.volumes[*].projected.sources[*].serviceAccountToken.user", refused: noNewField},
	{path: "spec.volumes[*].projected.sources[*].downwardAPI"},
	{path: "spec.volumes[*].projected.sources[*].configMap"},
	{path: "spec.volumes[*].projected.sources[*].secret"},
	{path: "spec.volumes[*].projected.sources[*].clusterTrustBundle", refused: "weir has no ClusterTrustBundles"},
	{path: "spec.volumes[*].projected.sources[*].podCertificate", refused: "weir has no pod certificate signers"},
	{path: "spec.volumes[*].configMap", note: "the ConfigMap's data and binaryData keys (or items), written atomically as the kubelet does (..data symlink swap), mounted read-only, followed by a watch and rewritten within seconds of a change"},
	{path: "spec.volumes[*].configMap.defaultMode", check: checkFileMode},
	{path: "spec.volumes[*].configMap.defaultUser", refused: noNewField},
	{path: "spec.volumes[*].secret", note: "as configMap, on a tmpfs (Secrets never reach the node's disk)"},
	{path: "spec.volumes[*].secret.defaultMode", check: checkFileMode},
	{path: "spec.volumes[*].secret.defaultUser", refused: noNewField},
	{path: "spec.volumes[*].downwardAPI", note: "written atomically as the kubelet does; labels and annotations files are rewritten when they change"},
	{path: "spec.volumes[*].downwardAPI.defaultMode", check: checkFileMode},
	{path: "spec.volumes[*].downwardAPI.defaultUser", refused: noNewField},
}, keyProjection("spec.volumes[*].projected.sources[*].configMap", "name"),
	keyProjection("spec.volumes[*].projected.sources[*].secret", "name"),
	keyProjection("spec.volumes[*].configMap", "name"),
	keyProjection("spec.volumes[*].secret", "secretName"),
	downwardFiles("spec.volumes[*].projected.sources[*].downwardAPI.items"),
	downwardFiles("spec.volumes[*].downwardAPI.items"),
	[]podRule{
		{path: "spec.volumes[*].hostPath", check: checkHostPathVolume, note: "the host's path bind-mounted read-write (read-only with the volumeMount's readOnly) after the kubelet's type check (DirectoryOrCreate and FileOrCreate make what is missing); a failed check is a FailedMount event and the pod waits (node/runtime/hostpath.go)"},
		{path: "spec.volumes[*].hostPath.path"},
		{path: "spec.volumes[*].hostPath.type"},
		{path: "spec.volumes[*].persistentVolumeClaim", check: checkClaimVolume, note: "the claim's bound PersistentVolume (hostPath or local), bind-mounted; the pod waits until the claim is bound (docs/workloads.md, Storage)"},
		{path: "spec.volumes[*].persistentVolumeClaim.claimName"},
		{path: "spec.volumes[*].persistentVolumeClaim.readOnly"},
	},
	refuse(volNotYet, "spec.volumes[*].ephemeral", "spec.volumes[*].image", "spec.volumes[*].csi"),
	refuse(volInTree, "spec.volumes[*].gcePersistentDisk", "spec.volumes[*].awsElasticBlockStore",
		"spec.volumes[*].gitRepo", "spec.volumes[*].nfs", "spec.volumes[*].iscsi", "spec.volumes[*].glusterfs",
		"spec.volumes[*].rbd", "spec.volumes[*].flexVolume", "spec.volumes[*].cinder", "spec.volumes[*].cephfs",
		"spec.volumes[*].flocker", "spec.volumes[*].fc", "spec.volumes[*].azureFile", "spec.volumes[*].vsphereVolume",
		"spec.volumes[*].quobyte", "spec.volumes[*].azureDisk", "spec.volumes[*].photonPersistentDisk",
		"spec.volumes[*].portworxVolume", "spec.volumes[*].scaleIO", "spec.volumes[*].storageos"),
	[]podRule{
		{path: "spec.initContainers", note: "run in order, each to completion, before the app containers; retried per restartPolicy (node/runtime/init.go)"},
		{path: "spec.ephemeralContainers", refused: "weir serves no ephemeralcontainers subresource"},
		{path: "spec.containers"},
	},
	initContainerRules("spec.initContainers[*]"),
	containerRules("spec.containers[*]"),
	[]podRule{
		{path: "spec.restartPolicy"},
		{path: "spec.terminationGracePeriodSeconds"},
		{path: "spec.activeDeadlineSeconds", note: "counted from status.startTime; then the pod is Failed (DeadlineExceeded) and its containers stopped (node/runtime/deadline.go)"},
		{path: "spec.dnsPolicy", values: []string{string(corev1.DNSClusterFirst), string(corev1.DNSClusterFirstWithHostNet), string(corev1.DNSDefault), string(corev1.DNSNone)}},
		{path: "spec.nodeSelector", note: "scheduler filter"},
		{path: "spec.serviceAccountName", note: "the token volume is projected into every container"},
		{path: "spec.serviceAccount", check: checkDeprecatedServiceAccount, note: "deprecated alias; must equal serviceAccountName"},
		{path: "spec.automountServiceAccountToken"},
		{path: "spec.nodeName"},
		{path: "spec.hostNetwork"},
		{path: "spec.hostPID", refused: noRuntimeSec},
		{path: "spec.hostIPC", refused: noRuntimeSec},
		{path: "spec.shareProcessNamespace", refused: noRuntimeSec},
		{path: "spec.securityContext", note: "accepted empty; every field below is refused"},
		{path: "spec.securityContext.seLinuxOptions", refused: noSELinux},
		{path: "spec.securityContext.windowsOptions", refused: noSELinux},
		{path: "spec.securityContext.appArmorProfile", refused: noSELinux},
		{path: "spec.securityContext.seLinuxChangePolicy", refused: noSELinux},
		{path: "spec.securityContext.runAsUser", refused: noRuntimeSec + "; set the containers' securityContext.runAsUser"},
		{path: "spec.securityContext.runAsGroup", refused: noRuntimeSec},
		{path: "spec.securityContext.runAsNonRoot", refused: "the node agent does not verify the image's user yet"},
		{path: "spec.securityContext.supplementalGroups", refused: noRuntimeSec},
		{path: "spec.securityContext.supplementalGroupsPolicy", refused: noRuntimeSec},
		{path: "spec.securityContext.fsGroup", refused: noRuntimeSec},
		{path: "spec.securityContext.fsGroupChangePolicy", refused: noRuntimeSec},
		{path: "spec.securityContext.sysctls", refused: noRuntimeSec},
		{path: "spec.securityContext.seccompProfile", refused: "containers run without a seccomp profile"},
		{path: "spec.imagePullSecrets", refused: "the node agent pulls without credentials"},
		{path: "spec.hostname", note: "the container's hostname and its EndpointSlice hostname"},
		{path: "spec.subdomain", note: "cluster DNS answers <hostname>.<subdomain>.<namespace>.svc for it; the pod's /etc/hosts lacks the FQDN line the kubelet writes"},
		{path: "spec.affinity"},
		{path: "spec.affinity.nodeAffinity", note: "scheduler filter (required) and score (preferred)"},
		{path: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"},
		{path: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"},
		{path: "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"},
		{path: "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[*].weight"},
		{path: "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[*].preference"},
	},
	nodeSelectorTerm("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[*]"),
	nodeSelectorTerm("spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[*].preference"),
	[]podRule{
		{path: "spec.affinity.podAffinity", note: "required terms filter nodes, preferred terms score them, as kube-scheduler does"},
		{path: "spec.affinity.podAntiAffinity", note: "required terms filter nodes, preferred terms score them, as kube-scheduler does"},
	},
	podAffinityTerms("spec.affinity.podAffinity"),
	podAffinityTerms("spec.affinity.podAntiAffinity"),
	[]podRule{
		{path: "spec.schedulerName", note: "pods naming another scheduler wait for it, as in Kubernetes"},
		{path: "spec.tolerations", note: "scheduler filter; NoExecute tolerationSeconds honoured by the node lifecycle controller"},
		{path: "spec.tolerations[*].key"},
		{path: "spec.tolerations[*].operator"},
		{path: "spec.tolerations[*].value"},
		{path: "spec.tolerations[*].effect"},
		{path: "spec.tolerations[*].tolerationSeconds"},
		{path: "spec.hostAliases", note: "appended to the pod's /etc/hosts as the kubelet does"},
		{path: "spec.hostAliases[*].ip"},
		{path: "spec.hostAliases[*].hostnames"},
		{path: "spec.priorityClassName", refused: noPriority},
		{path: "spec.priority", values: []string{"0"}, note: "every weir pod has priority 0"},
		{path: "spec.preemptionPolicy", note: "with every pod at priority 0, no pod preempts another, as in Kubernetes"},
		{path: "spec.dnsConfig", note: "merged into the pod's resolv.conf as the kubelet does"},
		{path: "spec.dnsConfig.nameservers"},
		{path: "spec.dnsConfig.searches"},
		{path: "spec.dnsConfig.options"},
		{path: "spec.dnsConfig.options[*].name"},
		{path: "spec.dnsConfig.options[*].value"},
		{path: "spec.readinessGates", refused: "pod readiness does not wait for custom conditions yet"},
		{path: "spec.runtimeClassName", refused: "weir has no RuntimeClasses"},
		{path: "spec.enableServiceLinks", values: []string{"false"}, note: "the node agent injects no Service environment variables (KUBERNETES_SERVICE_HOST included)"},
		{path: "spec.overhead", refused: "set by RuntimeClass admission, which weir does not have"},
		{path: "spec.topologySpreadConstraints", note: "DoNotSchedule filters nodes, ScheduleAnyway scores them, as kube-scheduler does (no cluster-default constraints)"},
		{path: "spec.topologySpreadConstraints[*].maxSkew"},
		{path: "spec.topologySpreadConstraints[*].topologyKey"},
		{path: "spec.topologySpreadConstraints[*].whenUnsatisfiable"},
		{path: "spec.topologySpreadConstraints[*].minDomains"},
		{path: "spec.topologySpreadConstraints[*].nodeAffinityPolicy"},
		{path: "spec.topologySpreadConstraints[*].nodeTaintsPolicy"},
		{path: "spec.topologySpreadConstraints[*].matchLabelKeys"},
	},
	labelSelector("spec.topologySpreadConstraints[*].labelSelector"),
	[]podRule{
		{path: "spec.setHostnameAsFQDN", values: []string{"false"}},
		{path: "spec.os"},
		{path: "spec.os.name", values: []string{string(corev1.Linux)}},
		{path: "spec.hostUsers", values: []string{"true"}, note: "pods share the host's user namespace"},
		{path: "spec.schedulingGates", refused: noScheduler},
		{path: "spec.resourceClaims", refused: noDRA},
		{path: "spec.resources", refused: "pod-level resources are not applied yet; set them per container"},
		{path: "spec.hostnameOverride", refused: noNewField},
		{path: "spec.schedulingGroup", refused: noNewField},
		{path: "spec.evictionResponders", refused: noNewField},
	})

// containerRules are the rules of one container at prefix.
func containerRules(c string) []podRule {
	out := []podRule{
		{path: c + ".name"},
		{path: c + ".image"},
		{path: c + ".command"},
		{path: c + ".args"},
		{path: c + ".workingDir"},
		{path: c + ".ports", note: "informational, as in Kubernetes"},
		{path: c + ".ports[*].name"},
		{path: c + ".ports[*].containerPort"},
		{path: c + ".ports[*].protocol"},
		{path: c + ".ports[*].hostPort", check: checkHostPort, note: "forwarded by the CNI portmap plugin in the node's conflist; on hostNetwork pods equal to containerPort"},
		{path: c + ".ports[*].hostIP", note: "the address the host port is forwarded on (portmap)"},
		{path: c + ".envFrom", check: checkEnvFrom, note: "read when the container is created, as the kubelet does; a missing object that is not optional is CreateContainerConfigError"},
		{path: c + ".envFrom[*].prefix"},
		{path: c + ".envFrom[*].configMapRef"},
		{path: c + ".envFrom[*].configMapRef.name"},
		{path: c + ".envFrom[*].configMapRef.optional"},
		{path: c + ".envFrom[*].secretRef"},
		{path: c + ".envFrom[*].secretRef.name"},
		{path: c + ".envFrom[*].secretRef.optional"},
		{path: c + ".env", note: "$(VAR) references expanded in values, command and args as the kubelet does ($$ escapes, unknown names kept)"},
		{path: c + ".env[*].name"},
		{path: c + ".env[*].value"},
		{path: c + ".env[*].valueFrom", check: checkValueFrom, note: "resolved when the container is created; a missing ConfigMap, Secret or key that is not optional is CreateContainerConfigError"},
		{path: c + ".env[*].valueFrom.fieldRef"},
		{path: c + ".env[*].valueFrom.fieldRef.apiVersion", values: []string{"v1"}},
		{path: c + ".env[*].valueFrom.fieldRef.fieldPath", check: checkFieldPath(envFieldPaths)},
		{path: c + ".env[*].valueFrom.resourceFieldRef"},
		{path: c + ".env[*].valueFrom.resourceFieldRef.containerName"},
		{path: c + ".env[*].valueFrom.resourceFieldRef.resource", values: resourceFieldResources, note: "an unset limit is the node's capacity"},
		{path: c + ".env[*].valueFrom.resourceFieldRef.divisor"},
		{path: c + ".env[*].valueFrom.configMapKeyRef"},
		{path: c + ".env[*].valueFrom.configMapKeyRef.name"},
		{path: c + ".env[*].valueFrom.configMapKeyRef.key"},
		{path: c + ".env[*].valueFrom.configMapKeyRef.optional"},
		{path: c + ".env[*].valueFrom.secretKeyRef"},
		{path: c + ".env[*].valueFrom.secretKeyRef.name"},
		{path: c + ".env[*].valueFrom.secretKeyRef.key"},
		{path: c + ".env[*].valueFrom.secretKeyRef.optional"},
		{path: c + ".env[*].valueFrom.fileKeyRef", refused: noNewField},
		{path: c + ".resources"},
		{path: c + ".resources.limits", check: resourceNames(corev1.ResourceCPU, corev1.ResourceMemory),
			note: "cpu becomes a CFS quota, memory the cgroup memory limit"},
		{path: c + ".resources.requests", check: resourceNames(corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage),
			note: "the scheduler fits requests; cpu becomes the cgroup weight"},
		{path: c + ".resources.claims", refused: noDRA},
		{path: c + ".resizePolicy", note: "stored; weir has no resize subresource, so resources never change in place"},
		{path: c + ".resizePolicy[*].resourceName"},
		{path: c + ".resizePolicy[*].restartPolicy"},
		{path: c + ".restartPolicy", refused: "container restart policies (sidecars, restart rules) are not run yet"},
		{path: c + ".restartPolicyRules", refused: "container restart policies (sidecars, restart rules) are not run yet"},
		{path: c + ".volumeMounts", note: "bind mounts of the pod's volumes"},
		{path: c + ".volumeMounts[*].name", check: checkMountedVolume},
		{path: c + ".volumeMounts[*].mountPath"},
		{path: c + ".volumeMounts[*].readOnly", note: "configMap, secret, downwardAPI and projected volumes are always mounted read-only, as in Kubernetes; emptyDirs read-write unless readOnly"},
		{path: c + ".volumeMounts[*].recursiveReadOnly", values: []string{string(corev1.RecursiveReadOnlyDisabled)}},
		{path: c + ".volumeMounts[*].mountPropagation", values: []string{string(corev1.MountPropagationNone)}},
		{path: c + ".volumeMounts[*].subPath", refused: "the node agent does not mount sub-paths yet"},
		{path: c + ".volumeMounts[*].subPathExpr", refused: "the node agent does not mount sub-paths yet"},
		{path: c + ".volumeMounts[*].bindMountOptions", refused: noNewField},
		{path: c + ".volumeDevices", refused: "weir has no block volumes"},
		{path: c + ".lifecycle", note: "postStart and preStop hooks as the kubelet runs them (node/runtime/hooks.go)"},
		{path: c + ".lifecycle.stopSignal", refused: "containers are always stopped with SIGTERM yet"},
		{path: c + ".terminationMessagePath", values: []string{corev1.TerminationMessagePathDefault},
			note: "only the default; the node agent does not copy the message into the container's status yet"},
		{path: c + ".terminationMessagePolicy", values: []string{string(corev1.TerminationMessageReadFile)},
			note: "only the default; see terminationMessagePath"},
		{path: c + ".imagePullPolicy"},
		{path: c + ".securityContext"},
		{path: c + ".securityContext.capabilities"},
		{path: c + ".securityContext.capabilities.add", check: checkCapabilities},
		{path: c + ".securityContext.capabilities.drop", check: checkCapabilities},
		{path: c + ".securityContext.privileged", values: []string{"false"}},
		{path: c + ".securityContext.runAsUser"},
		{path: c + ".securityContext.readOnlyRootFilesystem"},
		{path: c + ".securityContext.allowPrivilegeEscalation", values: []string{"false"},
			note: "containers always run with no_new_privs (containerd's default spec)"},
		{path: c + ".securityContext.procMount", values: []string{string(corev1.DefaultProcMount)}},
		{path: c + ".securityContext.seccompProfile"},
		{path: c + ".securityContext.seccompProfile.type", values: []string{string(corev1.SeccompProfileTypeUnconfined)},
			note: "containers run without a seccomp profile"},
		{path: c + ".securityContext.seccompProfile.localhostProfile", refused: "containers run without a seccomp profile"},
		{path: c + ".securityContext.runAsGroup", refused: noRuntimeSec},
		{path: c + ".securityContext.runAsNonRoot", refused: "the node agent does not verify the image's user yet"},
		{path: c + ".securityContext.seLinuxOptions", refused: noSELinux},
		{path: c + ".securityContext.windowsOptions", refused: noSELinux},
		{path: c + ".securityContext.appArmorProfile", refused: noSELinux},
		{path: c + ".stdin", refused: "the node agent does not attach to containers' stdin"},
		{path: c + ".stdinOnce", refused: "the node agent does not attach to containers' stdin"},
		{path: c + ".tty", refused: "the node agent does not give containers a terminal"},
	}
	for _, p := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
		out = append(out, probeRules(c+"."+p)...)
	}
	for _, h := range []string{"postStart", "preStop"} {
		out = append(out, hookRules(c+".lifecycle."+h)...)
	}
	return out
}

// initContainerRules are containerRules for an init container:
// restartPolicy Always makes it a sidecar; probes and lifecycle hooks are
// for sidecars only, as kube-apiserver validates.
func initContainerRules(c string) []podRule {
	var out []podRule
	for _, r := range containerRules(c) {
		switch r.path {
		case c + ".livenessProbe", c + ".readinessProbe", c + ".startupProbe", c + ".lifecycle":
			r.check = checkSidecarOnly
		case c + ".restartPolicy":
			r.refused, r.values = "", []string{string(corev1.ContainerRestartPolicyAlways)}
			r.note = "a sidecar: started in its turn, kept running beside the app containers, stopped after them (node/runtime/sidecar.go)"
		}
		out = append(out, r)
	}
	return out
}

func checkSidecarOnly(ctx *supportCtx, parent, v reflect.Value, p *field.Path) field.ErrorList {
	if c := ctx.container; c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
		return nil
	}
	return field.ErrorList{field.Forbidden(p, "may not be set for init containers without restartPolicy=Always")}
}

// hookRules: the node agent runs exec, httpGet and sleep handlers
// (node/runtime/hooks.go).
func hookRules(h string) []podRule {
	return []podRule{
		{path: h}, {path: h + ".exec"}, {path: h + ".exec.command"},
		{path: h + ".httpGet"}, {path: h + ".httpGet.path"}, {path: h + ".httpGet.port"}, {path: h + ".httpGet.host"},
		{path: h + ".httpGet.scheme"}, {path: h + ".httpGet.httpHeaders"}, {path: h + ".httpGet.httpHeaders[*].name"},
		{path: h + ".httpGet.httpHeaders[*].value"}, {path: h + ".httpGet.protocol", refused: noNewField},
		{path: h + ".sleep"}, {path: h + ".sleep.seconds"},
		{path: h + ".tcpSocket", refused: "deprecated; the kubelet does not run tcpSocket hooks either"},
	}
}

// probeRules: the node agent runs every handler with the kubelet's
// timing, thresholds and results (node/runtime/probe*.go).
func probeRules(p string) []podRule {
	return []podRule{
		{path: p}, {path: p + ".exec"}, {path: p + ".exec.command"},
		{path: p + ".httpGet"}, {path: p + ".httpGet.path"}, {path: p + ".httpGet.port"}, {path: p + ".httpGet.host"},
		{path: p + ".httpGet.scheme"}, {path: p + ".httpGet.httpHeaders"}, {path: p + ".httpGet.httpHeaders[*].name"},
		{path: p + ".httpGet.httpHeaders[*].value"}, {path: p + ".httpGet.protocol", refused: noNewField},
		{path: p + ".tcpSocket"}, {path: p + ".tcpSocket.port"}, {path: p + ".tcpSocket.host"},
		{path: p + ".grpc"}, {path: p + ".grpc.port"}, {path: p + ".grpc.service"}, {path: p + ".grpc.mode", refused: noNewField},
		{path: p + ".initialDelaySeconds"}, {path: p + ".timeoutSeconds"}, {path: p + ".periodSeconds"},
		{path: p + ".successThreshold"}, {path: p + ".failureThreshold"}, {path: p + ".terminationGracePeriodSeconds"},
	}
}

// downwardFiles: the items of a downwardAPI volume or projection.
func downwardFiles(p string) []podRule {
	return []podRule{
		{path: p}, {path: p + "[*].path"}, {path: p + "[*].mode", check: checkFileMode}, {path: p + "[*].user", refused: noNewField},
		{path: p + "[*].fieldRef"}, {path: p + "[*].fieldRef.apiVersion", values: []string{"v1"}},
		{path: p + "[*].fieldRef.fieldPath", check: checkFieldPath(volumeFieldPaths)},
		{path: p + "[*].resourceFieldRef", check: checkVolumeResourceField}, {path: p + "[*].resourceFieldRef.containerName"},
		{path: p + "[*].resourceFieldRef.resource", values: resourceFieldResources}, {path: p + "[*].resourceFieldRef.divisor"},
	}
}

// The downward API's fields (node/runtime.FieldPathValue), as
// Kubernetes allows them in env and in volumes; labels and annotations
// may also name one key (metadata.labels['KEY']), and in env only so.
var (
	volumeFieldPaths       = []string{"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"}
	envFieldPaths          = []string{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}
	resourceFieldResources = []string{"limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"}
)

// checkValueFrom: one source, and no value beside it (Kubernetes'
// validation; the node agent would otherwise use the value).
func checkValueFrom(_ *supportCtx, parent, v reflect.Value, p *field.Path) field.ErrorList {
	e := parent.Interface().(corev1.EnvVar)
	src := e.ValueFrom
	n := 0
	for _, set := range []bool{src.FieldRef != nil, src.ResourceFieldRef != nil, src.ConfigMapKeyRef != nil, src.SecretKeyRef != nil, src.FileKeyRef != nil} {
		if set {
			n++
		}
	}
	var errs field.ErrorList
	if e.Value != "" {
		errs = append(errs, field.Invalid(p, "", "may not be specified when `value` is not empty"))
	}
	switch {
	case n == 0:
		errs = append(errs, field.Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case n > 1:
		errs = append(errs, field.Invalid(p, "", "may not have more than one field specified at a time"))
	}
	return errs
}

// checkVolumeResourceField: a volume's resourceFieldRef names its
// container, as Kubernetes requires.
func checkVolumeResourceField(_ *supportCtx, _, v reflect.Value, p *field.Path) field.ErrorList {
	if v.Interface().(corev1.ResourceFieldSelector).ContainerName == "" {
		return field.ErrorList{field.Required(p.Child("containerName"), "")}
	}
	return nil
}

// checkEnvFrom: each source names one ConfigMap or one Secret.
func checkEnvFrom(_ *supportCtx, _, v reflect.Value, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ef := range v.Interface().([]corev1.EnvFromSource) {
		switch {
		case ef.ConfigMapRef == nil && ef.SecretRef == nil:
			errs = append(errs, field.Invalid(p.Index(i), "", "must specify one of: `configMapRef` or `secretRef`"))
		case ef.ConfigMapRef != nil && ef.SecretRef != nil:
			errs = append(errs, field.Invalid(p.Index(i), "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

// checkFieldPath allows paths and one label or annotation by key.
func checkFieldPath(paths []string) func(*supportCtx, reflect.Value, reflect.Value, *field.Path) field.ErrorList {
	return func(_ *supportCtx, _, v reflect.Value, p *field.Path) field.ErrorList {
		s := v.String()
		if slices.Contains(paths, s) {
			return nil
		}
		for _, m := range []string{"metadata.labels", "metadata.annotations"} {
			if k, ok := strings.CutPrefix(s, m+"['"); ok && strings.HasSuffix(k, "']") && len(k) > 2 {
				return nil
			}
		}
		return field.ErrorList{field.NotSupported(p, s, append(slices.Clone(paths), "metadata.annotations['KEY']", "metadata.labels['KEY']"))}
	}
}

// checkFileMode: a volume file's mode, as Kubernetes validates it.
func checkFileMode(_ *supportCtx, _, v reflect.Value, p *field.Path) field.ErrorList {
	if m := v.Int(); m < 0 || m > 0o777 {
		return field.ErrorList{field.Invalid(p, m, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

// keyProjection: the fields of a configMap or secret volume (name: its
// field naming the object) or projected source, below p.
func keyProjection(p, name string) []podRule {
	return []podRule{
		{path: p + "." + name}, {path: p + ".optional"}, {path: p + ".items"},
		{path: p + ".items[*].key"}, {path: p + ".items[*].path"}, {path: p + ".items[*].mode", check: checkFileMode},
		{path: p + ".items[*].user", refused: noNewField},
	}
}

func nodeSelectorTerm(p string) []podRule {
	var out []podRule
	for _, m := range []string{".matchExpressions", ".matchFields"} {
		out = append(out, podRule{path: p + m}, podRule{path: p + m + "[*].key"},
			podRule{path: p + m + "[*].operator"}, podRule{path: p + m + "[*].values"})
	}
	return out
}

// podAffinityTerms are the rules of a podAffinity or podAntiAffinity at
// p: required and preferred terms; namespaceSelector and the label-key
// lists are refused.
func podAffinityTerms(p string) []podRule {
	req, pref := p+".requiredDuringSchedulingIgnoredDuringExecution", p+".preferredDuringSchedulingIgnoredDuringExecution"
	out := []podRule{{path: req}, {path: pref}, {path: pref + "[*].weight"}, {path: pref + "[*].podAffinityTerm"}}
	for _, t := range []string{req + "[*]", pref + "[*].podAffinityTerm"} {
		out = append(out, podRule{path: t + ".namespaces"}, podRule{path: t + ".topologyKey"},
			podRule{path: t + ".namespaceSelector", refused: "the scheduler does not read namespace labels yet; list the namespaces"},
			podRule{path: t + ".matchLabelKeys", refused: noScheduler}, podRule{path: t + ".mismatchLabelKeys", refused: noScheduler})
		out = append(out, labelSelector(t+".labelSelector")...)
	}
	return out
}

func labelSelector(p string) []podRule {
	return []podRule{{path: p}, {path: p + ".matchLabels"}, {path: p + ".matchExpressions"},
		{path: p + ".matchExpressions[*].key"}, {path: p + ".matchExpressions[*].operator"}, {path: p + ".matchExpressions[*].values"}}
}

func refuse(reason string, paths ...string) []podRule {
	out := make([]podRule, len(paths))
	for i, p := range paths {
		out[i] = podRule{path: p, refused: reason}
	}
	return out
}

// podRules indexes podSupport by path.
var podRules = func() map[string]*podRule {
	m := make(map[string]*podRule, len(podSupport))
	for i := range podSupport {
		m[podSupport[i].path] = &podSupport[i]
	}
	return m
}()

// supportCtx is what value checks may look at besides the field.
type supportCtx struct {
	spec      *corev1.PodSpec
	container *corev1.Container // the container being walked, if any
}

// validatePodSupport refuses, with kube's field errors, every field of s
// that weir does not implement (podSupport). path is where s sits in the
// object ("spec", "spec.template.spec").
func validatePodSupport(s *corev1.PodSpec, path *field.Path) field.ErrorList {
	errs := walkSupport(&supportCtx{spec: s}, reflect.ValueOf(s).Elem(), "spec", path)
	for i, v := range s.Volumes {
		if reflect.ValueOf(v.VolumeSource).IsZero() { // defaulting (defaults.go) makes it an emptyDir first
			errs = append(errs, field.Required(path.Child("volumes").Index(i), "must specify a volume type"))
		}
	}
	return errs
}

// validatePodSupportUpdate is validatePodSupport for an update of an
// object whose stored spec is old: errors the stored spec already had
// are dropped, so that objects stored before a field was refused can
// still have their status and metadata written, and be deleted.
func validatePodSupportUpdate(s, old *corev1.PodSpec, path *field.Path) field.ErrorList {
	errs := validatePodSupport(s, path)
	if old == nil || len(errs) == 0 {
		return errs
	}
	had := sets.New[string]()
	for _, e := range validatePodSupport(old, path) {
		had.Insert(e.Field)
	}
	var out field.ErrorList
	for _, e := range errs {
		if !had.Has(e.Field) {
			out = append(out, e)
		}
	}
	return out
}

// walkSupport checks the fields of the struct v, whose table path is key.
func walkSupport(ctx *supportCtx, v reflect.Value, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" { // inline (VolumeSource, ProbeHandler, LocalObjectReference)
			errs = append(errs, walkSupport(ctx, fv, key, p)...)
			continue
		}
		if name == "" || name == "-" || !isSet(fv) {
			continue
		}
		errs = append(errs, checkField(ctx, v, fv, key+"."+name, p.Child(name))...)
	}
	return errs
}

// checkField checks one set field and descends into it.
func checkField(ctx *supportCtx, parent, v reflect.Value, key string, p *field.Path) field.ErrorList {
	r := podRules[key]
	switch {
	case r == nil:
		return field.ErrorList{field.Forbidden(p, "not supported by weir: a field weir does not know")}
	case r.refused != "":
		return field.ErrorList{field.Forbidden(p, "not supported by weir: "+r.refused)}
	}
	var errs field.ErrorList
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if r.values != nil {
		if s := fmt.Sprint(v.Interface()); !slices.Contains(r.values, s) {
			errs = append(errs, field.NotSupported(p, s, r.values))
		}
	}
	if r.check != nil {
		errs = append(errs, r.check(ctx, parent, v, p)...)
	}
	switch {
	case v.Kind() == reflect.Struct && !stopType(v.Type()):
		errs = append(errs, walkSupport(ctx, v, key, p)...)
	case v.Kind() == reflect.Slice && elemStruct(v.Type()):
		for i := range v.Len() {
			ev := v.Index(i)
			if c, ok := ev.Addr().Interface().(*corev1.Container); ok {
				ctx.container = c
			}
			errs = append(errs, walkSupport(ctx, ev, key+"[*]", p.Index(i))...)
		}
	}
	return errs
}

// isSet: a non-nil pointer (even to false or an empty struct), a non-empty
// slice or map, any other non-zero value.
func isSet(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil()
	case reflect.Slice, reflect.Map:
		return v.Len() > 0
	}
	return !v.IsZero()
}

// stopType: struct types that are values, not groups of fields.
func stopType(t reflect.Type) bool {
	switch t.PkgPath() + "." + t.Name() {
	case "k8s.io/apimachinery/pkg/api/resource.Quantity", "k8s.io/apimachinery/pkg/util/intstr.IntOrString",
		"k8s.io/apimachinery/pkg/apis/meta/v1.Time", "k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime",
		"k8s.io/apimachinery/pkg/apis/meta/v1.Duration":
		return true
	}
	return false
}

func elemStruct(t reflect.Type) bool {
	e := t.Elem()
	for e.Kind() == reflect.Pointer {
		e = e.Elem()
	}
	return e.Kind() == reflect.Struct && !stopType(e)
}

// checkHostPort: on a hostNetwork pod a host port is the container port
// itself (kube-apiserver's rule: they must match); elsewhere the node
// forwards it (CNI portmap).
func checkHostPort(ctx *supportCtx, parent, v reflect.Value, p *field.Path) field.ErrorList {
	port := parent.Interface().(corev1.ContainerPort)
	if ctx.spec.HostNetwork && port.HostPort != port.ContainerPort {
		return field.ErrorList{field.Invalid(p, port.HostPort, "must match `containerPort` when `hostNetwork` is true")}
	}
	return nil
}

func checkMountedVolume(ctx *supportCtx, parent, v reflect.Value, p *field.Path) field.ErrorList {
	for _, vol := range ctx.spec.Volumes {
		if vol.Name == v.String() {
			return nil
		}
	}
	return field.ErrorList{field.NotFound(p, v.String())}
}

// checkEmptyDirSizeLimit: a sizeLimit is the size of a Memory emptyDir's
// tmpfs; on disk the kubelet enforces it by evicting the pod, which weir
// does not do, so it is refused there rather than ignored.
func checkEmptyDirSizeLimit(ctx *supportCtx, parent, v reflect.Value, p *field.Path) field.ErrorList {
	ed := parent.Interface().(corev1.EmptyDirVolumeSource)
	switch {
	case ed.SizeLimit.Sign() < 0:
		return field.ErrorList{field.Invalid(p, ed.SizeLimit.String(), "must be greater than or equal to 0")}
	case ed.Medium != corev1.StorageMediumMemory:
		return field.ErrorList{field.Forbidden(p, "not supported by weir: a disk emptyDir's size is not enforced (the kubelet evicts the pod); it is supported with medium Memory")}
	}
	return nil
}

func checkHostPathVolume(ctx *supportCtx, parent, v reflect.Value, p *field.Path) field.ErrorList {
	hp := v.Interface().(corev1.HostPathVolumeSource)
	return validateHostPath(&hp, p)
}

func checkClaimVolume(ctx *supportCtx, parent, v reflect.Value, p *field.Path) field.ErrorList {
	if v.Interface().(corev1.PersistentVolumeClaimVolumeSource).ClaimName == "" {
		return field.ErrorList{field.Required(p.Child("claimName"), "")}
	}
	return nil
}

func checkDeprecatedServiceAccount(ctx *supportCtx, parent, v reflect.Value, p *field.Path) field.ErrorList {
	if v.String() != ctx.spec.ServiceAccountName {
		return field.ErrorList{field.Invalid(p, v.String(), "must equal spec.serviceAccountName (weir does not copy the deprecated field)")}
	}
	return nil
}

// checkCapabilities refuses "ALL": the node agent prefixes names with
// CAP_ and has no special case for it, so it would add or drop nothing.
func checkCapabilities(ctx *supportCtx, parent, v reflect.Value, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range v.Len() {
		if c := v.Index(i).String(); strings.EqualFold(c, "ALL") {
			errs = append(errs, field.Forbidden(p.Index(i), "not supported by weir: \"ALL\" is not applied yet; name the capabilities"))
		}
	}
	return errs
}

// resourceNames allows only the named resources in a ResourceList.
func resourceNames(names ...corev1.ResourceName) func(*supportCtx, reflect.Value, reflect.Value, *field.Path) field.ErrorList {
	allowed := sets.New(names...)
	return func(_ *supportCtx, _, v reflect.Value, p *field.Path) field.ErrorList {
		var errs field.ErrorList
		for _, k := range sets.List(sets.KeySet(v.Interface().(corev1.ResourceList))) {
			if !allowed.Has(k) {
				errs = append(errs, field.NotSupported(p.Key(string(k)), k, sets.List(allowed)))
			}
		}
		return errs
	}
}
