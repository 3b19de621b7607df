package main

import (
	"fmt"
	"log"
	"path/filepath"
	"strings"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// profileArgs enables the pprof extension (contrib extension/pprofextension v0.165.1, in both
// distributions) on endpoint. service::extensions is a list, which a later --config replaces
// whole: it is restated with pprof added.
func profileArgs(dist, endpoint string) []string {
	exts := "[instance_inventory, health_check, edge_profile, pprof]"
	if strings.HasPrefix(dist, "stock") {
		exts = "[health_check, pprof]"
		if dist == "stock" {
			exts = "[health_check, file_storage, pprof]"
		}
	}
	return []string{
		"--config", fmt.Sprintf("yaml:extensions::pprof::endpoint: %s", endpoint),
		"--config", "yaml:service::extensions: " + exts,
	}
}

// captureCPUProfile fetches a CPU profile of the given length from a collector's pprof
// extension into -cpuprofile, named after the run; read it with `go tool pprof -top <binary> <file>`.
func captureCPUProfile(endpoint, name string, d time.Duration) {
	if err := e2e.SaveCPUProfile(endpoint, d, filepath.Join(*flagCPUProfile, name+".pprof")); err != nil {
		log.Print(err)
	}
}
