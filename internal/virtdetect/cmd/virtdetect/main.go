// Command virtdetect prints the isolation layers detected below a root directory, as JSON.
//
//	go run ./internal/virtdetect/cmd/virtdetect [-root /hostfs] [-cpuid-file FILE]
//	go run ./internal/virtdetect/cmd/virtdetect -cpuid   # print only this CPU's hypervisor vendor
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

func main() {
	root := flag.String("root", "/", "directory standing for /")
	cpuidOnly := flag.Bool("cpuid", false, "print the CPUID leaf 0x40000000 vendor string and exit")
	cpuidFile := flag.String("cpuid-file", "", "read the vendor string from this file instead of the CPU (fixtures)")
	flag.Parse()

	var cpu virtdetect.CPUID = virtdetect.HostCPUID{}
	if *cpuidFile != "" {
		b, err := os.ReadFile(*cpuidFile)
		if err != nil && !os.IsNotExist(err) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cpu = virtdetect.FixedCPUID(strings.TrimRight(string(b), "\n"))
	}
	if *cpuidOnly {
		v, _ := cpu.HypervisorVendor()
		fmt.Println(v)
		return
	}
	h := virtdetect.Detect(virtdetect.NewFS(*root), cpu)
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
