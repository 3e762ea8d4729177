#!/bin/busybox sh
# A node of `make test-kernels-cluster`, run by init.sh when the kernel
# command line names weirk.role (control|worker), weirk.name, weirk.ip and
# weirk.control (the control guest's address). Every node: eth0 on the
# bridge, containerd (Debian's, default config), the test image imported
# into the node's containerd namespace, `weir agent --run-pods`. The
# control guest also runs `weir server --bootstrap`, hands a bootstrap token
# and CA to the worker over HTTP on the bridge (the Vagrantfile uses the
# synced folder), applies cluster.yaml and checks from pods:
#   WEIRK TIME <phase> <s since boot>
#   WEIRK CHECK <name> PASS|FAIL <detail>
#   WEIRK NODEPORT <ip>:<port> <want>   (the host checks it from the bridge)
#   WEIRK CLUSTER-DONE pass|fail
# The guest then idles; the host powers it off.
export PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
arg() { sed -n "s/.* weirk\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
role=$(arg role) name=$(arg name) ip=$(arg ip) control=$(arg control)
up() { read -r u _ < /proc/uptime; echo "${u%.*}"; }
say() { echo "WEIRK $*"; }
phase() { say "TIME $1 $(up)"; }
# follow FILE PREFIX: copy a log to the console as it grows.
follow() { tail -n +1 -F "$1" 2>/dev/null | awk -v p="$2" '{ print p ": " $0; fflush() }' & }
# retry N CMD...: run CMD every 2 s until it succeeds, at most N times.
retry() { n=$1; shift; i=0; while [ $i -lt "$n" ]; do "$@" && return 0; i=$((i + 1)); sleep 2; done; return 1; }
idle() { while :; do sleep 3600; done; }

hostname "$name"
mkdir -p /var/log /var/lib/weir /etc/weir /opt/cni/bin /etc/cni/net.d /sys/fs/cgroup/weir /root/.kube
ip link set eth0 up && ip addr add "$ip/24" dev eth0
cp /opt/weir/bin/weir /opt/weir/bin/weir-cni /usr/local/bin/ && cp /opt/weir/bin/weir-cni /usr/lib/cni/loopback /usr/lib/cni/portmap /opt/cni/bin/
echo "+cpu +memory +pids" > /sys/fs/cgroup/cgroup.subtree_control
phase boot

containerd > /var/log/containerd.log 2>&1 &
retry 60 test -S /run/containerd/containerd.sock || { say "CHECK containerd FAIL no socket"; tail -20 /var/log/containerd.log; idle; }
weir image import /opt/weir/testimage.tar --node "$name" || { say "CHECK image-import FAIL"; idle; }
phase containerd-and-image

if [ "$role" = control ]; then
	weir server --name control --data-dir /var/lib/weir/control --listen "$ip:6443" --peer "$ip:2380" \
		--node-listen "$ip:7443" --bootstrap > /var/log/server.log 2>&1 &
	follow /var/log/server.log server
	retry 90 test -s /var/lib/weir/control/ca.crt -a -s /var/lib/weir/control/token || { say "CHECK server FAIL no CA/token"; idle; }
	weir kubeconfig --data-dir /var/lib/weir/control --server "https://$ip:6443" > /root/.kube/weir.config
	# Agents join with a bootstrap token (never the admin token): it buys
	# each its own node certificate.
	mkdir -p /srv && cp /var/lib/weir/control/ca.crt /srv/
	retry 60 sh -c 'weir token create --kubeconfig /root/.kube/weir.config --ttl 2h --description test-kernels-cluster > /srv/bootstrap-token.new' || { say "CHECK bootstrap-token FAIL"; idle; }
	mv /srv/bootstrap-token.new /srv/bootstrap-token
	httpd -p "$ip:8000" -h /srv
	cp /srv/bootstrap-token /etc/weir/bootstrap-token && cp /srv/ca.crt /etc/weir/ca.crt
	phase server
else
	retry 150 wget -q -O /etc/weir/bootstrap-token "http://$control:8000/bootstrap-token" || { say "CHECK token FAIL"; idle; }
	wget -q -O /etc/weir/ca.crt "http://$control:8000/ca.crt"
	phase token
fi

weir agent --server "$control:7443" --bootstrap-token-file /etc/weir/bootstrap-token --ca-file /etc/weir/ca.crt \
	--node-name "$name" --data-dir /var/lib/weir/agent --cgroup-root /sys/fs/cgroup/weir \
	--underlay-iface eth0 --run-pods > /var/log/agent.log 2>&1 &
follow /var/log/agent.log agent
[ "$role" = control ] || idle

# The checks, on the control guest.
ok=pass
check() { # check NAME WANT CMD...: CMD's output must be WANT (retried for 60 s)
	c=$1 want=$2; shift 2
	i=0
	while [ $i -lt 30 ]; do
		got=$("$@" 2>&1 | tr -d '\r' | tail -1)
		[ "$got" = "$want" ] && { say "CHECK $c PASS $* -> $got (after $((i * 2)) s)"; return 0; }
		i=$((i + 1)); sleep 2
	done
	say "CHECK $c FAIL $* -> $got, want $want"; ok=fail
}
nodes_ready() { [ "$(weir get nodes 2>/dev/null | grep -c ' Ready')" = 2 ]; }
retry 180 nodes_ready || { say "CHECK nodes-ready FAIL"; weir get nodes; say "CLUSTER-DONE fail"; idle; }
weir get nodes -o wide
phase nodes-ready
weir apply -f /opt/weir/cluster.yaml || { say "CHECK apply FAIL"; say "CLUSTER-DONE fail"; idle; }
pods_ready() { [ "$(weir get pods 2>/dev/null | grep -c ' 1/1 *Running')" = 4 ]; }
retry 240 pods_ready || { say "CHECK pods-ready FAIL"; weir get pods -o wide; weir describe pods; say "CLUSTER-DONE fail"; idle; }
weir get pods -o wide
weir get svc,endpointslices
phase pods-ready

cip() { weir get svc "$1" -o json | sed -n 's/.*"clusterIP": *"\([^"]*\)".*/\1/p' | head -1; }
ipa=$(cip web-a) ipb=$(cip web-b)
# A pod on each node reaches the Service whose only backend is on the other node.
check clusterip-5.10-to-6.1 web-b weir exec client-a -- wget -q -O- "http://$ipb/"
check clusterip-6.1-to-5.10 web-a weir exec client-b -- wget -q -O- "http://$ipa/"
# Cluster DNS from a pod on each node (the node's weir DNS via kube-dns's ClusterIP).
check dns-5.10 web-b weir exec client-a -- wget -q -O- http://web-b.default.svc.cluster.local/
check dns-6.1 web-a weir exec client-b -- wget -q -O- http://web-a.default.svc.cluster.local/
phase checks
[ $ok = pass ] || { weir get pods -o wide; weir get endpointslices -o yaml; }
say "NODEPORT $ip:30080 web-a"
say "NODEPORT $(arg worker):30080 web-a"
say "CLUSTER-DONE $ok"
idle
