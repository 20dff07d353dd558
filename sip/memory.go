package sip

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// CallMemory is the memory budget of one call in progress: its media
// (jitter ring, buffers), recorder, flow goroutine and SIP dialog, with room
// for the garbage collector. Measured live at 1,000 calls: about 35 KiB of
// heap and one goroutine stack a call.
const CallMemory = 64 << 10

// memorySlack is what MemoryLimit allows beyond the process's memory when
// it is ready and its calls' budget: web pages, paging, a burst of
// set-ups.
const memorySlack = 32 << 20

// MemoryLimit sets the Go runtime's soft memory limit (GOMEMLIMIT) for up
// to maxCalls calls at once: the Go memory in use now (call it once the
// service is loaded: prompts, configuration) + 32 MiB + maxCalls ×
// CallMemory. With a limit near what the calls need, the collector and the
// scavenger give memory back to the system instead of letting the heap
// double (GOGC=100) over the garbage of call set-ups; a call in progress
// allocates nothing per packet, so collecting more often costs little CPU.
// A GOMEMLIMIT set in the environment wins: MemoryLimit then returns it
// and false. It returns the limit in force.
func MemoryLimit(maxCalls int) (limit int64, set bool) {
	if os.Getenv("GOMEMLIMIT") != "" || maxCalls <= 0 {
		return debug.SetMemoryLimit(-1), false
	}
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	var used int64
	if s[0].Value.Kind() == metrics.KindUint64 {
		used = int64(min(s[0].Value.Uint64(), math.MaxInt64/2))
	}
	limit = used + memorySlack + int64(maxCalls)*CallMemory
	debug.SetMemoryLimit(limit)
	return limit, true
}
