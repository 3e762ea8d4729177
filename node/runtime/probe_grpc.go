package runtime

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
)

// grpcCheck asks the gRPC health service (grpc.health.v1.Health/Check) of
// the pod at the probe's port, without TLS as the kubelet does; SERVING is
// a success.
func (c *checker) grpcCheck(ctx context.Context, a *corev1.GRPCAction) (bool, string, error) {
	if a.Port <= 0 || a.Port > 65535 {
		return false, "", fmt.Errorf("%w: gRPC probe port %d of container %s is out of range 1-65535", errProbe, a.Port, c.ctr.Name)
	}
	addr := c.hostPort("", int(a.Port))
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return dialIn(ctx, c.netns, "tcp", addr) }))
	if err != nil {
		return false, "", fmt.Errorf("%w: gRPC client for %s: %w", errProbe, addr, err)
	}
	defer conn.Close()
	var service string
	if a.Service != nil {
		service = *a.Service
	}
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return false, fmt.Sprintf("gRPC health check of %s: %v", addr, err), nil
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return false, fmt.Sprintf("gRPC service %q at %s is %s", service, addr, resp.GetStatus()), nil
	}
	return true, "", nil
}
