// Package deploy holds no code: its tests check the deployment files of the repository (the
// Dockerfile, the Compose example, the Kubernetes manifests and overlays, the Prometheus rules
// and the Grafana dashboard) with the real parsers of the tools that consume them, and validate
// every collector configuration they carry with the real otelcol-virt binary.
package deploy
