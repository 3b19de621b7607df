# syntax=docker/dockerfile:1
#
# otelcol-virt container image.
#   docker build -t otelcol-virt:0.1.0 .        (or: make image)
#   docker run --rm -p 4317:4317 -p 4318:4318 -p 9464:9464 -p 13133:13133 otelcol-virt:0.1.0
#
# Stage 1 builds the distribution with the pinned Collector Builder (the same version as the
# Makefile) as a static binary; stage 2 is distroless/static: CA certificates, tzdata and
# /etc/passwd with the nonroot user, no shell and no package manager.

# Keep in step with the Makefile (BUILDER_VERSION) and builder-config.yaml (dist.version);
# the deploy tests fail when they drift apart.
ARG GO_VERSION=1.26.8
ARG BUILDER_VERSION=v0.165.0
ARG VERSION=0.1.0

FROM golang:${GO_VERSION}-bookworm AS build
ARG BUILDER_VERSION
# No cgo: the binary must run on distroless/static, which has no libc.
ENV CGO_ENABLED=0
WORKDIR /src
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=cache,target=/go/pkg/mod \
    go install go.opentelemetry.io/collector/cmd/builder@${BUILDER_VERSION}
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# The builder regenerates distributions/otelcol-virt (the same sources as committed; it replaces
# the project module with this checkout) and compiles it; `go version -m` proves the result was
# linked without cgo.
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=cache,target=/go/pkg/mod \
    builder --config builder-config.yaml \
    && go version -m distributions/otelcol-virt/otelcol-virt | grep -q 'CGO_ENABLED=0' \
    && install -D -m 0555 distributions/otelcol-virt/otelcol-virt /out/otelcol-virt

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION
LABEL org.opencontainers.image.title="otelcol-virt" \
      org.opencontainers.image.description="OpenTelemetry Collector for mixed Wasm, micro-VM, VM and container fleets" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/otelcol-virt/otelcol-virt" \
      org.opencontainers.image.url="https://github.com/otelcol-virt/otelcol-virt" \
      org.opencontainers.image.documentation="https://github.com/otelcol-virt/otelcol-virt/blob/main/docs/deployment.md" \
      org.opencontainers.image.base.name="gcr.io/distroless/static-debian12:nonroot"
COPY --from=build /out/otelcol-virt /otelcol-virt
# The edge preset is the default; mount another file over it or pass --config to change it.
COPY examples/edge.yaml /etc/otelcol-virt/config.yaml
# 65532 is distroless's "nonroot". Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
# OTLP gRPC, OTLP HTTP, Prometheus exporter, health_check.
EXPOSE 4317 4318 9464 13133
ENTRYPOINT ["/otelcol-virt"]
# The preset listens on localhost, which is unreachable from outside a container: listen on all
# interfaces of the container's network namespace instead. There is no HEALTHCHECK instruction
# because the image has no shell or HTTP client; orchestrators probe :13133 (health_check).
CMD ["--config=/etc/otelcol-virt/config.yaml", \
     "--set=extensions::health_check::endpoint=0.0.0.0:13133", \
     "--set=receivers::otlp::protocols::grpc::endpoint=0.0.0.0:4317", \
     "--set=receivers::otlp::protocols::http::endpoint=0.0.0.0:4318", \
     "--set=exporters::prometheus::endpoint=0.0.0.0:9464"]
