package sip

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// CallMemory is the Go memory budget of one call in progress: its media
// (jitter ring, buffers), recorder, flow goroutine and SIP dialog, with room
// for the garbage collector. Measured at 1,000 recorded calls
// (bench/load.sh, MemStats after a forced collection at the plateau): 22
// KiB of live heap and 9 KiB of goroutine stack a call. The 3 KiB more
// leave the collector at least the room it had when calls took 46 KiB and
// the budget was 48.
const CallMemory = 34 << 10

// memorySlack is what MemoryLimit allows beyond the process's memory when
// it is ready and its calls' budget: web pages, paging, the garbage of a
// burst of set-ups (about 300 KiB each).
const memorySlack = 16 << 20

// MemoryLimit sets the Go runtime's soft memory limit (GOMEMLIMIT) for up
// to maxCalls calls at once: the Go memory in use now (call it once the
// service is loaded: prompts, configuration) + 16 MiB + maxCalls ×
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
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	var used int64
	if s[0].Value.Kind() == metrics.KindUint64 && s[1].Value.Kind() == metrics.KindUint64 {
		used = int64(min(s[0].Value.Uint64()-min(s[1].Value.Uint64(), s[0].Value.Uint64()), math.MaxInt64/2))
	}
	limit = used + memorySlack + int64(maxCalls)*CallMemory
	debug.SetMemoryLimit(limit)
	return limit, true
}
