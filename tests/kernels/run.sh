#!/usr/bin/env bash
# make test-kernels: boot every kernel of kernels.txt under qemu (KVM when
# usable, TCG otherwise) with an initramfs of busybox, the kernel's modules
# and the test binaries of packages.txt; fail when a test fails or skips.
# `run.sh cluster` (make test-kernels-cluster) boots the two-guest cluster
# of cluster.sh instead.
#
# Environment:
#   KERNELS_BUILD   build dir (default bin/kernels): initramfs, test binaries, logs
#   KERNELS_CACHE   where the .debs are kept (default $KERNELS_BUILD/debs;
#                   CI: /var/cache/weir-kernels); each is checked by its sha256
#   KERNELS         names to run (default: all of kernels.txt), e.g. "5.10"
#   KERNELS_TIMEOUT seconds per guest (default 1500)
#   KERNELS_MEM     MiB per guest (default 3072)
#   KERNELS_LOCKUP  seconds of guest soft lockup after which a guest is
#                   stopped and booted again for the packages left (default 240)
#   KERNELS_RUN     a -test.run pattern for every package, to iterate on a few
#                   tests (docs/kernels.md is then left alone)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${KERNELS_BUILD:-$root/bin/kernels}
cache=${KERNELS_CACHE:-$build/debs}
timeout_s=${KERNELS_TIMEOUT:-1500}
mem=${KERNELS_MEM:-3072}
GO=${GO:-go}
mode=${1:-tests}
case "$mode" in
tests) ;;
cluster) build=$build/cluster ;;
*) echo "usage: run.sh [tests|cluster]" >&2; exit 2 ;;
esac
mkdir -p "$build" "$cache"
log() { echo "test-kernels: $*" >&2; }

# The kernel modules the tests need; their dependencies come from modules.dep.
# xfrm_user and nfnetlink: netlink.NewHandleAt opens NETLINK_XFRM and
# NETLINK_NETFILTER sockets (a full system autoloads them).
modules="veth bridge vxlan dummy sch_ingress cls_bpf act_bpf sch_fq_codel tun xfrm_user nfnetlink inet_diag tcp_diag udp_diag"
# Debian's portmap CNI plugin runs iptables (the nf_tables backend, Debian's
# default) with these matches and targets (nft_compat carries the xt_ ones);
# containerd's snapshotter needs overlay.
modules="$modules nf_conntrack nf_conntrack_netlink nf_nat nf_tables nft_compat nft_chain_nat nft_nat nft_masq nft_ct nft_counter
	x_tables xt_addrtype xt_comment xt_multiport xt_tcpudp xt_mark xt_nat xt_MASQUERADE xt_conntrack overlay"
# The cluster's guests have a virtio NIC on the bridge.
[ "$mode" = cluster ] && modules="$modules virtio_pci virtio_net"

mapfile -t matrix < <(grep -v '^\s*#' "$here/kernels.txt" | grep -v '^\s*$')

# apt_private runs apt-get with a private sources list and state, so the
# host's /etc/apt is neither read for sources nor changed. The mirror URIs
# are the host's own Debian ones; only the suites differ.
apt_dir=$build/apt
host_uri() { # the host's mirror URI whose path ends in /$1
	{ grep -rhoE "^(URIs:|deb)\s+\S+/$1/?(\s|\$)" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } |
		awk '{print $2; exit}'
}
apt_private() {
	local suites=$1; shift
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	local main sec
	main=$(host_uri debian) sec=$(host_uri debian-security)
	[ -n "$main" ] || { log "no Debian mirror in the host's apt sources"; exit 1; }
	: > "$apt_dir/sources.list"
	for s in $suites; do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main $s main" >> "$apt_dir/sources.list"
		[ -n "$sec" ] && echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $sec $s-security main" >> "$apt_dir/sources.list"
	done
	apt-get -q -o Dir::Etc::sourcelist="$apt_dir/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" \
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root "$@"
}

