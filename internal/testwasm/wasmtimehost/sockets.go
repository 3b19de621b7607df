//go:build cgo && linux

package wasmtimehost

import (
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// The wasmtime CLI hands a guest a listening socket with `--tcplisten` (WasiCtxBuilder's
// pre-opened sockets), but the C API that wasmtime-go wraps has no such call at v39 (wasi.h
// declares only wasi_config_preopen_dir). The connspam guest accepts on descriptor 3, so for
// it the host shadows the five preview-1 functions Go's wasip1 port uses on that descriptor
// (net.FileListener: fd_fdstat_get, fd_fdstat_set_flags; Accept: sock_accept, and the netpoller's
// poll_oneoff) and serves them from a real host listener. Each accepted connection is a real
// socket of the host process, held until the guest closes it, which connspam never does: the
// attack is the guest's, the plumbing the host's, as with --tcplisten.
//
// Layouts are WASI preview 1's (WebAssembly/WASI legacy/preview1/witx/typenames.witx): fdstat
// 24 bytes (filetype u8 @0, flags u16 @2, rights u64 @8, @16); subscription 48 bytes (userdata
// u64 @0, tag u8 @8, clock {id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40} or
// fd u32 @16); event 32 bytes (userdata u64 @0, errno u16 @8, type u8 @10, nbytes u64 @16).

const (
	listenerFD      = 3
	firstAcceptedFD = 100

	errnoSuccess = 0
	errnoAgain   = 6
	errnoBadf    = 8
	errnoFault   = 21
	errnoInval   = 28

	filetypeCharDevice   = 2
	filetypeSocketStream = 6

	eventClock  = 0
	eventFDRead = 1

	subscriptionClockAbstime = 1
)

type socketState struct {
	ln      *net.TCPListener
	pending net.Conn // accepted by poll_oneoff's readiness check, not yet handed to the guest

	mu       sync.Mutex
	accepted map[int32]net.Conn
	next     int32
}

func newSocketState(ln *net.TCPListener) *socketState {
	return &socketState{ln: ln, accepted: map[int32]net.Conn{}, next: firstAcceptedFD}
}

func (s *socketState) close() {
	_ = s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.accepted {
		_ = c.Close()
	}
}

// ready reports whether an accept would succeed, waiting at most d (d < 0: forever). The host
// accepts only here, on the guest's own sock_accept or poll_oneoff, so every connection the
// host process holds is one the guest asked for; the rest wait in the kernel's backlog.
func (s *socketState) ready(d time.Duration) bool {
	if s.pending != nil {
		return true
	}
	var deadline time.Time
	switch {
	case d == 0:
		deadline = time.Now().Add(time.Millisecond)
	case d > 0:
		deadline = time.Now().Add(d)
	}
	if err := s.ln.SetDeadline(deadline); err != nil {
		return false
	}
	c, err := s.ln.Accept()
	if err != nil {
		return false
	}
	s.pending = c
	return true
}

func (s *socketState) isSocket(fd int32) bool {
	if fd == listenerFD {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.accepted[fd]
	return ok
}

func state(c *wasmtime.Caller) *socketState {
	s, _ := c.Data().(*socketState)
	return s
}

func memory(c *wasmtime.Caller) []byte {
	ext := c.GetExport("memory")
	if ext == nil || ext.Memory() == nil {
		return nil
	}
	return ext.Memory().UnsafeData(c)
}

func inBounds(mem []byte, ptr, n int32) bool {
	return ptr >= 0 && n >= 0 && int64(ptr)+int64(n) <= int64(len(mem))
}

func newSocketLinker(engine *wasmtime.Engine) (*wasmtime.Linker, error) {
	l := wasmtime.NewLinker(engine)
	l.AllowShadowing(true)
	if err := l.DefineWasi(); err != nil {
		return nil, err
	}
	const mod = "wasi_snapshot_preview1"
	defs := map[string]any{
		"fd_fdstat_get": func(c *wasmtime.Caller, fd, out int32) int32 {
			mem := memory(c)
			if !inBounds(mem, out, 24) {
				return errnoFault
			}
			b := mem[out : out+24]
			clear(b)
			// Only this guest's descriptors 0-2 and its sockets exist here: connspam opens
			// nothing else.
			switch s := state(c); {
			case s != nil && s.isSocket(fd):
				b[0] = filetypeSocketStream
			case fd >= 0 && fd <= 2:
				b[0] = filetypeCharDevice
			default:
				return errnoBadf
			}
			binary.LittleEndian.PutUint64(b[8:], ^uint64(0))
			binary.LittleEndian.PutUint64(b[16:], ^uint64(0))
			return errnoSuccess
		},
		"fd_fdstat_set_flags": func(c *wasmtime.Caller, fd, flags int32) int32 {
			if s := state(c); s != nil && s.isSocket(fd) || fd >= 0 && fd <= 2 {
				return errnoSuccess // the host side never blocks the guest's thread on them
			}
			return errnoBadf
		},
		"sock_accept": func(c *wasmtime.Caller, fd, flags, out int32) int32 {
			s := state(c)
			mem := memory(c)
			if s == nil || fd != listenerFD {
				return errnoBadf
			}
			if !inBounds(mem, out, 4) {
				return errnoFault
			}
			if !s.ready(0) {
				return errnoAgain
			}
			s.mu.Lock()
			nfd := s.next
			s.next++
			s.accepted[nfd] = s.pending
			s.mu.Unlock()
			s.pending = nil
			binary.LittleEndian.PutUint32(mem[out:], uint32(nfd))
			return errnoSuccess
		},
		"fd_close": func(c *wasmtime.Caller, fd int32) int32 {
			s := state(c)
			if s == nil {
				return errnoBadf
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if conn, ok := s.accepted[fd]; ok {
				delete(s.accepted, fd)
				_ = conn.Close()
				return errnoSuccess
			}
			return errnoBadf
		},
		"poll_oneoff": func(c *wasmtime.Caller, in, out, n, nout int32) int32 {
			return pollOneoff(c, in, out, n, nout)
		},
	}
	for name, f := range defs {
		if err := l.FuncWrap(mod, name, f); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// pollOneoff serves clock subscriptions (the Go runtime's sleeps and netpoll timeouts) and
// fd_read on the listener; anything else is reported ready at once, so nothing hangs.
func pollOneoff(c *wasmtime.Caller, in, out, n, nout int32) int32 {
	mem := memory(c)
	if n <= 0 || n > 1024 || !inBounds(mem, in, n*48) || !inBounds(mem, out, n*32) || !inBounds(mem, nout, 4) {
		return errnoInval
	}
	s := state(c)
	wait := time.Duration(-1)
	var listen, other []int32
	for i := int32(0); i < n; i++ {
		sub := mem[in+i*48 : in+(i+1)*48]
		switch sub[8] {
		case eventClock:
			timeout := binary.LittleEndian.Uint64(sub[24:])
			d := time.Duration(timeout)
			if binary.LittleEndian.Uint16(sub[40:])&subscriptionClockAbstime != 0 {
				d = time.Until(time.Unix(0, int64(timeout)))
			}
			if d < 0 {
				d = 0
			}
			if wait < 0 || d < wait {
				wait = d
			}
		case eventFDRead:
			if s != nil && int32(binary.LittleEndian.Uint32(sub[16:])) == listenerFD {
				listen = append(listen, i)
			} else {
				other = append(other, i)
			}
		default:
			other = append(other, i)
		}
	}
	if len(other) > 0 {
		wait = 0
	}
	var fired []int32
	if len(listen) > 0 && s.ready(wait) {
		fired = append(fired, listen...)
	} else if len(listen) == 0 && wait > 0 {
		time.Sleep(wait)
	}
	fired = append(fired, other...)
	if len(fired) == 0 { // the timeout expired
		for i := int32(0); i < n; i++ {
			if mem[in+i*48+8] == eventClock {
				fired = append(fired, i)
			}
		}
	}
	for k, i := range fired {
		ev := mem[out+int32(k)*32 : out+int32(k+1)*32]
		clear(ev)
		copy(ev[0:8], mem[in+i*48:in+i*48+8])
		ev[10] = mem[in+i*48+8]
		if ev[10] == eventFDRead {
			binary.LittleEndian.PutUint64(ev[16:], 1)
		}
	}
	binary.LittleEndian.PutUint32(mem[nout:], uint32(len(fired)))
	return errnoSuccess
}
