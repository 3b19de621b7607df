package linuxfs

import (
	"bytes"
	"io/fs"
	"syscall"
)

// maxLine bounds one line of a streamed file.
const maxLine = 4096

// ScanLines reads a file a buffer at a time and calls fn with each line (without its newline;
// the slice is valid during the call only), so a table of any size (/proc/<pid>/net/tcp of a
// namespace with a million sockets) is read in bounded memory. A line longer than maxLine is
// malformed.
func (r *Reader) ScanLines(path string, fn func(line []byte) error) error {
	r.reads++
	r.record('s', path)
	fd, err := open(path, syscall.O_RDONLY|syscall.O_CLOEXEC)
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	buf := r.buf
	have := 0 // bytes of an unfinished line at buf[:have]
	for {
		n, err := syscall.Read(fd, buf[have:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			if have > 0 {
				return fn(buf[:have])
			}
			return nil
		}
		data := buf[:have+n]
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			if err := fn(data[:i]); err != nil {
				return err
			}
			data = data[i+1:]
		}
		if len(data) > maxLine {
			return &fs.PathError{Op: "read", Path: path, Err: syscall.EFBIG}
		}
		have = copy(buf, data)
	}
}
