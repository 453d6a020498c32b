// Package opencode is the OpenCode adapter: one shared `opencode serve` per
// server on a loopback port behind a random password, spoken to over its
// HTTP API, with one /global/event subscription whose events are routed to
// sessions by OpenCode session id.
//
// native.go holds the wire types (checked against the server's OpenAPI
// document), convert.go and hitl.go the pure conversion to universal events
// (golden-tested against captures in testdata/), tools.go what tool calls
// and results show.
package opencode
