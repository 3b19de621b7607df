// Command connspam is a Wasm guest that accepts every connection on the TCP listener its host
// pre-opened (wazero run -listen, descriptor 3) and never closes one, so established sockets
// pile up in the host process: the fourth attack vector, seen from the runtime's side.
// Build with GOOS=wasip1 GOARCH=wasm.
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	l, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listener:", err)
		os.Exit(1)
	}
	var held []net.Conn
	for {
		c, err := l.Accept()
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		held = append(held, c)
	}
}
