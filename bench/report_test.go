package bench

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The performance report (bench/README.md): one command runs every part
// and prints its figures with their ratios, all from the same run.
//
//	make bench-report
//	go test -run '^TestReport$' -v -timeout 60m ./bench/ -report [-report.only scaling,limit] [-report.profile DIR]
var (
	reportOn      = flag.Bool("report", false, "run the performance report (see bench/README.md)")
	reportOnly    = flag.String("report.only", "", "comma-separated parts to run: scaling, limit, latency, fanout, http, store (default: all)")
	reportMax     = flag.Int("report.max", 1_000_000, "largest message of the scaling part, in deltas")
	reportProfile = flag.String("report.profile", "", "write a CPU and a heap profile of each part into this directory")
)

func TestReport(t *testing.T) {
	if !*reportOn {
		t.Skip("the performance report runs with -report (make bench-report)")
	}
	turnTimeout = 10 * time.Minute
	parts := []struct {
		name string
		run  func(*testing.T)
	}{
		{"scaling", reportScaling},
		{"limit", reportLimit},
		{"latency", reportLatency},
		{"fanout", reportFanout},
		{"http", reportHTTP},
		{"store", reportStore},
	}
	var only []string
	if *reportOnly != "" {
		only = strings.Split(*reportOnly, ",")
	}
	fmt.Printf("# sandbox-agent performance report\n\n%s, %s, GOMAXPROCS %d, %s, load average %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOMAXPROCS(0), cpuModel(), loadAvg())
	for _, p := range parts {
		if only != nil && !slices.Contains(only, p.name) {
			continue
		}
		t.Run(p.name, func(t *testing.T) { profiled(t, p.name, p.run) })
	}
}

// profiled runs one part, under a CPU profile and followed by a heap
// profile when -report.profile is set.
func profiled(t *testing.T, name string, run func(*testing.T)) {
	dir := *reportProfile
	if dir == "" {
		run(t)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, name+".cpu.pprof"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	run(t)
	pprof.StopCPUProfile()
	h, err := os.Create(filepath.Join(dir, name+".heap.pprof"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(h, 0); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\nprofiles: %s/%s.{cpu,heap}.pprof\n", dir, name)
}

// cpuTime is the CPU time this process has used (user + system): the
// server, its SSE subscribers and the load generators, not the fake CLI,
// which is a process of its own.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// usage is what a measured span cost.
type usage struct {
	wall, cpu time.Duration
	mallocs   uint64
	bytes     uint64
}

type usageMark struct {
	wall time.Time
	cpu  time.Duration
	ms   runtime.MemStats
}

func markUsage() usageMark {
	m := usageMark{}
	runtime.ReadMemStats(&m.ms)
	m.cpu, m.wall = cpuTime(), time.Now()
	return m
}

func (m usageMark) since() usage {
	cpu, wall := cpuTime(), time.Since(m.wall)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return usage{wall: wall, cpu: cpu - m.cpu, mallocs: ms.Mallocs - m.ms.Mallocs, bytes: ms.TotalAlloc - m.ms.TotalAlloc}
}

// table prints a markdown table.
func table(title string, head []string, rows [][]string) {
	fmt.Printf("\n## %s\n\n| %s |\n|%s\n", title, strings.Join(head, " | "), strings.Repeat("---:|", len(head)))
	for _, r := range rows {
		fmt.Printf("| %s |\n", strings.Join(r, " | "))
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func us(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Nanoseconds())/1e3) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Nanoseconds())/1e6) }

func num(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// verdict says whether a ratio meets its goal.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}
