package session

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// TestEncodeMatchesMarshal: the shared encodings, with and without raw,
// are byte-for-byte what encoding the event itself gives, also for events
// that fell out of the cache.
func TestEncodeMatchesMarshal(t *testing.T) {
	ctx := context.Background()
	m := NewManager(Config{Registry: agent.NewRegistry(echoAdapter{})})
	s, err := m.Create(ctx, "s", schema.CreateSessionRequest{Agent: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	n := encCacheSize + 100
	for i := range n {
		s.emit(agent.Draft{Type: schema.EventError, Data: &schema.ErrorData{Message: fmt.Sprint(i)},
			Raw: json.RawMessage(fmt.Sprintf(`{ "line" : %d, "s": "<&>" }`, i))})
	}
	for _, includeRaw := range []bool{false, true} {
		for pass := range 2 { // second pass reads from the cache
			evs, _, _ := s.Events(ctx, 0, -1)
			if len(evs) != n+1 {
				t.Fatalf("%d events", len(evs))
			}
			for i := range evs {
				enc, err := s.Encode(&evs[i], includeRaw)
				if err != nil {
					t.Fatal(err)
				}
				ev := evs[i]
				if !includeRaw {
					ev.Raw = nil
				}
				want, _ := json.Marshal(ev)
				if got := enc.JSON(); !bytes.Equal(got, want) {
					t.Fatalf("raw=%v pass %d event %d:\n got %s\nwant %s", includeRaw, pass, i, got, want)
				}
				var w bytes.Buffer
				if _, err := enc.WriteTo(&w); err != nil || !bytes.Equal(w.Bytes(), want) {
					t.Fatalf("raw=%v pass %d event %d: WriteTo wrote %s (%v)", includeRaw, pass, i, w.Bytes(), err)
				}
			}
		}
	}
}

// TestEncodeCacheBytesBounded: large events do not make the shared cache
// hold more than its byte budget.
func TestEncodeCacheBytesBounded(t *testing.T) {
	ctx := context.Background()
	m := NewManager(Config{Registry: agent.NewRegistry(echoAdapter{})})
	s, err := m.Create(ctx, "s", schema.CreateSessionRequest{Agent: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 1<<20)
	n := 2 * encCacheBytes / len(big)
	for range n {
		s.emit(agent.Draft{Type: schema.EventError, Data: &schema.ErrorData{Message: big}})
	}
	evs, _, _ := s.Events(ctx, 0, -1)
	for i := range evs {
		if _, err := s.Encode(&evs[i], false); err != nil {
			t.Fatal(err)
		}
	}
	held := 0
	for _, slot := range s.enc.slots {
		held += len(slot.json)
	}
	if held > encCacheBytes || held != s.enc.bytes {
		t.Fatalf("cache holds %d bytes (counted %d) after %d events of 1 MiB; budget %d", held, s.enc.bytes, n, encCacheBytes)
	}
	if held < encCacheBytes/2 {
		t.Fatalf("cache holds only %d bytes: it should keep recent events up to its budget %d", held, encCacheBytes)
	}
}
