#!/usr/bin/env python3
"""Writes metrics.jsonl and expected.json: the lines a Firecracker process writes to its
metrics file, reconstructed from firecracker-microvm/firecracker at commit
81b38b9dad6056d7a48073e95ac5a9aed51cb2ab (see ORIGIN). A simulated VMM keeps cumulative
counters; each flush writes, as serde_json does for FirecrackerMetrics, the increase since
the previous flush for a SharedIncMetric and the current value for a SharedStoreMetric.
expected.json holds the simulated cumulative counters, so a test compares the parser's sums
with what the VMM counted, not with the lines it read."""
import json, random

random.seed(15)
INC, STORE, AGG = "inc", "store", "agg"
# Field order as declared (serde serializes in declaration order, flatten groups in place).
GROUPS = [
    ("api_server", [("process_startup_time_us", STORE), ("process_startup_time_cpu_us", STORE)]),
    ("block_rootfs", [(f, INC) for f in ["activate_fails", "cfg_fails", "no_avail_buffer", "event_fails", "execute_fails",
        "invalid_reqs_count", "flush_count", "queue_event_count", "rate_limiter_event_count", "update_count",
        "update_fails", "read_bytes", "write_bytes", "read_count", "write_count"]]
        + [("read_agg", AGG), ("write_agg", AGG)]
        + [(f, INC) for f in ["rate_limiter_throttled_events", "io_engine_throttled_events", "remaining_reqs_count"]]),
    ("deprecated_api", [("deprecated_http_api_calls", INC)]),
    ("get_api_requests", [(f, INC) for f in ["instance_info_count", "machine_cfg_count", "mmds_count", "vmm_version_count", "hotplug_memory_count"]]),
    ("latencies_us", [(f, STORE) for f in ["full_create_snapshot", "diff_create_snapshot", "load_snapshot", "pause_vm", "resume_vm",
        "vmm_full_create_snapshot", "vmm_diff_create_snapshot", "vmm_load_snapshot", "vmm_pause_vm", "vmm_resume_vm"]]),
    ("logger", [(f, INC) for f in ["missed_metrics_count", "metrics_fails", "missed_log_count", "rate_limited_log_count"]]),
    ("mmds", [(f, INC) for f in ["rx_accepted", "rx_accepted_err", "rx_accepted_unusual", "rx_bad_eth", "rx_invalid_token",
        "rx_no_token", "rx_count", "tx_bytes", "tx_count", "tx_errors", "tx_frames", "connections_created", "connections_destroyed"]]),
    ("net_eth0", [(f, INC) for f in ["activate_fails", "cfg_fails", "no_rx_avail_buffer", "no_tx_avail_buffer", "event_fails",
        "rx_queue_event_count", "rx_event_rate_limiter_count", "rx_rate_limiter_throttled", "rx_tap_event_count",
        "rx_bytes_count", "rx_packets_count", "rx_fails", "rx_count", "tap_read_fails", "tap_write_fails"]]
        + [("tap_write_agg", AGG)]
        + [(f, INC) for f in ["tx_bytes_count", "tx_malformed_frames", "tx_fails", "tx_count", "tx_packets_count",
        "tx_queue_event_count", "tx_rate_limiter_event_count", "tx_rate_limiter_throttled", "tx_spoofed_mac_count",
        "tx_remaining_reqs_count"]]),
    ("put_api_requests", [(f, INC) for f in ["actions_count", "actions_fails", "boot_source_count", "boot_source_fails", "drive_count",
        "drive_fails", "logger_count", "logger_fails", "machine_cfg_count", "machine_cfg_fails", "cpu_cfg_count", "cpu_cfg_fails",
        "metrics_count", "metrics_fails", "network_count", "network_fails", "mmds_count", "mmds_fails", "vsock_count",
        "vsock_fails", "pmem_count", "pmem_fails", "serial_count", "serial_fails", "hotplug_memory_count", "hotplug_memory_fails"]]),
    ("seccomp", [("num_faults", STORE)]),
    ("vcpu", [(f, INC) for f in ["exit_io_in", "exit_io_out", "exit_mmio_read", "exit_mmio_write", "failures", "kvmclock_ctrl_fails"]]
        + [(f, AGG) for f in ["exit_io_in_agg", "exit_io_out_agg", "exit_mmio_read_agg", "exit_mmio_write_agg"]]),
    ("vmm", [("panic_count", STORE)]),
    ("signals", [("sigbus", STORE), ("sigsegv", STORE), ("sigxfsz", STORE), ("sigxcpu", STORE), ("sigpipe", INC), ("sighup", STORE), ("sigill", STORE)]),
    ("interrupts", [("triggers", INC), ("config_updates", INC)]),
]

