package wasmmem

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// hostEvent is a line of the wasmtime test host's stdout (wasmtimehost.Event), decoded
// without importing the cgo package.
type hostEvent struct {
	Event     string `json:"event"`
	Index     int    `json:"index"`
	Guest     string `json:"guest"`
	Base      uint64 `json:"base"`
	Span      uint64 `json:"span"`
	TID       int    `json:"tid"`
	Addr      string `json:"addr"`
	Dir       string `json:"dir"`
	Instances []struct {
		Index   int    `json:"index"`
		Present uint64 `json:"present"`
		Touched uint64 `json:"touched"`
	} `json:"instances"`
}

type capture struct {
	smaps   []byte
	started []hostEvent
	report  hostEvent
}

func loadCapture(tb testing.TB, name string) capture {
	tb.Helper()
	dir := filepath.Join("testdata", name)
	if _, err := os.Stat(filepath.Join(dir, "ORIGIN")); err != nil {
		tb.Fatalf("fixture %s has no ORIGIN: %v", name, err)
	}
	f, err := os.Open(filepath.Join(dir, "smaps.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	smaps, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	ev, err := os.ReadFile(filepath.Join(dir, "instances.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	c := capture{smaps: smaps}
	sc := bufio.NewScanner(bytes.NewReader(ev))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e hostEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			tb.Fatal(err)
		}
		switch e.Event {
		case "started":
			c.started = append(c.started, e)
		case "report":
			c.report = e
		}
	}
	return c
}
