package session

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// TestEncodedEventsMatchMarshal: the shared encodings, with and without raw,
// are byte-for-byte what encoding the event itself gives, also for events
// that fell out of the cache.
func TestEncodedEventsMatchMarshal(t *testing.T) {
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
			enc, err := s.EncodedEvents(ctx, 0, -1, includeRaw)
			if err != nil {
				t.Fatal(err)
			}
			evs, _, _ := s.Events(ctx, 0, -1)
			if len(enc) != len(evs) || len(enc) != n+1 {
				t.Fatalf("%d encoded, %d events", len(enc), len(evs))
			}
			for i := range evs {
				ev := evs[i]
				if !includeRaw {
					ev.Raw = nil
				}
				want, _ := json.Marshal(ev)
				if !bytes.Equal(enc[i].JSON, want) {
					t.Fatalf("raw=%v pass %d event %d:\n got %s\nwant %s", includeRaw, pass, i, enc[i].JSON, want)
				}
			}
		}
	}
}
