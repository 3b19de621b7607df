package unixapi

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawServer answers every connection with what write sends, ignoring the request.
func rawServer(t *testing.T, write func(net.Conn)) string {
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				write(c)
			}()
		}
	}()
	return sock
}

func TestGet(t *testing.T) {
	ok := rawServer(t, func(c net.Conn) {
		fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	})
	body, err := Client{Socket: ok, MaxBodyBytes: 64}.Get(context.Background(), "/")
	require.NoError(t, err)
	assert.Equal(t, "{}", string(body))

	// A VMM that sends headers without end is cut at the cap, not read into memory.
	endless := rawServer(t, func(c net.Conn) {
		fmt.Fprint(c, "HTTP/1.1 200 OK\r\n")
		for i := 0; i < 1<<16; i++ {
			if _, err := fmt.Fprintf(c, "X-%d: %064d\r\n", i, i); err != nil {
				return
			}
		}
	})
	_, err = Client{Socket: endless, MaxBodyBytes: 64}.Get(context.Background(), "/")
	assert.Error(t, err)

	// A body past the cap is refused whole, with or without Content-Length.
	big := rawServer(t, func(c net.Conn) {
		fmt.Fprint(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
		for i := 0; i < 100; i++ {
			fmt.Fprintf(c, "%064d", i)
		}
	})
	_, err = Client{Socket: big, MaxBodyBytes: 1024}.Get(context.Background(), "/")
	assert.ErrorIs(t, err, ErrTooLarge)

	// Status other than 200 names it.
	fault := rawServer(t, func(c net.Conn) {
		fmt.Fprint(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}")
	})
	_, err = Client{Socket: fault, MaxBodyBytes: 64}.Get(context.Background(), "/machine-config")
	assert.ErrorContains(t, err, "GET /machine-config: 400 Bad Request")

	// A VMM that never answers costs the timeout.
	silent := rawServer(t, func(c net.Conn) { time.Sleep(2 * time.Second) })
	start := time.Now()
	_, err = Client{Socket: silent, MaxBodyBytes: 64, Timeout: 100 * time.Millisecond}.Get(context.Background(), "/")
	assert.Error(t, err)
	assert.Less(t, time.Since(start), time.Second)
}
