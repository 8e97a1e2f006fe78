package serve

import (
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecode: any body decodes to finite rows of the right width, or to a
// 400/413 error, never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"rows": [[1,2,3],[4,5,6]]}`, `{"rows": [[1,2,null]]}`, `{"rows": [[1e39,2,3]]}`, `{"rows": []}`,
		`{"rows": [[1,2,3]], "rows": [[1,2,3]]}`, `{"r\u006fws": [[1,2,3]]}`, `{"rows": [[1,2,"3"]]}`, `{`, `[`, ``,
		"a,b,c\n1,2,3\n", "1,2,NaN\n", "1,\"2\n", "1,2,3\n4,5\n",
	} {
		f.Add([]byte(s))
	}
	lim := limits{dim: 3, maxRows: 4}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, decode := range []func() (*rows, *apiError){
			func() (*rows, *apiError) { return decodeJSON(body, lim) },
			func() (*rows, *apiError) { return decodeCSV(body, lim, "auto") },
		} {
			r, err := decode()
			if err != nil {
				require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, err.Status, err.Msg)
				require.NotContains(t, err.Msg, "\n")
				continue
			}
			require.Positive(t, r.n)
			require.LessOrEqual(t, r.n, lim.maxRows)
			require.Len(t, r.x, r.n*lim.dim)
			for _, v := range r.x {
				assert.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0))
			}
		}
	})
}
