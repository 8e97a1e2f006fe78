package safeio_test

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/internal/safeio"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "ok.bin")
	require.NoError(t, os.WriteFile(regular, []byte("hello"), 0o644))
	empty := filepath.Join(dir, "empty.bin")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	fifo := filepath.Join(dir, "fifo")
	if runtime.GOOS != "windows" {
		require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	}
	cases := []struct {
		name, path string
		limit      int64
		want       string // content on success
		err        error
		msg        string
	}{
		{"regular", regular, 100, "hello", nil, ""},
		{"empty", empty, 100, "", nil, ""},
		{"at limit", regular, 5, "hello", nil, ""},
		{"over limit", regular, 4, "", safeio.ErrTooBig, "5 bytes, over the 4-byte limit"},
		{"directory", dir, 100, "", safeio.ErrNotRegular, "a directory"},
		{"fifo", fifo, 100, "", safeio.ErrNotRegular, "named pipe"},
		{"dev zero", "/dev/zero", 1 << 40, "", safeio.ErrNotRegular, "character device"},
		{"dev urandom", "/dev/urandom", 1 << 40, "", safeio.ErrNotRegular, "character device"},
		{"missing", filepath.Join(dir, "nope"), 100, "", os.ErrNotExist, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.path); tc.err != os.ErrNotExist && err != nil {
				t.Skipf("%s not available here: %v", tc.path, err)
			}
			done := make(chan struct{})
			var got []byte
			var err error
			go func() {
				defer close(done)
				got, err = safeio.ReadFile(tc.path, tc.limit)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("ReadFile(%s) blocked", tc.path)
			}
			if tc.err == nil {
				require.NoError(t, err)
				assert.Equal(t, tc.want, string(got))
				return
			}
			require.ErrorIs(t, err, tc.err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Nil(t, got)
		})
	}
}

func TestOpenRefusesFIFOWithoutBlocking(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs on windows")
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	start := time.Now()
	f, fi, err := safeio.Open(fifo)
	require.ErrorIs(t, err, safeio.ErrNotRegular)
	assert.Nil(t, f)
	assert.Nil(t, fi)
	assert.Less(t, time.Since(start), 5*time.Second)
}
