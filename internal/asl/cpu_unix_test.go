//go:build unix

package asl

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (user + system), so
// benchmarks can report a figure that other load on the machine does not
// inflate the way it inflates wall-clock ns/op.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
