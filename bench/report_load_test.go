package bench

import "testing"

func reportFanout(t *testing.T) {}

func reportHTTP(t *testing.T) {}
