package resplike

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// Values have the length asked for and never hold the start of a JWT; some are all '*', the
// others carry RESP commands.
func TestValue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	stars, commands := 0, 0
	for i := range 200 {
		n := 2 + i*97
		v := Value(r, n)
		if len(v) != n || bytes.Contains(v, []byte("eyJ")) {
			t.Fatalf("Value(%d): %d bytes, %q…", n, len(v), v[:min(len(v), 40)])
		}
		switch {
		case bytes.Count(v, []byte("*")) == n-2:
			stars++
		case bytes.Contains(v, []byte("\r\n$")) || bytes.Contains(v, []byte("+OK\r\n")):
			commands++
		}
	}
	if stars == 0 || commands < 100 {
		t.Errorf("of 200 values %d are all '*' and %d carry RESP; want some of each", stars, commands)
	}
}
