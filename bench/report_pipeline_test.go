package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// claudeSession is a session of the Claude adapter on the fake CLI.
var claudeSession = schema.CreateSessionRequest{Agent: "claude", Model: schema.Ptr("claude-opus-5-5")}

// claudeRun opens a Claude session (fake CLI) read by one SSE subscriber
// in a process of its own (sse-reader), warms it up (the process starts
// with the first message), then measures reps turns of one message of n
// deltas each, from the send until the subscriber read the turn's
// turn.ended. It fails when a turn is missing an event. With keep it
// returns the events of the last turn.
func claudeRun(t *testing.T, r *rig, n, reps int, keep bool) (u usage, events uint64, kept []schema.Event) {
	s := r.openReq(claudeSession, 0, rawSSE, false)
	defer s.close()
	sub := r.readOutOfProcess(t, s.id)
	defer sub.stop()
	turn := func(msg string) uint64 {
		ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
		defer cancel()
		if err := r.c.SendMessage(ctx, s.id, schema.MessageRequest{Message: msg}); err != nil {
			t.Fatal(err)
		}
		end, err := sub.ended()
		if err != nil {
			t.Fatal(err)
		}
		got := end - s.last
		s.last = end
		return got
	}
	const warm = 10
	overhead := turn(fmt.Sprintf("burst %d", warm)) - warm // user message, turn and item lifecycle
	runtime.GC()
	m := markUsage()
	for range reps {
		got := turn(fmt.Sprintf("burst %d", n))
		if got != uint64(n)+overhead {
			t.Fatalf("a turn of %d deltas gave %d events, want %d", n, got, uint64(n)+overhead)
		}
		events += got
	}
	u = m.since()
	if keep {
		sess, err := r.mgr.Get(s.id)
		if err != nil {
			t.Fatal(err)
		}
		if kept, _, err = sess.Events(context.Background(), s.last-(uint64(n)+overhead), -1); err != nil {
			t.Fatal(err)
		}
	}
	return u, events, kept
}

// reportScaling: one message of 1k, 10k, 100k and 1M deltas through the
// fake CLI, the server and one SSE subscriber; the CPU per delta at each
// size against 1k (goal: at most 1.3× at 100k and 1M).
func reportScaling(t *testing.T) {
	r := newRig(t, fakeClaudeAdapter(t))
	var base time.Duration
	var baseAllocs, baseBytes float64
	var rows [][]string
	for _, n := range []int{1_000, 10_000, 100_000, 1_000_000} {
		if n > *reportMax {
			break
		}
		reps := max(1, 20_000/n) // small messages repeat, so each size measures ≥ 20k deltas
		u, events, _ := claudeRun(t, r, n, reps, false)
		deltas := n * reps
		per := u.cpu / time.Duration(deltas)
		allocs, bytes := float64(u.mallocs)/float64(deltas), float64(u.bytes)/float64(deltas)
		if base == 0 {
			base, baseAllocs, baseBytes = per, allocs, bytes
		}
		ratio := float64(per) / float64(base)
		goal := "–"
		if n >= 100_000 {
			goal = fmt.Sprintf("≤ 1.3: %s", verdict(ratio <= 1.3))
		}
		rows = append(rows, []string{num(float64(n)), strconv.Itoa(reps), us(per), fmt.Sprintf("%.2f", ratio), goal,
			num(float64(events) / u.wall.Seconds()), fmt.Sprintf("%.1f (%.2f)", allocs, allocs/baseAllocs),
			fmt.Sprintf("%s (%.2f)", num(bytes), bytes/baseBytes), strconv.FormatUint(events, 10)})
	}
	table("Scaling: one message of N deltas (fake claude → server → 1 SSE subscriber)",
		[]string{"deltas", "turns", "server CPU µs/delta", "× 1k", "goal", "events/s (wall)", "allocs/delta (× 1k)", "bytes/delta (× 1k)", "events, none lost"}, rows)
}

