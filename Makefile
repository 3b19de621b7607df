# otelcol-virt — build, run and test.
SHELL := /bin/bash
GO ?= go
ROOT := $(abspath .)
TOOLS := $(ROOT)/.tools
BIN := bin

# Pinned tools; `make tools` installs exactly these versions under .tools/.
BUILDER_VERSION := v0.165.0
TELEMETRYGEN_VERSION := v0.161.0
WAZERO_VERSION := v1.12.0

# Debian packages the integration and end-to-end tests use (real VMs, real Prometheus).
APT_PACKAGES := qemu-system-x86 prometheus strace linux-image-amd64 busybox-static libvirt-daemon-system libvirt-clients

CONFIG ?= examples/edge.yaml
GO_TEST_FLAGS ?= -count=1 -timeout 45m

.PHONY: all build run test test-unit bench lint fmt vet clean tools deps distributions

all: build

## tools: install the pinned builder, telemetrygen and wazero into .tools/
tools: $(TOOLS)/builder $(TOOLS)/telemetrygen $(TOOLS)/wazero

$(TOOLS)/builder:
	GOBIN=$(TOOLS) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(BUILDER_VERSION)

$(TOOLS)/telemetrygen:
	GOBIN=$(TOOLS) $(GO) install github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@$(TELEMETRYGEN_VERSION)

$(TOOLS)/wazero:
	GOBIN=$(TOOLS) $(GO) install github.com/tetratelabs/wazero/cmd/wazero@$(WAZERO_VERSION)

## deps: install the Debian packages the tests need (as root, only those missing)
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all present ($(APT_PACKAGES))"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: missing$$missing (install them with apt-get as root; tests that need them will skip)"; fi

## build: build both distributions with the pinned Collector Builder into bin/
build: $(BIN)/otelcol-virt $(BIN)/otelcol-virt-edge

# The builder generates sources and compiles incrementally; it is cheap to call again, so the
# binaries are always refreshed.
.PHONY: $(BIN)/otelcol-virt $(BIN)/otelcol-virt-edge
$(BIN)/otelcol-virt: $(TOOLS)/builder
	@mkdir -p $(BIN) distributions/otelcol-virt/_build
	flock $(BIN)/.build.lock $(TOOLS)/builder --config builder-config.yaml
	cp distributions/otelcol-virt/_build/otelcol-virt $@.tmp && mv $@.tmp $@

$(BIN)/otelcol-virt-edge: $(TOOLS)/builder
	@mkdir -p $(BIN) distributions/otelcol-virt-edge/_build
	flock $(BIN)/.build.lock $(TOOLS)/builder --config distributions/otelcol-virt-edge/manifest.yaml
	cp distributions/otelcol-virt-edge/_build/otelcol-virt-edge $@.tmp && mv $@.tmp $@

## run: build, then run otelcol-virt with examples/edge.yaml (CONFIG=... to change)
run: $(BIN)/otelcol-virt
	$(BIN)/otelcol-virt --config $(CONFIG)

## test: unit, integration and end-to-end tests against the real binaries
test: deps tools build
	OTELCOL_VIRT_BIN=$(ROOT)/$(BIN)/otelcol-virt OTELCOL_VIRT_EDGE_BIN=$(ROOT)/$(BIN)/otelcol-virt-edge OTELCOL_VIRT_TOOLS=$(TOOLS) \
	  $(GO) test $(GO_TEST_FLAGS) ./...

## test-unit: only the tests that need neither the binaries nor root
test-unit:
	$(GO) test -short -count=1 ./...

## bench: component benchmarks with allocation counts
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee bench.txt

## lint: gofmt and go vet
lint: fmt vet
fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
vet:
	$(GO) vet ./...

## clean: remove generated sources and binaries
clean:
	rm -rf $(BIN) distributions/*/_build bench.txt

## image: build the container image from the Dockerfile (needs a Docker engine with BuildKit)
IMAGE_VERSION := $(shell sed -n 's/^  version: *//p' builder-config.yaml)
IMAGE ?= otelcol-virt:$(IMAGE_VERSION)
.PHONY: image
image:
	DOCKER_BUILDKIT=1 docker build --build-arg BUILDER_VERSION=$(BUILDER_VERSION) \
	  --build-arg VERSION=$(IMAGE_VERSION) -t $(IMAGE) -f Dockerfile .

## soak: the long soak (10 minutes at 5k spans/s through the real binary; SOAK_DURATION=... to change)
SOAK_DURATION ?= 10m
.PHONY: soak
soak: tools $(BIN)/otelcol-virt
	OTELCOL_VIRT_BIN=$(ROOT)/$(BIN)/otelcol-virt OTELCOL_VIRT_TOOLS=$(TOOLS) OTELCOL_VIRT_SOAK_DURATION=$(SOAK_DURATION) \
	  $(GO) test -count=1 -timeout 2h -run '^TestSoak$$' -v ./internal/e2e

## bench-e2e: build otelcol-virt, otelcol-virt-edge and the stock baseline (bench/stock/manifest.yaml),
## run them side by side under telemetrygen load; writes docs/benchmarks.md and bench/results/benchmarks.svg
BENCH_FLAGS ?=
.PHONY: bench-e2e bench/_build/otelcol-stock/otelcol-stock
bench/_build/otelcol-stock/otelcol-stock: $(TOOLS)/builder
	@mkdir -p $(BIN) bench/_build/otelcol-stock
	flock $(BIN)/.build.lock $(TOOLS)/builder --config bench/stock/manifest.yaml
bench-e2e: tools $(BIN)/otelcol-virt $(BIN)/otelcol-virt-edge bench/_build/otelcol-stock/otelcol-stock
	OTELCOL_VIRT_TOOLS=$(TOOLS) $(GO) run ./bench/driver $(BENCH_FLAGS)
