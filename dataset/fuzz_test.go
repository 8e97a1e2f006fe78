package dataset

import (
	"bytes"
	"testing"
)

func FuzzReadIDX(f *testing.F) {
	valid := idxBytes(f, []int{3, 2, 2}, seq(12, 5), false)
	validGz := idxBytes(f, []int{3, 2, 2}, seq(12, 5), true)
	f.Add(valid)
	f.Add(validGz)
	f.Add(idxBytes(f, []int{4}, []byte{0, 1, 2, 3}, false))
	f.Add(idxBytes(f, []int{1, 1, 1, 1}, []byte{9}, true))
	f.Add(valid[:len(valid)-3])                                               // truncated
	f.Add(validGz[:len(validGz)-5])                                           // truncated gzip
	f.Add(append(append([]byte{}, valid...), 1))                              // trailing
	f.Add([]byte{0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // absurd dims
	f.Add([]byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0})                      // float32 type
	f.Add([]byte{0, 0, 8, 0})
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		dims, data, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			if dims != nil || data != nil {
				t.Fatalf("error %v with non-nil result", err)
			}
			return
		}
		prod := 1
		for _, d := range dims {
			if d <= 0 {
				t.Fatalf("accepted dimension %d in %v", d, dims)
			}
			prod *= d
		}
		if len(dims) == 0 || len(data) != prod {
			t.Fatalf("dims %v (product %d) but %d data bytes", dims, prod, len(data))
		}
		// Whatever was accepted must survive a write/read round trip.
		var buf bytes.Buffer
		if err := WriteIDX(&buf, dims, data); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		dims2, data2, err := ReadIDX(&buf)
		if err != nil || !bytes.Equal(data, data2) || len(dims2) != len(dims) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
