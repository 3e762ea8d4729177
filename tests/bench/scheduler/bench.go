package scheduler

import (
	"context"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weirnet/weir/control/scheduler"
	"github.com/weirnet/weir/tests/benchreport"
)

// Config is one `weir-bench scheduler` run.
type Config struct {
	Nodes, Pods int
	Command     string    // the command line, quoted in the report
	Out         string    // markdown file whose scheduler section is replaced (empty: none)
	JSONDir     string    // directory for scheduler.json (empty: none)
	Log         io.Writer // a line per run
}

// Run measures every node with and without kube-scheduler's adaptive
// sampling and writes the report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	var runs []Result
	for _, sample := range []bool{false, true} {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		r, err := Measure(cfg.Nodes, cfg.Pods, sample)
		if err != nil {
			return Report{}, fmt.Errorf("scheduler benchmark: %w", err)
		}
		fmt.Fprintf(cfg.Log, "nodes=%d pods=%d sample=%v: %.0f pods/s (%.2fs)\n", r.Nodes, r.Pods, r.Sample, r.PodsPerSecond, r.Seconds)
		runs = append(runs, r)
	}
	rep := NewReport(cfg.Command, runs)
	if cfg.Out != "" {
		if err := benchreport.UpdateSection(cfg.Out, "scheduler", rep.Markdown()); err != nil {
			return rep, err
		}
	}
	if cfg.JSONDir != "" {
		if err := benchreport.WriteJSON(cfg.JSONDir, "scheduler", rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Result is one run of the in-memory scheduling benchmark.
type Result struct {
	Nodes         int     `json:"nodes"`
	Pods          int     `json:"pods"`
	Sample        bool    `json:"sample"` // kube-scheduler's adaptive percentageOfNodesToScore
	Scheduled     int     `json:"scheduled"`
	Seconds       float64 `json:"seconds"`
	PodsPerSecond float64 `json:"podsPerSecond"`
	MaxPerNode    int     `json:"maxPodsPerNode"`
}

// Measure schedules pods onto nodes held in memory (control/scheduler's
// pure core plus its Cache; no API): every node 4 cpu / 16Gi / 110 pods with a zone label,
// every pod 100m / 128Mi, a tenth of them with a nodeSelector on a zone
// and a twentieth tolerating a taint that every tenth node carries.
func Measure(nodes, pods int, sample bool) (Result, error) {
	ns := make([]*corev1.Node, nodes)
	for i := range ns {
		ns[i] = benchNode(i)
	}
	ps := make([]*corev1.Pod, pods)
	for i := range ps {
		ps[i] = benchPod(i)
	}
	c := scheduler.NewCache(ns, nil)
	c.Sample = sample
	start := time.Now()
	per := map[string]int{}
	for _, p := range ps {
		d, fe := c.Schedule(p)
		if fe != nil {
			return Result{}, fmt.Errorf("pod %s unschedulable: %v", p.Name, fe)
		}
		p.Spec.NodeName = d.Node
		c.Assume(p)
		per[d.Node]++
	}
	el := time.Since(start)
	r := Result{Nodes: nodes, Pods: pods, Sample: sample, Scheduled: pods, Seconds: el.Seconds(),
		PodsPerSecond: float64(pods) / el.Seconds()}
	for _, n := range per {
		r.MaxPerNode = max(r.MaxPerNode, n)
	}
	return r, nil
}

func benchNode(i int) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%05d", i), Labels: map[string]string{
			corev1.LabelHostname: fmt.Sprintf("node-%05d", i), corev1.LabelTopologyZone: fmt.Sprintf("zone-%d", i%4)}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("4"),
			corev1.ResourceMemory: resource.MustParse("16Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		}},
	}
	if i%10 == 0 {
		n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}}
	}
	return n
}

func benchPod(i int) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%05d", i), Namespace: "bench", UID: types.UID(fmt.Sprintf("uid-%d", i))},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}}}}},
	}
	if i%10 == 0 {
		p.Spec.NodeSelector = map[string]string{corev1.LabelTopologyZone: fmt.Sprintf("zone-%d", i%4)}
	}
	if i%20 == 0 {
		p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "batch", Effect: corev1.TaintEffectNoSchedule}}
	}
	return p
}
