// Command virtdetect prints the isolation layers detected below a root directory, as JSON, or
// captures the files detection reads into a fixture.
//
//	go run ./internal/virtdetect/cmd/virtdetect [-root /hostfs] [-cpuid-file FILE]
//	go run ./internal/virtdetect/cmd/virtdetect -cpuid     # print only this CPU's hypervisor vendor
//	go run ./internal/virtdetect/cmd/virtdetect -capture DIR
//	virtdetect -capture -      # inside a sandbox or guest: the capture as base64 tar.gz on stdout
//
// -capture writes DIR/root (exactly the files detection read, environments and mount tables cut
// to what it uses), DIR/cpuid (the CPUID vendor, when the leaf exists) and DIR/detected.json
// (the answer, which a test on DIR must reproduce). Add DIR/ORIGIN.md saying where it came from.
package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

func main() {
	root := flag.String("root", "/", "directory standing for /")
	cpuidOnly := flag.Bool("cpuid", false, "print the CPUID leaf 0x40000000 vendor string and exit")
	cpuidFile := flag.String("cpuid-file", "", "read the vendor string from this file instead of the CPU (fixtures)")
	capture := flag.String("capture", "", "copy the files detection reads into this fixture directory")
	flag.Parse()

	var cpu virtdetect.CPUID = virtdetect.HostCPUID{}
	if *cpuidFile != "" {
		b, err := os.ReadFile(*cpuidFile)
		if err != nil && !os.IsNotExist(err) {
			fail(err)
		}
		cpu = virtdetect.FixedCPUID(strings.TrimRight(string(b), "\n"))
	}
	if *cpuidOnly {
		v, _ := cpu.HypervisorVendor()
		fmt.Println(v)
		return
	}
	if *capture == "-" {
		fail(captureToStdout(virtdetect.NewFS(*root), cpu))
		return
	}
	if *capture != "" {
		fail(captureTo(*capture, virtdetect.NewFS(*root), cpu))
		return
	}
	h := virtdetect.Detect(virtdetect.NewFS(*root), cpu)
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	fail(enc.Encode(h))
}

func captureTo(dir string, f virtdetect.FS, cpu virtdetect.CPUID) error {
	rootDir := filepath.Join(dir, "root")
	if err := os.RemoveAll(rootDir); err != nil {
		return err
	}
	if err := os.MkdirAll(rootDir, 0o755); err != nil {
		return err
	}
	h, err := virtdetect.Capture(f, cpu, rootDir)
	if err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, "cpuid"))
	if v, ok := cpu.HypervisorVendor(); ok {
		if err := os.WriteFile(filepath.Join(dir, "cpuid"), []byte(v+"\n"), 0o644); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "detected.json"), append(b, '\n'), 0o644)
}

// Markers around the base64 archive that -capture - prints; a serial console may add noise
// before and after.
const (
	archiveBegin = "VIRTDETECT-CAPTURE-BEGIN"
	archiveEnd   = "VIRTDETECT-CAPTURE-END"
)

func captureToStdout(f virtdetect.FS, cpu virtdetect.CPUID) error {
	dir, err := os.MkdirTemp("", "virtdetect-capture")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := captureTo(dir, f, cpu); err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, archiveBegin)
	enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: out})
	zw := gzip.NewWriter(enc)
	tw := tar.NewWriter(zw)
	if err := writeArchive(tw, dir); err != nil {
		return err
	}
	for _, c := range []io.Closer{tw, zw, enc} {
		if err := c.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, archiveEnd)
	return out.Flush()
}

// writeArchive adds dir's tree, symlinks included (captures have them: /sys/bus/virtio/devices,
// /proc/*/ns).
func writeArchive(tw *tar.Writer, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
}

// lineWriter breaks base64 into 76-column lines so that consoles do not mangle it.
type lineWriter struct {
	w   *bufio.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	for _, b := range p {
		if l.col == 76 {
			_ = l.w.WriteByte('\n')
			l.col = 0
		}
		_ = l.w.WriteByte(b)
		l.col++
	}
	return len(p), nil
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "virtdetect:", err)
		os.Exit(1)
	}
}
