# make test-kernels-cluster (sourced by `run.sh cluster`, after the kernels
# and the guest userland are built): the Vagrant topology without Vagrant.
# Two guests, the 5.10 kernel as kernel-5-10 (control member + agent) and
# the 6.1 kernel as kernel-6-1 (agent), each with a virtio NIC on a tap of
# one bridge, 192.168.56.0/24, all inside a netns weirk-cluster-PID that
# this script creates and removes (also on failure or interrupt). The host's
# own links and routes are never touched. cluster-guest.sh runs the nodes
# and the in-pod checks; this side checks the NodePort from the bridge.
#
#   KERNELS_CLUSTER_TIMEOUT seconds for the whole run (default 1200)
ctimeout=${KERNELS_CLUSTER_TIMEOUT:-1200}
ns=weirk-cluster-$$
pids=()
cluster_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	return 0
}
trap cluster_cleanup EXIT
trap 'exit 130' INT TERM

for line in "${matrix[@]}"; do
	read -r name suite pkg ver sum <<<"$line"
	build_initrd "$name" "$cache/${pkg}_${ver}_amd64.deb"
done
acc=$(accel "$build/5.10/vmlinuz")

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add weirk-br type bridge
ip -n "$ns" addr add 192.168.56.1/24 dev weirk-br
ip -n "$ns" link set weirk-br up
control_ip=192.168.56.10 worker_ip=192.168.56.11

# boot KERNEL NODE ROLE IP MAC: one guest on a new tap of the bridge.
boot() {
	local k=$1 node=$2 role=$3 gip=$4 mac=$5 tap=weirk-t${1//./}
	ip -n "$ns" tuntap add "$tap" mode tap
	ip -n "$ns" link set "$tap" master weirk-br up
	local cpu=max; [ "$acc" = kvm ] && cpu=host
	log "cluster: booting $k as $node ($role, $gip, $acc, ${mem} MiB)"
	ip netns exec "$ns" qemu-system-x86_64 -accel "$acc" -cpu "$cpu" -m "$mem" -smp 2 \
		-kernel "$build/$k/vmlinuz" -initrd "$build/$k/initrd.cpio" \
		-append "console=ttyS0 rdinit=/init panic=-1 loglevel=4 net.ifnames=0 weirk.role=$role weirk.name=$node weirk.ip=$gip weirk.control=$control_ip weirk.worker=$worker_ip" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" -device "virtio-net-pci,netdev=n0,mac=$mac" \
		-nodefaults -display none -monitor none -serial "file:$build/$k/console.log" -no-reboot </dev/null &
	pids+=($!)
}
start=$SECONDS
boot 5.10 kernel-5-10 control $control_ip 52:54:00:56:00:10
boot 6.1 kernel-6-1 worker $worker_ip 52:54:00:56:00:11

console() { tr -d '\r' 2>/dev/null < "$build/$1/console.log"; }
done_line=""
while [ $((SECONDS - start)) -lt "$ctimeout" ]; do
	done_line=$(console 5.10 | grep -m1 '^WEIRK CLUSTER-DONE' || true)
	[ -n "$done_line" ] && break
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { log "cluster: a guest exited early"; break 2; }; done
	sleep 5
done
verdict=pass
[ "$done_line" = "WEIRK CLUSTER-DONE pass" ] || verdict=fail
[ -n "$done_line" ] || log "cluster: no result after $((SECONDS - start)) s"

# NodePort from the bridge: each node's address, the backend on kernel-5-10.
: > "$build/nodeport.txt"
while read -r _ _ hp want; do
	got="" i=0
	while [ $i -lt 15 ]; do
		got=$(ip netns exec "$ns" busybox wget -q -O- "http://$hp/" 2>&1 | tail -1) || true # set -e: a failed try is retried
		[ "$got" = "$want" ] && break
		i=$((i + 1)); sleep 2
	done
	if [ "$got" = "$want" ]; then echo "host CHECK nodeport-from-bridge-$hp PASS -> $got" >> "$build/nodeport.txt"
	else echo "host CHECK nodeport-from-bridge-$hp FAIL -> $got, want $want" >> "$build/nodeport.txt"; verdict=fail; fi
done < <(console 5.10 | grep '^WEIRK NODEPORT' || true)
total=$((SECONDS - start))

{
	echo "CLUSTER accel=$acc seconds=$total verdict=$verdict"
	for k in 5.10 6.1; do console "$k" | { grep -E '^WEIRK (TIME|CHECK)' || true; } | sed "s/^WEIRK /$k /"; done
	cat "$build/nodeport.txt"
} > "$build/results.txt"
if [ $verdict != pass ]; then
	for k in 5.10 6.1; do log "cluster: $k console ($build/$k/console.log):"; console "$k" >&2; done
fi
cat "$build/results.txt"
log "cluster: $verdict in $total s (results: $build/results.txt)"
[ $verdict = pass ]
