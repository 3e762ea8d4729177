// Package quota is the arithmetic of ResourceQuota and LimitRange, as
// kube's quota evaluators and LimitRanger admission compute it: what one
// object charges to a quota (Usage), whether a write fits the quotas of
// its namespace (Admit, with kube-apiserver's messages), what a quota
// has used (Recount), and the defaults and bounds a LimitRange gives a
// pod (DefaultPod, CheckPod). It holds no state, starts no goroutine and
// does no I/O: control/api runs it inside a write, control/controllers
// runs Recount to keep status.used current.
//
// What is charged, per object:
//   - every namespaced object: count/<resource>[.<group>] = 1;
//   - core objects also under their legacy names: services, configmaps,
//     secrets, replicationcontrollers, resourcequotas,
//     persistentvolumeclaims;
//   - pods: pods = 1 and the compute resources cpu, memory and
//     ephemeral-storage (requests.X, limits.X, and bare X as the
//     request), summed as component-helpers' PodRequests / PodLimits sum
//     them (init containers, sidecars), only while the pod is not
//     terminal (phase Succeeded or Failed, or past its deletion grace);
//     count/pods counts every stored pod;
//   - persistentvolumeclaims: requests.storage = the claim's storage
//     request (per-class names are not known);
//   - services: services.nodeports = the ports of a NodePort or
//     LoadBalancer Service, services.loadbalancers = 1 for a
//     LoadBalancer.
//
// Quota scopes and scope selectors are not applied (control/api refuses
// them), so every quota of a namespace matches every object in it.
//
// Consistency (how control/api uses Admit), chosen over serializing the
// writes of a namespace: a create, or an update that raises usage, reads
// the namespace's quotas and commits the object together with each
// charged quota's new status.used in one store Txn conditioned on that
// quota's revision. Two writes charging the same quota therefore
// serialize on it, and only on it: the loser's Txn fails, it reads the
// quota again (linearizably) and is admitted or refused against the new
// usage, so concurrent creates never exceed status.hard, on any member,
// while writes that charge no common quota never wait for each other.
// (This is kube's optimistic update of the quota's status, made atomic
// with the object write instead of preceding it.) A create reads the
// quotas linearizably, so it sees every quota created before it began,
// whichever member serves it. Releases are not charged back inline: a deletion or a pod
// turning terminal lowers usage when the quota controller recounts, as
// in kube. One window remains, as in kube: an object admitted against a
// namespace state without a quota created at the same moment is not
// charged to it, and may be missing from that quota's first count; the
// controller's recount (on a pod or Service create, and periodically)
// includes it.
package quota
