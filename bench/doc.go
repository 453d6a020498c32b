// Package bench holds whole-pipeline and whole-process benchmarks.
//
// The Go benchmarks (pipeline_test.go) drive the event pipeline end to end
// over real HTTP on loopback: agent → session log → SSE client. TestReport
// (report_*_test.go, run with -report or `make bench-report`) prints the
// performance report: scaling, limit, latency, fan-out and HTTP figures
// with their ratios. TestLinearWork and TestSlowReadersHoldOneEvent keep
// the work per event and the memory per reader from growing back.
// startup.sh compares start-to-healthy time and idle memory of the
// sandbox-agent binary with the reference binary. Figures are reported as
// ratios against a baseline run side by side; no timing is ever asserted in
// a test. See README.md.
package bench
