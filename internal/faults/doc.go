// Package faults is the fault suite (issue #8): a real server over real
// HTTP driving the real Claude adapter against fake agents that hang, stop
// reading, flood, crash, spawn children that ignore SIGTERM, and never
// initialize. After every round of each: no leaked process, fd or
// goroutine, the server healthy, every terminate bounded. It has only
// tests; the fake agent is the test binary itself.
package faults
