package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/weirnet/weir/dns"
	"github.com/weirnet/weir/dns/objfile"
)

// dnsList is a repeatable string flag.
type dnsList []string

func (l *dnsList) String() string     { return strings.Join(*l, ",") }
func (l *dnsList) Set(v string) error { *l = append(*l, v); return nil }

// runDNS serves the cluster zone for the objects in a file or directory,
// reloading them when they change or on SIGHUP.
func runDNS(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("weir dns", flag.ContinueOnError)
	listen := fs.String("listen", "", "address to serve on, IP:PORT (UDP and TCP), e.g. 127.0.0.1:5353")
	services := fs.String("services", "", "YAML file or directory of Service, EndpointSlice and Pod objects")
	zone := fs.String("zone", "cluster.local", "cluster domain")
	ttl := fs.Duration("ttl", 30*time.Second, "TTL of the zone's records")
	timeout := fs.Duration("upstream-timeout", 2*time.Second, "time to resolve a name outside the zone over all upstreams")
	resolvConf := fs.String("resolv-conf", "", "take upstreams from this resolv.conf (e.g. /etc/resolv.conf)")
	pods := fs.String("pods", "verified", "pod dashed-IP names: verified, insecure or disabled")
	metrics := fs.String("metrics", "", "serve Prometheus metrics on this address (/metrics)")
	var upstreams, allow dnsList
	fs.Var(&upstreams, "upstream", "upstream resolver IP:PORT for names outside the zone; repeatable, tried in order")
	fs.Var(&allow, "allow", "client CIDR to answer besides loopback; repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *listen == "" || *services == "" {
		return errors.New("--listen and --services are required, e.g. weir dns --listen 127.0.0.1:5353 --services cluster.yaml")
	}
	cfg := dns.Config{Zone: *zone, TTL: *ttl, UpstreamTimeout: *timeout, Upstreams: upstreams, Logger: slog.Default()}
	if *resolvConf != "" {
		ups, err := dns.UpstreamsFromResolvConf(*resolvConf)
		if err != nil {
			return err
		}
		cfg.Upstreams = append(cfg.Upstreams, ups...)
	}
	var err error
	if cfg.AllowedNets, err = parsePrefixes(allow); err != nil {
		return err
	}
	if cfg.PodRecords, err = parsePodMode(*pods); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	return serveDNS(ctx, cfg, *listen, *services, *metrics, reg)
}

func serveDNS(ctx context.Context, cfg dns.Config, listen, path, metricsAddr string, reg *prometheus.Registry) error {
	s, err := dns.NewServer(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	objs, err := objfile.Load(path)
	if err != nil {
		return err
	}
	s.Update(objs.Services, objs.EndpointSlices, objs.Pods)
	slog.Info("weir dns serving", "listen", listen, "zone", s.Zone(), "records", s.Records(), "upstreams", cfg.Upstreams)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	w := &objfile.Watcher{Path: path, OnLoad: func(o objfile.Objects) { s.Update(o.Services, o.EndpointSlices, o.Pods) }}
	done := make(chan error, 2)
	go func() { done <- w.Run(ctx, hup) }()
	waits := 1
	if metricsAddr != "" {
		srv := &http.Server{Addr: metricsAddr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go func() { <-ctx.Done(); _ = srv.Close() }()
		go func() {
			if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				cancel()
				done <- fmt.Errorf("metrics on %s: %w", metricsAddr, err)
				return
			}
			done <- nil
		}()
		waits++
	}
	err = s.ListenAndServe(ctx, listen)
	cancel()
	for range waits {
		if werr := <-done; err == nil {
			err = werr
		}
	}
	return err
}

func parsePrefixes(in []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range in {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--allow %q: want a CIDR such as 10.244.0.0/16: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func parsePodMode(s string) (dns.PodMode, error) {
	switch s {
	case "verified":
		return dns.PodsVerified, nil
	case "insecure":
		return dns.PodsInsecure, nil
	case "disabled":
		return dns.PodsDisabled, nil
	}
	return 0, fmt.Errorf("--pods %q: want verified, insecure or disabled", s)
}
