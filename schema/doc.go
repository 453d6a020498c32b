// Package schema is the universal transcript shared by the server, the
// adapters, the SDKs and the CLI: the event envelope, the event data shapes,
// items and content parts, and the camelCase HTTP bodies of the /v1 API.
//
// It has no dependencies beyond the standard library. Wire rules follow the
// 0.1.11 reference: snake_case inside events, camelCase in HTTP bodies, and a
// key is either always present (null when unset) or omitted when unset, field
// by field, exactly as the reference does.
package schema

// Ptr returns a pointer to v; handy for the many nullable fields.
func Ptr[T any](v T) *T { return &v }

// Deref returns *p, or the zero value when p is nil.
func Deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
