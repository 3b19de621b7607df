package main

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/otelcol-virt/otelcol-virt/bench/benchkit"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// idleResult is one collector measured with no load.
type idleResult struct {
	Key        string // dist/preset
	Name       string
	BinarySize int64
	RSS        int64
	CPUPercent float64 // of one core
}

// idleCollectors are measured in this order; the stock ones are the baselines the idle goals
// are computed against.
var idleCollectors = []struct{ name, dist, preset string }{
	{"stock, cloud pipeline, in-memory queue", "stock-memq", "cloud"},
	{"stock, cloud pipeline, same queue", "stock", "cloud"},
	{"stock, edge pipeline, same queue", "stock", "edge"},
	{"otelcol-virt (examples/cloud.yaml)", "otelcol-virt", "cloud"},
	{"otelcol-virt (examples/edge.yaml)", "otelcol-virt", "edge"},
	{"otelcol-virt-edge (examples/edge.yaml)", "otelcol-virt-edge", "edge"},
}

func measureIdle(bins map[string]string, instances string) []idleResult {
	var out []idleResult
	for _, c := range idleCollectors {
		bin := bins[c.dist]
		sink, err := e2e.StartCountingSink(e2e.CountingSinkOptions{})
		if err != nil {
			log.Fatal(err)
		}
		tmp, _ := os.MkdirTemp("", "otelcol-virt-bench-idle-")
		args := configFor(c.dist, c.preset, sink, instances, tmp, benchkit.FreeEndpoint(), benchkit.FreeEndpoint())
		col, err := startCollector(bin, args, benchkit.FreeEndpoint())
		if err != nil {
			log.Printf("idle %s: %v", c.name, err)
			sink.Close()
			continue
		}
		time.Sleep(5 * time.Second)
		pid := col.Pid()
		cpu0, _ := e2e.CPUSeconds(pid)
		t0 := time.Now()
		time.Sleep(*flagIdle)
		cpu1, _ := e2e.CPUSeconds(pid)
		st, _ := e2e.ReadProcStats(pid)
		fi, _ := os.Stat(bin)
		r := idleResult{Key: c.dist + "/" + c.preset, Name: c.name, BinarySize: fi.Size(), RSS: st.RSSBytes,
			CPUPercent: 100 * (cpu1 - cpu0) / time.Since(t0).Seconds()}
		log.Printf("idle %-40s size %.1fMiB rss %.1fMiB cpu %.2f%%", c.name, benchkit.MiB(r.BinarySize), benchkit.MiB(r.RSS), r.CPUPercent)
		out = append(out, r)
		col.Stop()
		sink.Close()
		_ = os.RemoveAll(tmp)
	}
	return out
}

// idleGoals are issue 17's idle targets: examples/edge.yaml within 1.10x of the stock edge
// pipeline's RSS and at most 0.25 % of a core, otelcol-virt-edge at most 40 MiB; and at most
// 0.5 % of a core for the other configurations.
func idleGoals(idle []idleResult) []goal {
	by := map[string]idleResult{}
	for _, r := range idle {
		by[r.Key] = r
	}
	var goals []goal
	stockEdge, okStock := by["stock/edge"]
	if virtEdge, ok := by["otelcol-virt/edge"]; ok {
		if okStock && stockEdge.RSS > 0 {
			rr := float64(virtEdge.RSS) / float64(stockEdge.RSS)
			goals = append(goals, goal{"idle RSS, examples/edge.yaml ≤ 1.10x stock edge pipeline",
				fmt.Sprintf("%.2fx (%.1f vs %.1f MiB)", rr, benchkit.MiB(virtEdge.RSS), benchkit.MiB(stockEdge.RSS)), rr <= 1.10})
		}
		goals = append(goals, goal{"idle CPU ≤ 0.25 % of a core: otelcol-virt (examples/edge.yaml)",
			fmt.Sprintf("%.2f %%", virtEdge.CPUPercent), virtEdge.CPUPercent <= 0.25})
	}
	if small, ok := by["otelcol-virt-edge/edge"]; ok {
		measured := fmt.Sprintf("%.1f MiB", benchkit.MiB(small.RSS))
		if okStock && stockEdge.RSS > 0 {
			measured += fmt.Sprintf(" (%.2fx stock edge pipeline)", float64(small.RSS)/float64(stockEdge.RSS))
		}
		goals = append(goals, goal{"idle RSS ≤ 40 MiB: otelcol-virt-edge (examples/edge.yaml)", measured, benchkit.MiB(small.RSS) <= 40})
		goals = append(goals, goal{"idle CPU ≤ 0.5 % of a core: otelcol-virt-edge (examples/edge.yaml)",
			fmt.Sprintf("%.2f %%", small.CPUPercent), small.CPUPercent <= 0.5})
	}
	if cloud, ok := by["otelcol-virt/cloud"]; ok {
		goals = append(goals, goal{"idle CPU ≤ 0.5 % of a core: otelcol-virt (examples/cloud.yaml)",
			fmt.Sprintf("%.2f %%", cloud.CPUPercent), cloud.CPUPercent <= 0.5})
	}
	return goals
}
