package main

import (
	"context"
	"flag"
	"strings"

	"github.com/weirnet/weir/control/member"
)

func runServer(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir server", flag.ContinueOnError)
	var c member.Config
	var join, logLevel string
	fs.StringVar(&c.Name, "name", "", "member name, unique in the cluster (required)")
	fs.StringVar(&c.DataDir, "data-dir", "/var/lib/weir/control", "data directory (raft log, state, secrets)")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:6443", "API listen address HOST:PORT")
	fs.StringVar(&c.Peer, "peer", "127.0.0.1:2380", "peer listen address HOST:PORT (raft and member RPC)")
	fs.StringVar(&c.Advertise, "advertise-peer", "", "peer address other members dial (default: --peer)")
	fs.BoolVar(&c.Bootstrap, "bootstrap", false, "start a new cluster with this member as its first voter")
	fs.StringVar(&join, "join", "", "join an existing cluster through any member's peer address (comma-separated list)")
	fs.StringVar(&c.SecretFile, "cluster-secret-file", "", "shared cluster secret (default DATA-DIR/cluster-secret; created by --bootstrap)")
	fs.StringVar(&c.TokenFile, "token-file", "", "API bearer token (default DATA-DIR/token; created at first start)")
	fs.StringVar(&c.ServiceCIDR, "service-cidr", "", "ClusterIP range (default 10.96.0.0/12)")
	fs.StringVar(&c.NodePortRange, "node-port-range", "", "NodePort range MIN-MAX (default 30000-32767)")
	fs.StringVar(&c.NodeListen, "node-listen", "", "node-stream (agents) listen address HOST:PORT; mutual TLS with the cluster CA (DATA-DIR/ca.crt): agents join with a bootstrap token (weir token create) (default: off)")
	fs.StringVar(&c.ClusterCIDR, "cluster-cidr", "", "pod CIDR range cut into /24 per node (default 10.244.0.0/16)")
	fs.Uint64Var(&c.Store.SnapshotThreshold, "snapshot-threshold", 0, "raft entries between snapshots (default 8192)")
	fs.Uint64Var(&c.Store.TrailingLogs, "trailing-logs", 0, "raft entries kept after a snapshot (default 10240)")
	fs.Uint64Var(&c.Store.HistoryRevisions, "history", 0, "revisions of watch history kept (default 20000)")
	fs.DurationVar(&c.Store.SnapshotInterval, "snapshot-interval", 0, "how often to check the snapshot threshold (default 30s)")
	fs.DurationVar(&c.NodeGracePeriod, "node-monitor-grace-period", 0, "missed-heartbeat time after which a Node turns Ready=Unknown (default 40s)")
	fs.DurationVar(&c.EventTTL, "event-ttl", 0, "how long Events are kept after they were last seen (default 1h)")
	fs.StringVar(&c.LocalPathDir, "local-path-dir", "", "where the local-path StorageClass's volumes live on the nodes (default /var/lib/weir/storage)")
	fs.DurationVar(&c.PodEvictionTimeout, "pod-eviction-timeout", 0, "how long pods without their own tolerationSeconds stay on an unreachable or not-ready node (default 5m)")
	o := &c.Serve
	fs.DurationVar(&o.ReadTimeout, "read-timeout", 0, "bound on reading a whole request, body included (default 60s; watches and exec are exempt)")
	fs.DurationVar(&o.WriteTimeout, "write-timeout", 0, "bound on writing an answer (default 60s; a watch bounds each event instead)")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", 0, "how long a keep-alive connection may idle (default 90s)")
	fs.IntVar(&o.MaxConnections, "max-connections", 0, "open API connections at most (default 3/4 of the file limit, at most 10000)")
	fs.IntVar(&o.MaxConnectionsPerHost, "max-connections-per-host", 0, "open API connections from one client address at most (default max-connections/4)")
	fs.IntVar(&o.InFlight.ReadOnly, "max-requests-inflight", 0, "read requests served at once, beyond them 429 (default 400; -1: no limit)")
	fs.IntVar(&o.InFlight.Mutating, "max-mutating-requests-inflight", 0, "write requests served at once, beyond them 429 (default 200; -1: no limit)")
	fs.StringVar(&o.AuditLogPath, "audit-log-path", "", "write the audit log (JSON lines, audit.k8s.io/v1 Events) to this file (default: off)")
	fs.StringVar(&o.AuditPolicyFile, "audit-policy-file", "", "audit.k8s.io/v1 Policy deciding each request's level, None or Metadata (default: Metadata but Events and probes)")
	fs.Int64Var(&o.AuditMaxBytes, "audit-log-maxsize", 0, "rotate the audit log before it exceeds this many bytes (default 100 MiB)")
	fs.IntVar(&o.AuditBackups, "audit-log-maxbackup", 0, "rotated audit log files kept (default 5)")
	fs.StringVar(&c.ServiceAccountIssuer, "service-account-issuer", "", "iss of ServiceAccount tokens, and their default audience (default https://kubernetes.default.svc.cluster.local)")
	fs.DurationVar(&c.ServiceAccountMaxTokenExpiration, "service-account-max-token-expiration", 0, "longest ServiceAccount token lifetime a TokenRequest gets (default 48h)")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if join != "" {
		c.Join = strings.Split(join, ",")
	}
	logger, err := newLogger(logLevel)
	if err != nil {
		return err
	}
	c.Logger = logger
	c.Version = Version
	return member.Run(ctx, c)
}
