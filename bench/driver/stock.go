package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/otelcol-virt/otelcol-virt/extension/edgeprofileextension"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// stockBatch is the exporter batching of a built-in preset, as edge_profile generates it
// (extension/edgeprofileextension generated.go): the stock baseline batches the same way.
func stockBatch(preset string) string {
	p := edgeprofileextension.Builtin()[preset]
	return fmt.Sprintf("batch: {sizer: items, min_size: %d, max_size: %d, flush_timeout: %s}", p.BatchSize, p.MaxBatchSize, p.FlushInterval)
}

// collectionInterval is wasm_runtime's in the example of each preset (examples/<preset>.yaml):
// the stock collector scrapes its instances as often.
var collectionInterval = map[string]string{"edge": "10s", "cloud": "30s"}

// stockConfig is the stock pipeline a preset expands to (extension/edgeprofileextension
// expand.go, as `otelcol-virt print-config` shows it for examples/<preset>.yaml), without our
// components: the same receivers, memory_limiter, samplers, exporter batching, compression,
// timeout, retries and queue, for traces, metrics and logs.
//
// persistent puts the exporter's queue on file_storage with fsync, as every preset does; false
// keeps the in-memory queue (and the default retry window) a stock collector has out of the box.
//
// The instances otelcol-virt's wasm_runtime scrapes are scraped here by hostmetrics' process
// scraper, filtered to the same executable name at the same interval: it reads /proc for the same
// 50 processes, which is the stock way of getting their CPU, memory, disk I/O, page faults and
// uptime (hostmetricsreceiver v0.165.1, internal/scraper/processscraper/config.go). There is no
// stock counterpart of virtualization_attributes or of the inactive presets' pipelines: what they
// cost is counted against otelcol-virt.
func stockConfig(preset string, persistent bool, sink *e2e.CountingSink, tmp string) string {
	memory := "limit_percentage: 80\n    spike_limit_percentage: 20"
	retry := "retry_on_failure: {enabled: true}"
	if persistent {
		// The presets' retries never give up (the queue is on disk for exactly that).
		retry = "retry_on_failure: {enabled: true, max_elapsed_time: 0s, max_interval: 30s}"
	}
	queueStorage, storage, storageExt := "", "", ""
	if persistent {
		queueStorage = "\n      storage: file_storage"
		storage = fmt.Sprintf("  file_storage:\n    directory: %s\n    create_directory: true\n    fsync: true\n", filepath.Join(tmp, "queue"))
		storageExt = ", file_storage"
	}
	exporterID := "otlp_grpc"
	exporter := fmt.Sprintf(`otlp_grpc:
    endpoint: %s
    tls: {insecure: true}
    compression: none
    timeout: 5s
    %s
    sending_queue:
      enabled: true
      sizer: items
      queue_size: 200000
      block_on_overflow: true%s
      %s`, sink.GRPCEndpoint, retry, queueStorage, stockBatch("cloud"))
	processors := ""
	tracesProcessors, logsProcessors := "[memory_limiter]", "[memory_limiter]"
	if preset == "edge" {
		memory = "limit_mib: 128\n    spike_limit_mib: 32"
		exporterID = "otlp_http"
		// write_buffer_size: the 64 KiB the presets give otlp_http (extension/edgeprofileextension
		// generated.go, httpWriteBufferSize) instead of confighttp's 512 KiB.
		exporter = fmt.Sprintf(`otlp_http:
    endpoint: %s
    compression: gzip
    timeout: 30s
    write_buffer_size: 65536
    %s
    sending_queue:
      enabled: true
      sizer: items
      queue_size: 200000
      block_on_overflow: true%s
      %s`, sink.HTTPEndpoint, retry, queueStorage, stockBatch("edge"))
		// Traces: consistent 10 % sampling; logs follow their trace's decision and those without
		// a trace id are kept (fail_closed: false), as the preset's logs sampler does.
		processors = `  probabilistic_sampler:
    mode: proportional
    sampling_percentage: 10
  probabilistic_sampler/logs:
    mode: proportional
    sampling_percentage: 10
    fail_closed: false
`
		tracesProcessors = "[memory_limiter, probabilistic_sampler]"
		logsProcessors = "[memory_limiter, probabilistic_sampler/logs]"
	}
	return fmt.Sprintf(`extensions:
  health_check:
    endpoint: localhost:13133
%sreceivers:
  otlp:
    protocols:
      grpc: {endpoint: localhost:4317}
      http: {endpoint: localhost:4318}
  hostmetrics:
    collection_interval: %s
    initial_delay: 1s
    scrapers:
      process:
        include: {names: [bench-instance], match_type: strict}
        mute_process_all_errors: true
        metrics:
          process.paging.faults: {enabled: true}
          process.uptime: {enabled: true}
processors:
  memory_limiter:
    check_interval: 1s
    %s
%sexporters:
  prometheus:
    endpoint: localhost:9464
  %s
service:
  extensions: [health_check%s]
  pipelines:
    traces:
      receivers: [otlp]
      processors: %s
      exporters: [%s]
    metrics:
      receivers: [otlp, hostmetrics]
      processors: [memory_limiter]
      exporters: [prometheus, %s]
    logs:
      receivers: [otlp]
      processors: %s
      exporters: [%s]
`, storage, collectionInterval[preset], memory, processors, exporter, storageExt,
		tracesProcessors, exporterID, exporterID, logsProcessors, exporterID)
}

// stockLabel names a stock run in the report.
func stockLabel(dist string) string {
	if strings.HasSuffix(dist, "-memq") {
		return "stock, in-memory queue"
	}
	return "stock, same queue"
}
