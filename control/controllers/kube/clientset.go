package kube

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Client-side rate limit of the leader's clientset (kube-controller-manager's
// --kube-api-qps / --kube-api-burst, sized for weir's controllers and
// scheduler sharing one member's API).
const (
	clientQPS   = 200
	clientBurst = 400
)

// NewClientset returns a clientset of cfg that sends and accepts protobuf
// (JSON as the fallback for kinds without protobuf), as
// kube-controller-manager does, identified as userAgent. cfg is copied,
// not changed.
func NewClientset(cfg *rest.Config, userAgent string) (kubernetes.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.ContentType = runtime.ContentTypeProtobuf
	c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	if c.QPS == 0 {
		c.QPS, c.Burst = clientQPS, clientBurst
	}
	if c.UserAgent == "" {
		c.UserAgent = userAgent
	}
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("kube: clientset of %s: %w", cfg.Host, err)
	}
	return cs, nil
}
