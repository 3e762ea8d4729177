# weir: build, test and run. Every target that needs root says so.
SHELL := /bin/bash
# sudo resets PATH (secure_path), which rarely holds Go: fall back to the
# official tarball's place, and put Go's directory on PATH for the tools
# and tests that run go themselves.
GO ?= $(shell command -v go 2>/dev/null || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || echo go)
ifneq ($(dir $(GO)),./)
export PATH := $(dir $(GO)):$(PATH)
endif
export GOFLAGS ?= -mod=mod
BIN := bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.Version=$(VERSION)
APT_PACKAGES := clang llvm libbpf-dev bpftool iproute2 iptables nftables containerd runc \
	busybox-static dnsutils dnsperf etcd-server etcd-client containernetworking-plugins protobuf-compiler \
	qemu-system-x86 kmod
TEST_TIMEOUT ?= 30m
DATA_DIR ?= /var/lib/weir

.PHONY: all deps generate build image test test-unit test-kernels test-kernels-cluster bench up down clean vet fmt-check generate-check vagrant-validate

all: build

# deps installs what build, test and up need: Debian packages (apt) and the
# pinned Go tools (go.mod's tool block). Idempotent: installs only what is missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "deps: need root to install packages: run 'sudo make deps'"; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "deps: all Debian packages present"; fi
	@# kubectl judges API compatibility in tests; any kubectl on PATH will do
	@# (Debian's kubernetes-client conflicts with other kubectl packages).
	@command -v kubectl >/dev/null || { \
		echo "deps: installing kubernetes-client (kubectl)"; \
		if [ "$$(id -u)" != 0 ]; then echo "deps: need root to install kubectl: run 'sudo make deps'"; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null; }
	@$(GO) mod download
	@mkdir -p $(BIN)/tools && GOBIN=$(CURDIR)/$(BIN)/tools $(GO) install tool
	@mountpoint -q /sys/fs/bpf || { [ "$$(id -u)" = 0 ] && mount -t bpf bpf /sys/fs/bpf && echo "deps: mounted bpffs at /sys/fs/bpf"; } || true

# generate rebuilds every generated file (bpf2go objects, protobuf) from source.
generate:
	$(GO) generate ./...

generate-check: generate
	@git diff --exit-code -- . ':!go.sum' || { echo "generated files differ from the committed ones: run 'make generate' and commit"; exit 1; }

# build writes static binaries (CGO_ENABLED=0: Go's own DNS resolver and user
# lookup, no libc), so they start on any distribution's libc, e.g. Debian 11's
# glibc 2.31 on the 5.10 Vagrant box; tests/kernels checks it.
build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# image writes the test image (Debian's busybox-static + a static
# weir-testserver) as an OCI archive: weir image import bin/weir-testimage.tar --node N
image:
	@mkdir -p $(BIN)/image
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(BIN)/image/weir-testserver ./cmd/weir-testserver
	$(GO) run ./cmd/weir-testserver/mkimage -server $(BIN)/image/weir-testserver -busybox /bin/busybox -o $(BIN)/weir-testimage.tar

vet:
	$(GO) vet ./...

fmt-check:
	@bad=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_bpfel.go$$\|\.pb\.go$$')); \
	if [ -n "$$bad" ]; then echo "gofmt needed on:"; echo "$$bad"; exit 1; fi

# test runs every test: unit tests, privileged tests (BPF, netns, containerd;
# they need root) and the multi-process cluster tests. It starts what it needs
# and removes it again, also when a test fails.
test: deps build image vet fmt-check
	PATH=$(CURDIR)/$(BIN)/tools:$$PATH WEIR_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./... 2>&1 | tee /tmp/weir-test.log; exit $${PIPESTATUS[0]}

# test-kernels boots each kernel pinned in tests/kernels/kernels.txt (Debian
# 11's 5.10 and Debian 12's 6.1 cloud kernels) under qemu and runs the
# kernel-touching test packages (tests/kernels/packages.txt) inside; a failed
# or skipped test fails it. Kernel .debs are cached in KERNELS_CACHE.
# Results: docs/kernels.md (rewritten) and bin/kernels/results.txt.
KERNELS_CACHE ?= $(BIN)/kernels/debs
test-kernels: deps
	KERNELS_CACHE=$(KERNELS_CACHE) GO=$(GO) bash tests/kernels/run.sh

# test-kernels-cluster boots the 5.10 and 6.1 guests together on a bridge
# in a weir-owned netns: a control member and two agents running pods
# through containerd; ClusterIP, NodePort and DNS checks (docs/vagrant.md).
test-kernels-cluster: deps
	KERNELS_CACHE=$(KERNELS_CACHE) GO=$(GO) bash tests/kernels/run.sh cluster

test-unit:
	$(GO) test -count=1 -short ./...

# bench runs the benchmarks with bin/weir-bench (cmd/weir-bench, a binary of
# its own: bin/weir links no benchmark code) and writes docs/benchmarks.md
# (never gates on times). Each writes its own section of docs/benchmarks.md
# and docs/bench/NAME.json; those that start weir run the bin/weir beside it.
BENCHES ?= store service-latency dns push scheduler pods up api scale
bench: deps build
	@for b in $(BENCHES); do echo "==> weir-bench $$b"; $(BIN)/weir-bench $$b || exit 1; done

# up builds weir and the test image and starts the local cluster: control
# members, containerd and nodes in network namespaces (data in $(DATA_DIR)).
# make up NODES=3 CONTROL=3 for three of each.
NODES ?= 2
CONTROL ?= 1
up: deps build image
	$(BIN)/weir up --data-dir $(DATA_DIR) --bin $(CURDIR)/$(BIN) --nodes $(NODES) --control $(CONTROL)

down:
	@if [ -x $(BIN)/weir ]; then $(BIN)/weir down --data-dir $(DATA_DIR); else echo "nothing to stop: bin/weir not built"; fi

# vagrant-validate checks the Vagrantfile (both kernels) with Debian's vagrant.
vagrant-validate:
	@command -v vagrant >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq vagrant >/dev/null; } || { echo "vagrant missing: sudo apt-get install vagrant"; exit 1; }
	vagrant validate --ignore-provider
	WEIR_KERNEL=5.10 WEIR_WORKERS=3 vagrant validate --ignore-provider

clean:
	rm -rf $(BIN)
	$(GO) clean -testcache
