package bench

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// TestSlowReadersHoldOneEvent: SSE readers that stop reading a session of
// large events (here 300 events with 256 KiB of raw each, include_raw)
// cost the server about one event each, not a page of them. The heap is
// sampled while the handlers are stuck on their full sockets; before the
// handlers encoded one event at a time, each held 256 events (~64 MiB).
func TestSlowReadersHoldOneEvent(t *testing.T) {
	const (
		readers = 4
		events  = 300
		rawSize = 256 << 10
		budget  = 8 << 20 // per reader: a few events and buffers
	)
	r := newRig(t)
	s := r.open(burstID, 0, rawSSE, false)
	sess, err := r.mgr.Get(s.id)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
	defer cancel()
	if err := r.c.SendMessage(ctx, s.id, schema.MessageRequest{Message: fmt.Sprintf("%dx%d", events, rawSize)}); err != nil {
		t.Fatal(err)
	}
	for cursor := s.last; ; {
		if !sess.Wait(ctx, cursor) {
			t.Fatal("the turn did not end")
		}
		evs, _, _ := sess.Events(ctx, cursor, -1)
		cursor = evs[len(evs)-1].Sequence
		if evs[len(evs)-1].Type == schema.EventTurnEnded {
			break
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	base := heap()
	addr := strings.TrimPrefix(r.ts.URL, "http://")
	for range readers {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Ask, then never read: the handler fills the socket and blocks.
		if _, err := fmt.Fprintf(c, "GET /v1/sessions/%s/events/sse?include_raw=true HTTP/1.1\r\nHost: x\r\n\r\n", s.id); err != nil {
			t.Fatal(err)
		}
	}
	// The handlers get stuck within moments; sample the heap for a while
	// and keep the highest reading.
	var peak uint64
	for range 20 {
		time.Sleep(100 * time.Millisecond)
		peak = max(peak, heap())
	}
	grew := int64(peak) - int64(base)
	t.Logf("%d stuck readers: heap %+d KiB", readers, grew>>10)
	if grew > readers*budget {
		t.Fatalf("%d stuck readers of %d events × %d KiB raw grew the heap by %d MiB, over %d MiB each", readers, events, rawSize>>10, grew>>20, budget>>20)
	}
}
