package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
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
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", endpoint, int(d.Seconds()))
	client := &http.Client{Timeout: d + 10*time.Second}
	resp, err := client.Get(url)
	if err != nil {
		log.Printf("cpu profile %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(*flagCPUProfile, 0o755); err != nil {
		log.Printf("cpu profile %s: %v", name, err)
		return
	}
	f, err := os.Create(filepath.Join(*flagCPUProfile, name+".pprof"))
	if err != nil {
		log.Printf("cpu profile %s: %v", name, err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		log.Printf("cpu profile %s: %v", name, err)
	}
}
