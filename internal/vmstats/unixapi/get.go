// Package unixapi asks a VMM's HTTP API on its Unix socket (Cloud Hypervisor --api-socket,
// Firecracker --api-sock) with a deadline and a bounded body: a VMM can be taken over by its
// guest, so an answer is read no further than its cap and no longer than the timeout.
package unixapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ErrTooLarge is returned for an answer past the cap: it is refused whole.
var ErrTooLarge = errors.New("API answer past the configured limit")

// DefaultTimeout bounds a request when Client.Timeout is 0.
const DefaultTimeout = 2 * time.Second

// Client asks one socket.
type Client struct {
	Socket  string
	Timeout time.Duration // 0: DefaultTimeout
	// MaxBodyBytes caps the answer's body (must be positive).
	MaxBodyBytes int64
	// Dial, when set, connects instead of dialing Socket: a socket found on a VMM's command
	// line is opened inside that VMM's root (vmmargs.Root.DialUnix).
	Dial func(ctx context.Context) (net.Conn, error)
}

// WithTimeout bounds ctx by timeout, DefaultTimeout when it is 0.
func WithTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return context.WithTimeout(ctx, timeout)
}

// Dial connects to socket, or through dial when it is set (a socket found on a VMM's command
// line is opened inside that VMM's root), and gives the connection ctx's deadline: whatever
// is read or written after it fails.
func Dial(ctx context.Context, socket string, dial func(context.Context) (net.Conn, error)) (net.Conn, error) {
	var conn net.Conn
	var err error
	if dial != nil {
		conn, err = dial(ctx)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	return conn, nil
}

// maxHeaderBytes bounds the status line and headers read before the body.
const maxHeaderBytes = 16 << 10

// Get performs GET path with Connection: close and returns the body of a 200 answer; any
// other status is an error naming it.
func (c Client) Get(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := WithTimeout(ctx, c.Timeout)
	defer cancel()
	conn, err := Dial(ctx, c.Socket, c.Dial)
	if err != nil {
		return nil, fmt.Errorf("API socket %s: %w", c.Socket, err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\nConnection: close\r\n\r\n"); err != nil {
		return nil, fmt.Errorf("API socket %s: %w", c.Socket, err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(io.LimitReader(conn, c.MaxBodyBytes+maxHeaderBytes), 4096), nil)
	if err != nil {
		return nil, fmt.Errorf("API socket %s: %w", c.Socket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("API socket %s, GET %s: %w", c.Socket, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("API socket %s, GET %s: %s", c.Socket, path, resp.Status)
	}
	if int64(len(body)) > c.MaxBodyBytes {
		return nil, fmt.Errorf("API socket %s, GET %s: %w", c.Socket, path, ErrTooLarge)
	}
	return body, nil
}