# fetch_debs makes sure every pinned .deb is in the cache with its sha256.
fetch_debs() {
	local want=() suites="" line name suite pkg ver sum deb
	for line in "${matrix[@]}"; do
		read -r name suite pkg ver sum <<<"$line"
		deb=$cache/${pkg}_${ver}_amd64.deb
		if [ -f "$deb" ] && echo "$sum  $deb" | sha256sum -c --status; then continue; fi
		rm -f "$deb"
		want+=("$pkg=$ver"); suites="$suites $suite"
	done
	[ ${#want[@]} -eq 0 ] && { log "kernel packages cached in $cache"; return; }
	log "downloading ${want[*]}"
	apt_private "$suites" update -qq
	(cd "$cache" && apt_private "$suites" download "${want[@]}")
	for line in "${matrix[@]}"; do
		read -r name suite pkg ver sum <<<"$line"
		deb=$cache/${pkg}_${ver}_amd64.deb
		echo "$sum  $deb" | sha256sum -c --status || { log "$deb: sha256 differs from kernels.txt"; exit 1; }
	done
}

# copy_with_libs copies host binaries into the initramfs at /usr/local/bin
# with the shared libraries and loader they need (ldd).
copy_with_libs() {
	local dst=$1; shift
	local b lib
	for b in "$@"; do
		install -D -m 0755 "$b" "$dst/usr/local/bin/$(basename "$b")"
		for lib in $(ldd "$b" 2>/dev/null | grep -oE '/[^ ]+'); do
			[ -e "$dst$lib" ] || install -D -m 0755 "$lib" "$dst$lib"
		done
	done
}

# copy_at copies host files into the initramfs at their own paths with the
# shared libraries and loader they need (ldd).
copy_at() {
	local dst=$1; shift
	local f lib
	for f in "$@"; do
		install -D -m 0755 "$f" "$dst$f"
		for lib in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+'); do
			[ -e "$dst$lib" ] || install -D -m 0755 "$lib" "$dst$lib"
		done
	done
}

# copy_runtimes adds what cni's TestCnitoolPortmap and TestCRIContainerd
# run: Debian's iptables (nf_tables backend, with its xtables extensions),
# the portmap and loopback CNI plugins, containerd with its runc shim, runc.
copy_runtimes() {
	local c=$1 x=/usr/lib/x86_64-linux-gnu/xtables n
	local need="$(command -v xtables-nft-multi) /usr/lib/cni/portmap /usr/lib/cni/loopback $(command -v containerd) $(command -v containerd-shim-runc-v2) $(command -v runc)"
	for n in $need; do [ -x "$n" ] || { log "missing $n: apt-get install iptables containernetworking-plugins containerd runc"; exit 1; }; done
	copy_at "$c" $need "$x"/*.so
	for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
		ln -sf xtables-nft-multi "$c$(dirname "$(command -v xtables-nft-multi)")/$n"
	done
}

# build_common builds the guest's userland once: busybox, iproute2, dig,
# nsenter, iptables, nft (the agent's pod egress masquerade), containerd, runc,
# CNI plugins, the static weir binaries
# and the test binaries (cluster mode: the test image and the cluster's
# guest script instead of the tests).
build_common() {
	local c=$build/common
	rm -rf "$c" && mkdir -p "$c"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,run,root,tests,opt/weir/bin,opt/weir/gopath/bin,lib/modules}
	install -m 0755 /bin/busybox "$c/bin/busybox"
	install -m 0755 "$here/init.sh" "$c/init"
	install -m 0755 "$here/go-shim.sh" "$c/usr/local/bin/go"
	copy_with_libs "$c" "$(command -v ip)" "$(command -v tc)" "$(command -v bridge)" "$(command -v dig)" "$(command -v nsenter)" "$(command -v nft)"
	copy_runtimes "$c"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$c/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$c/etc/group"
	printf '127.0.0.1 localhost\n::1 localhost\n' > "$c/etc/hosts"
	printf 'nameserver 127.0.0.1\n' > "$c/etc/resolv.conf"
	log "building static weir, weir-cni, weir-testserver, cnitool and the test binaries (CGO_ENABLED=0)"
	(cd "$root" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags='-s -w' -o "$c/opt/weir/bin/" ./cmd/weir ./cmd/weir-cni ./cmd/weir-testserver &&
		CGO_ENABLED=0 "$GO" build -o "$c/opt/weir/gopath/bin/cnitool" github.com/containernetworking/cni/cnitool)
	ln -s /opt/weir/gopath/bin/cnitool "$c/usr/local/bin/cnitool"
	if [ "$mode" = cluster ]; then
		(cd "$root" && "$GO" run ./cmd/weir-testserver/mkimage -server "$c/opt/weir/bin/weir-testserver" -busybox /bin/busybox -o "$c/opt/weir/testimage.tar")
		install -m 0755 "$here/cluster-guest.sh" "$c/cluster-guest.sh"
		install -m 0644 "$here/cluster.yaml" "$c/opt/weir/cluster.yaml"
		: > "$c/tests/list"
		return
	fi
	grep -v '^\s*#' "$here/packages.txt" | grep -v '^\s*$' > "$c/tests/list"
	if grep -qE -- '-test\.(skip|run)' "$c/tests/list"; then
		log "packages.txt selects tests (-test.skip/-test.run): every test of a package runs in the guests"; exit 1
	fi
	[ -n "${KERNELS_RUN:-}" ] && printf '%s\n' "$KERNELS_RUN" > "$c/tests/run"
	mkdir -p "$c/src" && cp -a "$root/bpf" "$c/src/bpf" # layout tests read ../bpf/include from their package dir
	local pkg args name
	while read -r pkg args; do
		name=$(echo "$pkg" | sed 's|^\./||; s|/|_|g')
		(cd "$root" && CGO_ENABLED=0 "$GO" test -c -ldflags='-s -w' -o "$c/tests/$name.test" "$pkg")
		mkdir -p "$c/src/$pkg"
		[ -d "$root/$pkg/testdata" ] && cp -a "$root/$pkg/testdata" "$c/src/$pkg/"
	done < "$c/tests/list"
}

# build_initrd extracts one kernel package and writes its initramfs: the
# common userland plus the modules (and their dependencies, in load order).
build_initrd() {
	local name=$1 deb=$2 k=$build/$name
	rm -rf "$k" && mkdir -p "$k/x" "$k/root"
	dpkg-deb -x "$deb" "$k/x"
	local kver; kver=$(ls "$k/x/lib/modules")
	cp "$k/x/boot/vmlinuz-$kver" "$k/vmlinuz"
	local mdir=$k/x/lib/modules/$kver dep=$k/x/lib/modules/$kver/modules.dep
	[ -f "$dep" ] || depmod -b "$k/x" "$kver"
	dep=$mdir/modules.dep
	local order=() seen=" "
	add() { # depth-first: dependencies before the module
		local path=$1 d
		case "$seen" in *" $path "*) return ;; esac
		seen="$seen$path "
		for d in $(awk -v p="$path:" '$1==p{for(i=2;i<=NF;i++)print $i}' "$dep"); do add "$d"; done
		order+=("$path")
	}
	local m path
	for m in $modules; do
		path=$(awk -F: -v m="/$m.ko" 'index($1,m)==length($1)-length(m)+1{print $1; exit}' "$dep")
		[ -n "$path" ] || { log "$name: module $m not in $kver (built in?)"; continue; }
		add "$path"
	done
	for path in "${order[@]}"; do
		install -D -m 0644 "$mdir/$path" "$k/root/lib/modules/$path"
		echo "$path" >> "$k/root/modules.load"
	done
	(cd "$build/common" && find . | busybox cpio -o -H newc 2>/dev/null) > "$k/initrd.cpio"
	(cd "$k/root" && find . | busybox cpio -o -H newc 2>/dev/null) >> "$k/initrd.cpio"
	rm -rf "$k/x"
}

# accel picks KVM when a guest really boots with it (a /dev/kvm without
# working nested virtualisation opens but never runs the guest), else TCG.
# The probe boots the first kernel with a busybox-only initramfs.
accel() {
	local vmlinuz=$1 p=$build/kvmprobe
	[ -n "${KERNELS_ACCEL:-}" ] && { echo "$KERNELS_ACCEL"; return; }
	[ -w /dev/kvm ] || { echo tcg; return; }
	rm -rf "$p" && mkdir -p "$p/root/bin" "$p/root/proc"
	install -m 0755 /bin/busybox "$p/root/bin/busybox"
	printf '#!/bin/busybox sh\n/bin/busybox echo WEIRK-KVM-OK\n/bin/busybox poweroff -f\n' > "$p/root/init"
	chmod +x "$p/root/init"
	(cd "$p/root" && find . | busybox cpio -o -H newc 2>/dev/null) > "$p/initrd.cpio"
	timeout 30 qemu-system-x86_64 -accel kvm -cpu host -m 256 -kernel "$vmlinuz" -initrd "$p/initrd.cpio" \
		-append "console=ttyS0 rdinit=/init panic=-1 loglevel=1" -nodefaults -display none -monitor none \
		-serial "file:$p/console.log" -no-reboot </dev/null >/dev/null 2>&1 || true
	if grep -aq WEIRK-KVM-OK "$p/console.log"; then echo kvm; else log "KVM does not run guests here: TCG"; echo tcg; fi
}

# run_guest boots one kernel; its serial console goes to $k/console.log.
# A guest whose kernel locks up (seen once under TCG in CI: both vCPUs in a
# soft lockup inside runc for 20 minutes, the per-package timeout unable to
# fire) is stopped as soon as its console reports a lockup of
# $lockup_s seconds, and booted once more to run the packages that had not
# finished, starting with the one that hung. results.txt and docs/kernels.md
# say so (GUEST ... resumed=<pkg>); a second lockup fails the run.
lockup_s=${KERNELS_LOCKUP:-240}
run_guest() {
	local name=$1 k=$build/$1 acc=$2 cpu=max
	[ "$acc" = kvm ] && cpu=host
	local start=$SECONDS skip=0 attempt
	rm -f "$k/resumed" "$k/console.log"
	for attempt in 1 2; do
		local hung=0
		boot_guest "$name" "$acc" "$cpu" "$skip" "$k/console.$attempt.log" || hung=1
		# console.log: the finished sections of the first boot, then the second.
		if [ "$attempt" = 1 ]; then
			if [ $hung = 0 ]; then cp "$k/console.1.log" "$k/console.log"; break; fi
			skip=$(tr -d '\r' < "$k/console.1.log" | grep -c '^WEIRK END ' || true)
			tr -d '\r' < "$k/console.1.log" | awk '
				/^WEIRK BEGIN /{held=""; hold=1}
				{ if (hold) held = held $0 "\n"; else print }
				/^WEIRK END /{ printf "%s", held; held=""; hold=0 }' > "$k/console.log"
			local pkg; pkg=$(awk -v s="$skip" '$1!~/^#/ && NF{if (i++==s) {print $1; exit}}' "$build/common/tests/list")
			echo "$pkg" > "$k/resumed"
			log "$name: the guest's kernel locked up in $pkg (console: $k/console.1.log); booting it again from $pkg"
			grep -a -m3 'soft lockup' "$k/console.1.log" >&2 || true
		else
			cat "$k/console.2.log" >> "$k/console.log"
		fi
	done
	echo $((SECONDS - start)) > "$k/seconds"
	return 0
}

# boot_guest runs one qemu to the end, or until the timeout, or until its
# console reports a soft lockup of at least $lockup_s seconds (then it stops
# qemu by PID and returns 1). $4 packages of tests/list are skipped.
boot_guest() {
	local name=$1 acc=$2 cpu=$3 skip=$4 console=$5 k=$build/$1
	local note=""
	[ "$skip" != 0 ] && note=", skipping the $skip packages that finished"
	log "$name: booting ($acc, ${mem} MiB, ${timeout_s}s limit$note)"
	: > "$console"
	timeout "$timeout_s" qemu-system-x86_64 -accel "$acc" -cpu "$cpu" -m "$mem" -smp 2 \
		-kernel "$k/vmlinuz" -initrd "$k/initrd.cpio" \
		-append "console=ttyS0 rdinit=/init panic=-1 loglevel=4 net.ifnames=0 weirk.skip=$skip" \
		-nodefaults -display none -monitor none -serial "file:$console" -no-reboot </dev/null &
	local pid=$! hung=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		local worst
		worst=$({ grep -aoE 'soft lockup - CPU#[0-9]+ stuck for [0-9]+s' "$console" 2>/dev/null || true; } |
			sed -E 's/.* ([0-9]+)s$/\1/' | sort -n | tail -1)
		if [ -n "$worst" ] && [ "$worst" -ge "$lockup_s" ]; then
			hung=1
			kill "$pid" 2>/dev/null || true
			break
		fi
	done
	local rc=0
	wait "$pid" || rc=$?
	[ $rc -eq 124 ] && log "$name: guest timed out after ${timeout_s}s"
	return $hung
}

# results prints one line per package: kernel pkg PASS|FAIL|SKIP-FAIL seconds
# and the PROGSTAT lines; it returns non-zero when any package did not pass.
results() {
	local name=$1 k=$build/$1 bad=0
	local console=$k/console.txt
	tr -d '\r' < "$k/console.log" > "$console"
	grep -q '^WEIRK DONE' "$console" || { echo "$name guest did-not-finish"; bad=1; }
	local pkg args
	while read -r pkg args; do
		local section status rc ms
		section=$(awk -v p="$pkg" '$1=="WEIRK" && $2=="BEGIN" && $3==p{on=1;next} $1=="WEIRK" && $2=="END" && $3==p{print; on=0} on' "$console")
		local endline; endline=$(echo "$section" | grep '^WEIRK END' || true)
		if [ -z "$endline" ]; then status=MISSING; ms=0; bad=1
		else
			rc=$(echo "$endline" | sed -n 's/.* rc=\([0-9]*\).*/\1/p'); ms=$(echo "$endline" | sed -n 's/.* ms=\([0-9]*\).*/\1/p')
			local nskip; nskip=$(echo "$section" | grep -c -- '--- SKIP' || true)
			if [ "$rc" != 0 ]; then status=FAIL; bad=1
			elif [ "$nskip" != 0 ]; then status="FAIL(${nskip} skipped)"; bad=1
			else status=PASS; fi
		fi
		local npass; npass=$(echo "$section" | grep -c -- '^--- PASS' || true)
		echo "RESULT $name $pkg $status tests=$npass seconds=$((ms / 1000))"
	done < "$build/common/tests/list"
	grep -o 'PROGSTAT .*' "$console" | sort | sed "s/^/$name /" || true
	grep 'WEIRK MODULE-FAILED' "$console" | sed "s/^/$name /" || true
	return $bad
}

# write_docs rewrites the generated part of docs/kernels.md (between the
# BEGIN/END results markers) from results.txt.
write_docs() {
	local res=$1 doc=$2 tmp
	tmp=$(mktemp)
	awk -v day="$(date -u +%Y-%m-%d)" '
	$1=="GUEST" { k[++nk]=$2; pkgname[$2]=$3; ver[$2]=$4; acc[$2]=$5; secs[$2]=substr($6,9) " s"
		if ($7 ~ /^resumed=/) secs[$2]=secs[$2] " (kernel locked up in " substr($7,9) "; booted again from it)" }
	$1=="RESULT" { if (!($3 in seenp)) { seenp[$3]=1; p[++np]=$3 } r[$2,$3]=$4 " (" substr($5,7) " tests, " substr($6,9) " s)" }
	$2=="PROGSTAT" { if (!($3 in seeng)) { seeng[$3]=1; g[++ng]=$3 }
		split($4,a,"="); split($5,b,"="); split($6,c,"="); st[$1,$3]=a[2] " / " b[2] " / " c[2] }
	END {
		print "Guests (" day "):"; print ""
		print "| kernel | package | version | accel | guest run |"; print "| --- | --- | --- | --- | --- |"
		for (i=1;i<=nk;i++) print "| " k[i] " | " pkgname[k[i]] " | " ver[k[i]] " | " substr(acc[k[i]],7) " | " secs[k[i]] " |"
		print ""; printf "| package |"; for (i=1;i<=nk;i++) printf " %s |", k[i]; print ""
		printf "| --- |"; for (i=1;i<=nk;i++) printf " --- |"; print ""
		for (j=1;j<=np;j++) { printf "| %s |", p[j]; for (i=1;i<=nk;i++) printf " %s |", r[k[i],p[j]]; print "" }
		print ""; print "BPF programs: verifier-processed instructions / kernel verified_insns / BPF_PROG_LOAD time (ms), from dataplane TestProgramStats in each guest."; print ""
		printf "| program |"; for (i=1;i<=nk;i++) printf " %s |", k[i]; print ""
		printf "| --- |"; for (i=1;i<=nk;i++) printf " --- |"; print ""
		for (j=1;j<=ng;j++) { printf "| %s |", g[j]; for (i=1;i<=nk;i++) printf " %s |", st[k[i],g[j]]; print "" }
	}' "$res" > "$tmp.table"
	awk -v table="$tmp.table" '
	/<!-- BEGIN results -->/ { print; while ((getline l < table) > 0) print l; skip=1; next }
	/<!-- END results -->/ { skip=0 }
	!skip' "$doc" > "$tmp" && cat "$tmp" > "$doc"
	rm -f "$tmp" "$tmp.table"
	log "wrote the results into $doc"
}

# main is one function, called on the last line: bash has read the whole
# script before anything runs, so editing it during a run is harmless.
main() {
	fetch_debs
	build_common
	if [ "$mode" = cluster ]; then
		. "$here/cluster.sh"
		exit
	fi
	failed=0 acc=""
	: > "$build/results.txt"
	for line in "${matrix[@]}"; do
		read -r name suite pkg ver sum <<<"$line"
		if [ -n "${KERNELS:-}" ] && ! [[ " $KERNELS " == *" $name "* ]]; then continue; fi
		build_initrd "$name" "$cache/${pkg}_${ver}_amd64.deb"
		[ -n "$acc" ] || acc=$(accel "$build/$name/vmlinuz")
		run_guest "$name" "$acc"
		echo "GUEST $name $pkg $ver accel=$acc seconds=$(cat "$build/$name/seconds")$([ -f "$build/$name/resumed" ] && echo " resumed=$(cat "$build/$name/resumed")")" >> "$build/results.txt"
		if ! results "$name" >> "$build/results.txt"; then
			failed=1
			log "$name: FAILED; guest console ($build/$name/console.log):"
			cat "$build/$name/console.log" >&2
		fi
	done
	echo
	grep -E '^(GUEST|RESULT)' "$build/results.txt" | column -t
	[ -z "${KERNELS:-}${KERNELS_RUN:-}" ] && write_docs "$build/results.txt" "$root/docs/kernels.md"
	echo
	if [ $failed != 0 ]; then log "FAILED (results: $build/results.txt)"; exit 1; fi
	passed=$(grep -c '^RESULT .* PASS ' "$build/results.txt")
	echo "test-kernels: $passed passed, 0 failed"
}
main "$@"; exit $?
