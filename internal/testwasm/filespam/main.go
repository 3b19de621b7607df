// Command filespam is a Wasm guest abusing its WASI filesystem rights: it creates files in the
// directory it was given (argument 1, default /data), writes to them and keeps them open, so
// host descriptors and inodes pile up: the third attack vector. Argument 2 is the number of
// files (default 200). Build with GOOS=wasip1 GOARCH=wasm.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	dir, n := "/data", 200
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if len(os.Args) > 2 {
		if v, err := strconv.Atoi(os.Args[2]); err == nil {
			n = v
		}
	}
	block := make([]byte, 4096)
	var open []*os.File
	for i := 0; i < n; i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("spam-%05d", i)))
		if err != nil {
			fmt.Fprintln(os.Stderr, "create:", err)
			break
		}
		_, _ = f.Write(block)
		open = append(open, f)
	}
	fmt.Println("holding", len(open), "files")
	for {
		time.Sleep(time.Hour)
	}
}
