// Command informers is a client-go program of the kind operators and
// controllers are: a SharedInformerFactory over pods, services,
// endpointslices and namespaces, with client-go's default feature gates
// (WatchList) and protobuf, as kube-controller-manager configures its
// clients. It prints, as JSON, how long the caches took to sync and how
// long its own updates of one Service took to come back through its
// informer.
//
//	informers --kubeconfig FILE [--namespace NS] [--service NAME] [--updates N]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// Result is what the program prints.
type Result struct {
	SyncMillis    float64   `json:"syncMillis"`
	Pods          int       `json:"pods"`
	Services      int       `json:"services"`
	Slices        int       `json:"endpointSlices"`
	Namespaces    int       `json:"namespaces"`
	UpdateMillis  []float64 `json:"updateMillis"`
	UpdateMedian  float64   `json:"updateMedianMillis"`
	ContentType   string    `json:"contentType"`
	ClientVersion string    `json:"clientVersion"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "informers:", err)
		os.Exit(1)
	}
}

func run() error {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file")
	ns := flag.String("namespace", "default", "namespace of the Service to update")
	svc := flag.String("service", "", "Service to update after the sync (none: no update measured)")
	updates := flag.Int("updates", 5, "updates to measure")
	timeout := flag.Duration("timeout", 60*time.Second, "overall time limit")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	start := time.Now()
	f := informers.NewSharedInformerFactory(cs, 0)
	pods, svcs := f.Core().V1().Pods(), f.Core().V1().Services()
	slices, nss := f.Discovery().V1().EndpointSlices(), f.Core().V1().Namespaces()
	seen := make(chan string, 64)
	if _, err := svcs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, obj any) {
		if s, ok := obj.(*corev1.Service); ok && s.Name == *svc && s.Namespace == *ns {
			seen <- s.Annotations["informers.weir.dev/round"]
		}
	}}); err != nil {
		return err
	}
	// Informer() registers each kind with the factory before Start.
	pods.Informer()
	slices.Informer()
	nss.Informer()
	f.Start(ctx.Done())
	defer func() { cancel(); f.Shutdown() }()
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("%v did not sync", typ)
		}
	}
	res := Result{SyncMillis: millis(time.Since(start)), ContentType: cfg.ContentType, ClientVersion: "k8s.io/client-go v0.37.2"}
	count := func(l cache.Store) int { return len(l.List()) }
	res.Pods, res.Services = count(pods.Informer().GetStore()), count(svcs.Informer().GetStore())
	res.Slices, res.Namespaces = count(slices.Informer().GetStore()), count(nss.Informer().GetStore())
	for i := 0; *svc != "" && i < *updates; i++ {
		d, err := updateOnce(ctx, cs, *ns, *svc, i, seen)
		if err != nil {
			return err
		}
		res.UpdateMillis = append(res.UpdateMillis, millis(d))
	}
	if n := len(res.UpdateMillis); n > 0 {
		s := append([]float64(nil), res.UpdateMillis...)
		sort.Float64s(s)
		res.UpdateMedian = s[n/2]
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// updateOnce annotates the Service with round i and returns the time from
// sending the update until the informer delivered it.
func updateOnce(ctx context.Context, cs kubernetes.Interface, ns, name string, i int, seen <-chan string) (time.Duration, error) {
	cur, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	if cur.Annotations == nil {
		cur.Annotations = map[string]string{}
	}
	round := fmt.Sprint(i)
	cur.Annotations["informers.weir.dev/round"] = round
	start := time.Now()
	if _, err := cs.CoreV1().Services(ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return 0, err
	}
	for {
		select {
		case r := <-seen:
			if r == round {
				return time.Since(start), nil
			}
		case <-ctx.Done():
			return 0, errors.New("the informer never delivered the update")
		}
	}
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
