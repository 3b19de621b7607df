// Package e2e is the end-to-end test harness: it builds the real otelcol-virt binary (once per
// test process, serialised across processes by a file lock), starts it with a config on free
// loopback ports, drives it with a real OTLP client and records what it exports in an OTLP sink.
package e2e