// nativeLine is what a decoder of the CLI's stream-json needs of a line:
// the pipeline's own limit decodes every line into it once.
type nativeLine struct {
	Type            string          `json:"type"`
	Subtype         string          `json:"subtype"`
	SessionID       string          `json:"session_id"`
	UUID            string          `json:"uuid"`
	ParentToolUseID *string         `json:"parent_tool_use_id"`
	APIMessageID    string          `json:"api_message_id"`
	Message         json.RawMessage `json:"message"`
	Event           *struct {
		Type         string          `json:"type"`
		Index        int             `json:"index"`
		Message      json.RawMessage `json:"message"`
		ContentBlock *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content_block"`
		Delta *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"delta"`
	} `json:"event"`
}

// reportLimit: the pipeline against its own limit, a loop that only
// decodes the same native lines (once each) and encodes the same
// universal events (once each), on one goroutine (goal: ≥ 50 % of its
// events/s).
func reportLimit(t *testing.T) {
	const n = 100_000
	r := newRig(t, fakeClaudeAdapter(t))
	u, events, evs := claudeRun(t, r, n, 1, true)

	var lines [][]byte
	claudeTurn(func(l []byte) { lines = append(lines, bytes.Clone(l)) }, "msg_bench_2", n, tokText)
	runtime.GC()
	m := markUsage()
	for _, l := range lines {
		var nl nativeLine
		if err := json.Unmarshal(l, &nl); err != nil {
			t.Fatal(err)
		}
	}
	for i := range evs {
		ev := evs[i]
		ev.Raw = nil
		if _, err := json.Marshal(&ev); err != nil {
			t.Fatal(err)
		}
	}
	lim := m.since()
	pipeRate, limRate := float64(events)/u.wall.Seconds(), float64(len(evs))/lim.wall.Seconds()
	pipeCPU, limCPU := float64(events)/u.cpu.Seconds(), float64(len(evs))/lim.cpu.Seconds()
	table(fmt.Sprintf("Pipeline against its limit (one message of %s deltas)", num(n)),
		[]string{"", "events/s (wall)", "events per server CPU-second", "allocs/event"},
		[][]string{
			{"pipeline: fake claude → server → SSE subscriber", num(pipeRate), num(pipeCPU), fmt.Sprintf("%.1f", float64(u.mallocs)/float64(events))},
			{"limit: decode each line + encode each event", num(limRate), num(limCPU), fmt.Sprintf("%.1f", float64(lim.mallocs)/float64(len(evs)))},
			// The goal is judged per CPU-second: on shared cores the
			// wall-clock rate of a one-goroutine loop is mostly how often it
			// was scheduled.
			{"pipeline / limit (goal ≥ 0.50 per CPU-second)", fmt.Sprintf("%.2f", pipeRate/limRate), fmt.Sprintf("%.2f: %s", pipeCPU/limCPU, verdict(pipeCPU/limCPU >= 0.5)), ""},
		})
}

// reportLatency: a delta's way from the agent's stdout to a subscriber,
// at 1,000 deltas per second (goal: p99 ≤ 1 ms). The fake CLI stamps each
// delta with the time it wrote it; the subscriber reads the stamp as it
// reads the frame.
func reportLatency(t *testing.T) {
	const (
		rate = 1000
		n    = 5 * rate
	)
	r := newRig(t, fakeClaudeAdapter(t))
	s := r.openReq(claudeSession, 0, rawSSE, false)
	defer s.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ends := make(chan []time.Duration, 1)
	done := make(chan error, 1)
	go func() {
		stamp := []byte(`"delta":"t`)
		var lat []time.Duration
		done <- r.frames(ctx, s.id, func(_ uint64, data []byte) bool {
			now := time.Now().UnixNano()
			if i := bytes.Index(data, stamp); i >= 0 {
				rest := data[i+len(stamp):]
				if j := bytes.IndexByte(rest, ' '); j > 0 {
					if ns, err := strconv.ParseInt(string(rest[:j]), 10, 64); err == nil {
						lat = append(lat, time.Duration(now-ns))
					}
				}
			}
			if bytes.Contains(data, []byte(`"type":"turn.ended"`)) {
				ends <- lat
				lat = nil
			}
			return true
		})
	}()
	turn := func(msg string) []time.Duration {
		sctx, scancel := context.WithTimeout(ctx, turnTimeout)
		defer scancel()
		if err := r.c.SendMessage(sctx, s.id, schema.MessageRequest{Message: msg}); err != nil {
			t.Fatal(err)
		}
		select {
		case l := <-ends:
			return l
		case err := <-done:
			t.Fatalf("subscriber: %v", err)
		case <-sctx.Done():
			t.Fatal("no turn.ended")
		}
		return nil
	}
	turn("paced 100 1000") // warm-up: starts the process
	m := markUsage()
	lat := turn(fmt.Sprintf("paced %d %d", n, rate))
	u := m.since()
	cancel()
	<-done
	if len(lat) != n {
		t.Fatalf("%d deltas timed, want %d", len(lat), n)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	p99 := pct(0.99)
	table(fmt.Sprintf("Latency: agent line written → SSE frame read, %s deltas at %s/s", num(n), num(rate)),
		[]string{"p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "goal p99 ≤ 1 ms", "server CPU per delta µs"},
		[][]string{{ms(pct(0.5)), ms(pct(0.9)), ms(p99), ms(pct(0.999)), ms(lat[len(lat)-1]), verdict(p99 <= time.Millisecond), us(u.cpu / n)}})
}
