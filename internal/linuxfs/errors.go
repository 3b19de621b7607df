package linuxfs

import (
	"errors"
	"os"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// Reason says why a read failed; the values are those of the error.reason attribute that the
// components report.
type Reason uint8

// Reasons, in the order they are reported.
const (
	// Vanished: the process exited or the cgroup was removed between listing and reading.
	Vanished Reason = iota
	// Permission: the collector may not read the file (hidepid, another user namespace).
	Permission
	// Malformed: the content did not parse, or the file exceeded MaxFileSize.
	Malformed
	// Missing: the file does not exist although its directory does (a controller a kernel or
	// a hierarchy does not have), or the kernel does not support the operation.
	Missing
	// CgroupNamespace: a cgroup path read in the collector's cgroup namespace could not be
	// mapped to the mounted hierarchy.
	CgroupNamespace
	// Other is anything else.
	Other
	NumReasons
)

var reasonNames = [NumReasons]string{"vanished", "permission", "malformed", "missing", "cgroup_namespace", "other"}

func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return "other"
}

// ErrMalformed is wrapped by every parser of this project for content that does not parse;
// the proc and cgroup packages alias it.
var ErrMalformed = errors.New("malformed content")

// Classify maps a read or parse error to its reason.
func Classify(err error) Reason {
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ESRCH):
		return Vanished
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return Permission
	case errors.Is(err, ErrMalformed), errors.Is(err, syscall.EFBIG):
		return Malformed
	case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.EOPNOTSUPP):
		return Missing
	}
	return Other
}

// ClassifyIn is Classify for a file read in dir: a file missing from a directory that still
// exists is a controller the cgroup does not have, not a vanished workload.
func ClassifyIn(dir string, err error) Reason {
	if errors.Is(err, syscall.ENOENT) {
		if _, serr := os.Stat(dir); serr == nil {
			return Missing
		}
	}
	return Classify(err)
}

// WarnEvery is how often a reason that keeps failing is warned about again; in between it is
// logged at debug level and only counted.
const WarnEvery = 5 * time.Minute

// Tally counts failed reads by reason, in total and per pass, and logs each pass's failures as
// at most one line per reason, warning about a reason at most every WarnEvery.
type Tally struct {
	Total    [NumReasons]int64
	pass     [NumReasons]int64
	first    [NumReasons]error
	warnedAt [NumReasons]time.Time
}

// Fail counts err under its reason.
func (t *Tally) Fail(err error) { t.Count(Classify(err), err) }

// FailIn counts err, a failed read of a file in dir.
func (t *Tally) FailIn(dir string, err error) { t.Count(ClassifyIn(dir, err), err) }

// Count counts one failure of reason r.
func (t *Tally) Count(r Reason, err error) {
	if r >= NumReasons {
		r = Other
	}
	t.Total[r]++
	t.pass[r]++
	if t.first[r] == nil {
		t.first[r] = err
	}
}

// Pass returns the failures counted since the last EndPass.
func (t *Tally) Pass() [NumReasons]int64 { return t.pass }

// PassError returns an error joining the first failure of each reason of this pass, nil when
// nothing failed. Vanished processes are normal churn and are left out.
func (t *Tally) PassError() error {
	var errs []error
	for r := Reason(0); r < NumReasons; r++ {
		if r != Vanished && t.first[r] != nil {
			errs = append(errs, t.first[r])
		}
	}
	return errors.Join(errs...)
}

// EndPass logs this pass's failures (what names the component and what it does without the
// data goes in msg) and starts a new pass.
func (t *Tally) EndPass(logger *zap.Logger, now time.Time, msg string) {
	for r := Reason(0); r < NumReasons; r++ {
		n := t.pass[r]
		if n == 0 {
			continue
		}
		fields := []zap.Field{zap.Stringer("reason", r), zap.Int64("count", n), zap.NamedError("first", t.first[r])}
		if r == Vanished || now.Sub(t.warnedAt[r]) < WarnEvery {
			logger.Debug(msg, fields...)
		} else {
			t.warnedAt[r] = now
			logger.Warn(msg+" (repeats are logged at debug level for 5m)", fields...)
		}
		t.pass[r] = 0
		t.first[r] = nil
	}
}
