// Command mdgen writes a component's internal/metadata package from its metadata.yaml in the
// shape the Collector's mdatagen generates (typed Record<Metric>DataPoint methods, attribute
// enums, a ResourceBuilder, per-metric config structs, a TelemetryBuilder and a lifecycle test),
// for the subset of the metadata.yaml format this project uses. mdatagen itself is not a
// module this build can fetch; the shape follows open-telemetry/opentelemetry-collector
// cmd/mdatagen/internal/samplereceiver/internal/metadata at commit
// 934999fbab274d10cbf18704b4594a6fb2049887.
//
//	go run ./internal/tools/mdgen <component dir>   (writes <dir>/internal/metadata)
//	go run ./internal/tools/mdgen -check <dir>      (fails when the committed files differ)
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	check := flag.Bool("check", false, "compare with the committed files instead of writing them")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mdgen [-check] <component dir>")
		os.Exit(2)
	}
	files, err := Generate(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "mdgen:", err)
		os.Exit(1)
	}
	out := filepath.Join(flag.Arg(0), "internal", "metadata")
	stale := false
	for name, data := range files {
		path := filepath.Join(out, name)
		if name == "documentation.md" {
			path = filepath.Join(flag.Arg(0), name) // beside metadata.yaml, as mdatagen writes it
		}
		if *check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, data) {
				fmt.Fprintf(os.Stderr, "mdgen: %s is stale: run `make generate`\n", path)
				stale = true
			}
			continue
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "mdgen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "mdgen:", err)
			os.Exit(1)
		}
	}
	if stale {
		os.Exit(1)
	}
}
