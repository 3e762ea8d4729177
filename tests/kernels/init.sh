#!/bin/busybox sh
# /init of the test-kernels guest: mounts what weir needs, loads the modules
# listed in /modules.load (dependency order), runs every test binary listed
# in /tests/list with -test.v and prints markers the host parses:
#   WEIRK BEGIN <pkg> / WEIRK END <pkg> rc=<exit code> ms=<duration>
# (skipping the first weirk.skip=N packages of the list)
# then powers off. CI=true: a privileged test that would skip fails instead.
/bin/busybox --install -s
# runc pivot_roots into each container, which the initial rootfs refuses:
# move everything onto a tmpfs first and switch_root there (it frees the
# initramfs).
if [ ! -e /.switched ]; then
	mkdir /newroot && mount -t tmpfs -o size=95% tmpfs /newroot
	for f in /*; do
		case "$f" in /proc|/sys|/dev|/newroot) mkdir "/newroot$f" ;; *) cp -a "$f" /newroot/ ;; esac
	done
	touch /newroot/.switched
	exec switch_root /newroot /init
fi
export PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp CI=true WEIR_BIN=/opt/weir/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs shm /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /var && ln -sfn /run /var/run
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
echo 1 > /proc/sys/net/ipv4/ip_forward
while read -r m; do
	insmod "/lib/modules/$m" || echo "WEIRK MODULE-FAILED $m"
done < /modules.load
ip link set lo up
echo "WEIRK KERNEL $(uname -r) btf=$([ -e /sys/kernel/btf/vmlinux ] && echo yes || echo no)"
# make test-kernels-cluster: this guest is a cluster node, not a test run.
case " $(cat /proc/cmdline) " in *" weirk.role="*) exec /cluster-guest.sh ;; esac
ms() { read -r up _ < /proc/uptime; echo "${up%.*}${up#*.}0"; }
# weirk.skip=N: a second boot after a kernel lockup skips the N packages the
# first boot finished (run.sh boot_guest).
skip=$(sed -n 's/.*weirk\.skip=\([0-9]*\).*/\1/p' /proc/cmdline)
skip=${skip:-0}
while read -r pkg args; do
	case "$pkg" in ''|'#'*) continue ;; esac
	if [ "$skip" -gt 0 ]; then skip=$((skip - 1)); continue; fi
	name=$(echo "$pkg" | sed 's|^\./||; s|/|_|g')
	echo "WEIRK BEGIN $pkg"
	start=$(ms)
	cd "/src/$pkg" && eval "set -- $args"
	[ -f /tests/run ] && set -- "$@" "-test.run=$(cat /tests/run)"
	timeout 900 "/tests/$name.test" -test.v -test.count=1 -test.timeout=14m "$@" 2>&1
	rc=$?
	echo "WEIRK END $pkg rc=$rc ms=$(( $(ms) - start ))"
	cd /
done < /tests/list
echo "WEIRK DONE"
sync
poweroff -f
