// Command capturefixture copies live processes into a fixture root (see internal/fixturecapture).
//
//	capturefixture -out <dir> -origin "<what ran, how>" <pid>...
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/otelcol-virt/otelcol-virt/internal/fixturecapture"
)

func main() {
	out := flag.String("out", "", "fixture root to write (created; must not exist)")
	origin := flag.String("origin", "", "what ran and how, for the ORIGIN file")
	proc := flag.String("proc", "/proc", "procfs to read")
	cgroups := flag.String("cgroup", "/sys/fs/cgroup", "cgroup mount root to read")
	flag.Parse()
	if *out == "" || *origin == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: capturefixture -out <dir> -origin <text> <pid>...")
		os.Exit(2)
	}
	var pids []int
	for _, a := range flag.Args() {
		pid, err := strconv.Atoi(a)
		if err != nil {
			fmt.Fprintln(os.Stderr, "capturefixture: not a pid:", a)
			os.Exit(2)
		}
		pids = append(pids, pid)
	}
	if err := fixturecapture.Capture(*out, *origin, *proc, *cgroups, pids); err != nil {
		fmt.Fprintln(os.Stderr, "capturefixture:", err)
		os.Exit(1)
	}
}
