package sip

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	t.Run("from the calls", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "")
		lim, set := MemoryLimit(1000)
		if !set || lim < memorySlack+1000*CallMemory || lim > memorySlack+1000*CallMemory+1<<30 {
			t.Fatalf("MemoryLimit(1000) = %d, %v", lim, set)
		}
		if got := debug.SetMemoryLimit(-1); got != lim {
			t.Errorf("runtime limit %d, want %d", got, lim)
		}
		more, _ := MemoryLimit(2000)
		if d := more - lim; d < 1000*CallMemory-(16<<20) || d > 1000*CallMemory+(16<<20) {
			t.Errorf("1,000 calls more raised the limit by %d, want about %d", d, 1000*CallMemory)
		}
	})
	t.Run("GOMEMLIMIT wins", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "300MiB")
		debug.SetMemoryLimit(300 << 20) // what the runtime read at start
		if lim, set := MemoryLimit(1000); set || lim != 300<<20 {
			t.Errorf("MemoryLimit with GOMEMLIMIT set = %d, %v; want %d, false", lim, set, 300<<20)
		}
	})
}
