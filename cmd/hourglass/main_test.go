package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDispatch(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		code       int
		stdoutHas  string
		stderrHas  string
		stderrRows int // lines on stderr; -1: not checked
	}{
		{"no command", nil, 2, "", "Usage: hourglass <command>", -1},
		{"help", []string{"help"}, 0, "Commands:", "", 0},
		{"help train", []string{"help", "train"}, 0, "Schedule and stopping:", "", 0},
		{"train -h to stdout", []string{"train", "-h"}, 0, "Examples:", "", 0},
		{"eval -h to stdout", []string{"eval", "-h"}, 0, "Anomaly detection:", "", 0},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`, 1},
		{"unknown flag is one line", []string{"train", "-bogus"}, 2, "", "flag provided but not defined: -bogus (see hourglass train -h)", 1},
		{"eval needs a checkpoint", []string{"eval"}, 2, "", "-checkpoint is required", 1},
		{"serve needs a model", []string{"serve"}, 2, "", "no model: give -model", 1},
		{"version", []string{"version"}, 0, "hourglass ", "", 0},
		{"version takes no args", []string{"version", "x"}, 2, "", "takes no arguments", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(c.args, &out, &errb)
			assert.Equal(t, c.code, code, errb.String())
			assert.Contains(t, out.String(), c.stdoutHas)
			assert.Contains(t, errb.String(), c.stderrHas)
			if c.stderrRows >= 0 {
				assert.Equal(t, c.stderrRows, strings.Count(errb.String(), "\n"), errb.String())
			}
		})
	}
}
