package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestZZTimeCorpus(t *testing.T) {
	dir := os.Getenv("CORPUS")
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		raw, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		lines := strings.SplitN(string(raw), "\n", 3)
		s := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		in, err := strconv.Unquote(s)
		if err != nil {
			t.Fatal(err)
		}
		st := time.Now()
		_, _, err = ReadIDX(bytes.NewReader([]byte(in)))
		if d := time.Since(st); d > 5*time.Millisecond {
			t.Logf("%s %v len=%d err=%v", e.Name(), d, len(in), err)
		}
	}
}
