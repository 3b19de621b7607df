package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// routingShare is BenchmarkRoutingShare's result at the worst request size (one trace of two
// spans): the connector's work per request in % of the OTLP encoding of that request alone, an
// upper bound of the routing's share of any preset's CPU (see that benchmark). The end-to-end
// runs above cannot resolve a few percent, one pair's ratio spreading over ±20 % on a small
// shared machine; this is timed in process, both sides in every iteration.
type routingShare struct {
	percents []float64 // one per -count run
	err      error
}

const routingBench = "RoutingShare/spans=2$"

func measureRoutingShare(runs int) routingShare {
	cmd := exec.Command("go", "test", "./extension/edgeprofileextension/edgeprofileconnector",
		"-run", "^$", "-bench", routingBench, "-count", strconv.Itoa(runs))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return routingShare{err: fmt.Errorf("go test -bench %s: %w", routingBench, err)}
	}
	var rs routingShare
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for i := 1; i < len(f); i++ {
			if f[i] == "route-%-of-encode" {
				if v, err := strconv.ParseFloat(f[i-1], 64); err == nil {
					rs.percents = append(rs.percents, v)
				}
			}
		}
	}
	if len(rs.percents) == 0 {
		rs.err = fmt.Errorf("go test -bench %s printed no route-%%-of-encode", routingBench)
	}
	return rs
}

// routingGoal is issue 17's "routing cost stays ≤ 3 %", held by the bound.
func routingGoal(rs routingShare) goal {
	name := "routing ≤ 3 %: connector ÷ OTLP encoding of the same 2-span request (an upper bound, BenchmarkRoutingShare)"
	if rs.err != nil {
		return goal{name, rs.err.Error(), false}
	}
	s := slices.Clone(rs.percents)
	slices.Sort(s)
	median := s[len(s)/2]
	return goal{name, fmt.Sprintf("%.2f %% (median of %d; %.2f … %.2f)", median, len(s), s[0], s[len(s)-1]), s[len(s)-1] <= 3}
}
