package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// reportFanout: one session read by 1, 10 and 100 SSE subscribers, and
// 1,000 sessions with one subscriber each, all on the in-process burst
// agent (the agent's own cost is not what fan-out measures).
func reportFanout(t *testing.T) {
	const deltas = "1000" // one message, 1001 events with the turn's
	r := newRig(t)
	var base time.Duration
	var rows [][]string
	for _, subs := range []int{1, 10, 100} {
		s := r.open(burstID, subs, rawSSE, false)
		s.turn(deltas) // warm-up
		reps := max(1, 20/subs)
		runtime.GC()
		m := markUsage()
		var events uint64
		for range reps {
			n, err := s.turnUnanswered(deltas)
			if err != nil {
				t.Fatal(err)
			}
			events += n
		}
		u := m.since()
		s.close()
		deliveries := events * uint64(subs)
		per := u.cpu / time.Duration(deliveries)
		if base == 0 {
			base = per
		}
		rows = append(rows, []string{strconv.Itoa(subs), num(float64(events) / u.wall.Seconds()), num(float64(deliveries) / u.wall.Seconds()),
			us(per), fmt.Sprintf("%.2f", float64(per)/float64(base)), fmt.Sprintf("%.1f", float64(u.mallocs)/float64(deliveries))})
	}
	table("Fan-out: one session, N SSE subscribers (burst agent, turns of 1,000 deltas)",
		[]string{"subscribers", "events/s", "deliveries/s", "CPU µs/delivery", "× 1 subscriber", "allocs/delivery"}, rows)

	const sessions = 1000
	heap := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	h0, g0 := heap(), runtime.NumGoroutine()
	streams := make([]*stream, sessions)
	for i := range streams {
		streams[i] = r.open(burstID, 0, rawSSE, false)
	}
	h1, g1 := heap(), runtime.NumGoroutine()
	for _, s := range streams {
		s.subs = append(s.subs, r.subscribe(s.id, rawSSE, false))
	}
	for _, s := range streams {
		if err := s.subs[0].waitSeq(s.last); err != nil {
			t.Fatal(err)
		}
	}
	h2, g2 := heap(), runtime.NumGoroutine()
	kib := func(b int64) string { return fmt.Sprintf("%.1f", float64(b)/1024/sessions) }
	per := func(g int) string { return fmt.Sprintf("%.1f", float64(g)/sessions) }

	m := markUsage()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		events uint64
		failed error
	)
	senders := make(chan struct{}, 32) // the client's concurrency
	for _, s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			senders <- struct{}{}
			n, err := s.turnUnanswered("100")
			<-senders
			mu.Lock()
			events += n
			if err != nil && failed == nil {
				failed = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	u := m.since()
	if failed != nil {
		t.Fatal(failed)
	}
	for _, s := range streams {
		s.close()
	}
	table(fmt.Sprintf("Fan-out: %s sessions, one SSE subscriber each, one turn of 100 deltas in each at once", num(sessions)),
		[]string{"sessions", "deliveries/s", "CPU µs/delivery", "× 1 subscriber", "heap KiB per idle session", "per subscriber (server + client)", "goroutines per session", "per subscriber"},
		[][]string{{num(sessions), num(float64(events) / u.wall.Seconds()), us(u.cpu / time.Duration(events)),
			fmt.Sprintf("%.2f", float64(u.cpu/time.Duration(events))/float64(base)), kib(h1 - h0), kib(h2 - h1), per(g1 - g0), per(g2 - g1)}})
}

// reportHTTP: GET /v1/health and /v1/agents under load from a closed-loop
// generator with 1 and 32 keep-alive connections, against the real binary
// in its own process (as deployed: built with `go build`, default flags),
// the generator in this one, both on the same cores.
func reportHTTP(t *testing.T) {
	bin := buildBinary(t)
	var rows [][]string
	for _, v := range httpVariants {
		srv := startBinary(t, bin, v.env, v.args...)
		for _, path := range []string{"/v1/health", "/v1/agents"} {
			for _, conns := range []int{1, 32} {
				res := load(t, srv, path, conns, 3*time.Second)
				rows = append(rows, []string{v.name, path, strconv.Itoa(conns), num(res.rate), ms(res.p50), ms(res.p99), ms(res.max), us(res.serverCPU)})
			}
		}
		srv.stop()
	}
	table("HTTP under load (closed loop, 3 s per row; load generator and server on the same cores)",
		[]string{"server", "path", "connections", "requests/s", "p50 ms", "p99 ms", "max ms", "server CPU µs/request"}, rows)
}

// httpVariants are the server configurations the HTTP part compares.
var httpVariants = []struct {
	name string
	env  []string
	args []string
}{
	{"default", nil, nil},
	// One P: the server's goroutines stop waking a second thread to spin
	// for work on every request, and stop competing with the generator.
	{"GOMAXPROCS=1", []string{"GOMAXPROCS=1"}, nil},
	// Every request logged (the access log is at debug level; off by
	// default), to see what logging costs.
	{"--log-level debug", nil, []string{"--log-level", "debug"}},
}

func buildBinary(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "sandbox-agent")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/sandbox-agent/sandbox-agent/cmd/sandbox-agent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type binServer struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startBinary runs the server on a free loopback port, in its own process
// group, with a home of its own, and waits until it is healthy.
func startBinary(t *testing.T, bin string, env []string, args ...string) *binServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	home := t.TempDir()
	cmd := exec.Command(bin, append([]string{"server", "--no-token", "--host", "127.0.0.1", "--port", port}, args...)...)
	cmd.Env = append(append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "XDG_DATA_HOME="+filepath.Join(home, ".local/share")), env...)
	cmd.Dir = home
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = nil // /dev/null: the logs are written, to nowhere
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &binServer{url: "http://127.0.0.1:" + port, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get(s.url + "/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not healthy after 10 s: %v", err)
		}
	}
}

func (s *binServer) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// cpu is the CPU time the server process has used.
func (s *binServer) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // clock ticks (USER_HZ = 100 on Linux)
}

type loadResult struct {
	rate          float64
	p50, p99, max time.Duration
	serverCPU     time.Duration // per request
}

// load sends GETs on conns keep-alive connections, each waiting for its
// answer before the next, for d; every answer must be a 200.
func load(t *testing.T, srv *binServer, path string, conns int, d time.Duration) loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	lats := make([][]time.Duration, conns)
	errs := make(chan error, conns)
	cpu0 := srv.cpu()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				req, _ := http.NewRequest(http.MethodGet, srv.url+path, nil)
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("GET %s: %s", path, resp.Status)
					return
				}
				lats[i] = append(lats[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := srv.cpu() - cpu0
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*p))] }
	return loadResult{rate: float64(len(all)) / elapsed.Seconds(), p50: pct(0.5), p99: pct(0.99), max: all[len(all)-1],
		serverCPU: cpu / time.Duration(len(all))}
}