total, flushed, store = {}, {}, {}

def advance(step):
    for g, fields in GROUPS:
        for f, kind in fields:
            if kind == INC:
                k = f"{g}.{f}"
                grow = {"rx_bytes_count": 150000, "tx_bytes_count": 90000, "read_bytes": 4 << 20, "write_bytes": 1 << 20}.get(f, 40)
                total[k] = total.get(k, 0) + random.randint(0, grow)
            elif kind == AGG:
                k = f"{g}.{f}.sum_us"
                total[k] = total.get(k, 0) + random.randint(0, 5000)
                store[f"{g}.{f}.min_us"] = random.randint(1, 20)
                store[f"{g}.{f}.max_us"] = random.randint(100, 900)
            else:
                store[f"{g}.{f}"] = {"num_faults": step // 2}.get(f, random.randint(0, 3) if g != "api_server" else 12000)

def flush(ts):
    line = {"utc_timestamp_ms": ts}
    for g, fields in GROUPS:
        obj = {}
        for f, kind in fields:
            if kind == INC:
                k = f"{g}.{f}"
                obj[f] = total[k] - flushed.get(k, 0)
                flushed[k] = total[k]
            elif kind == AGG:
                k = f"{g}.{f}.sum_us"
                obj[f] = {"min_us": store[f"{g}.{f}.min_us"], "max_us": store[f"{g}.{f}.max_us"], "sum_us": total[k] - flushed.get(k, 0)}
                flushed[k] = total[k]
            else:
                obj[f] = store[f"{g}.{f}"]
        line[g] = obj
    return json.dumps(line, separators=(",", ":"))

lost = {}

def flush_lost(ts):
    """A flush that never reaches the reader whole: its deltas are lost to it."""
    before = dict(flushed)
    line = flush(ts)
    for k, v in flushed.items():
        lost[k] = lost.get(k, 0) + v - before.get(k, 0)
    return line

lines = []
ts = 1767225600000
for step in range(1, 4):
    advance(step)
    lines.append(flush(ts + step * 60000))
# A flush torn by a full FIFO (a non-blocking write larger than PIPE_BUF is written in part),
# directly followed by the next flush on the same line: the reader cannot split them.
advance(4)
torn = flush_lost(ts + 4 * 60000)
advance(5)
lines.append(torn[: len(torn) // 2] + flush_lost(ts + 5 * 60000))
# An oversized line: operator-supplied properties (MetricsProperties, flattened into the
# object) of 300 KiB, past the reader's 256 KiB default cap.
advance(6)
big = json.loads(flush_lost(ts + 6 * 60000))
big["properties_blob"] = "x" * (300 << 10)
lines.append(json.dumps(big, separators=(",", ":")))
advance(7)
lines.append(flush(ts + 7 * 60000))
total_at_7 = dict(total)
final_store = dict(store)
# The flush being written when the file was read: no newline yet.
advance(8)
partial = flush(ts + 8 * 60000)
with open("metrics.jsonl", "w") as fh:
    fh.write("\n".join(lines) + "\n" + partial[:100])
with open("expected.json", "w") as fh:
    json.dump({
        "lines_accepted": 4,
        "oversized": 1,
        "malformed": 1,
        "last_timestamp_ms": ts + 7 * 60000,
        # Sums of the increases carried by the four intact flushes (steps 1-3 and 7).
        "counters": {k: total_at_7[k] - lost.get(k, 0) for k in sorted(total_at_7)},
        "gauges": {k: final_store[k] for k in sorted(final_store)},
    }, fh, indent=1, sort_keys=True)
