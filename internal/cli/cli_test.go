package cli

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTuneGC(t *testing.T) {
	cases := []struct {
		name  string
		gogc  string // "" leaves GOGC unset
		start int
		want  int
	}{
		{"unset: the commands' target", "", 100, GCPercent},
		{"set by the user: left alone", "200", 100, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prev := debug.SetGCPercent(c.start)
			defer debug.SetGCPercent(prev)
			t.Setenv("GOGC", c.gogc) // restores the environment afterwards
			if c.gogc == "" {
				os.Unsetenv("GOGC")
			}
			TuneGC()
			assert.Equal(t, c.want, debug.SetGCPercent(c.start))
		})
	}
}
