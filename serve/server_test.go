package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/train"
)

// newServer serves the fixtures deep, other, plain and wide over loopback.
func newServer(t *testing.T, opts Options) (*Server, *httptest.Server, fixtures) {
	t.Helper()
	f := getFixtures(t)
	s, err := New([]Source{{"deep", f.deep}, {"other", f.other}, {"plain", f.plain}, {"wide", f.wide}}, opts)
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts, f
}

func jsonRows(x []float32, d int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"rows": [`)
	for i := 0; i < len(x)/d; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('[')
		for j, v := range x[i*d : (i+1)*d] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		b.WriteByte(']')
	}
	b.WriteString("]}")
	return b.Bytes()
}

func csvRows(x []float32, d int, header bool) []byte {
	var b bytes.Buffer
	if header {
		for j := range d {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "f%d", j)
		}
		b.WriteByte('\n')
	}
	for i := 0; i < len(x)/d; i++ {
		for j, v := range x[i*d : (i+1)*d] {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func post(t *testing.T, c *http.Client, url, ctype string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := c.Post(url, ctype, bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func offline(t *testing.T, path string, x []float32) (*hourglass.Model, []float64) {
	t.Helper()
	m, err := hourglass.Load(path)
	require.NoError(t, err)
	s, err := m.Score(x)
	require.NoError(t, err)
	return m, s
}

func TestScoreMatchesOffline(t *testing.T) {
	_, ts, f := newServer(t, Options{})
	x := f.rows[:20*dim]
	m, want := offline(t, f.deep, x)
	thr, ok := m.Threshold()
	require.True(t, ok)
	recon, err := m.Reconstruct(x)
	require.NoError(t, err)
	l, err := train.LoadCheckpoint(f.deep)
	require.NoError(t, err)
	sc, err := l.Scaler()
	require.NoError(t, err)
	require.Equal(t, "minmax", sc.Kind)
	for _, tc := range []struct {
		name, ctype, query string
		body               []byte
		topK               int
		names              bool
	}{
		{"json", "application/json", "", jsonRows(x, dim), 5, false},
		{"json no content type", "", "?top_k=2", jsonRows(x, dim), 2, false},
		{"csv", "text/csv", "", csvRows(x, dim, false), 5, false},
		{"csv with header", "text/csv; charset=utf-8", "?top_k=3", csvRows(x, dim, true), 3, true},
		{"top_k over the width", "application/json", "?top_k=99", jsonRows(x, dim), dim, false},
		{"no features", "application/json", "?top_k=0", jsonRows(x, dim), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, ts.Client(), ts.URL+"/v1/models/deep/score"+tc.query, tc.ctype, tc.body)
			require.Equal(t, http.StatusOK, code, string(body))
			var got ScoreResponse
			require.NoError(t, json.Unmarshal(body, &got))
			assert.Equal(t, "deep", got.Model)
			assert.Equal(t, 20, got.Rows)
			assert.Equal(t, want, got.Scores, "served scores equal Model.Score offline, bit for bit")
			require.NotNil(t, got.Threshold)
			assert.Equal(t, thr.Value, *got.Threshold)
			require.Len(t, got.Flags, 20)
			for i, s := range want {
				assert.Equal(t, s > thr.Value, got.Flags[i], "row %d", i)
			}
			assert.Empty(t, got.Note)
			if tc.topK == 0 {
				assert.Nil(t, got.Top)
				assert.Empty(t, got.ErrorUnits)
				return
			}
			assert.Equal(t, "scaled", got.ErrorUnits)
			require.Len(t, got.Top, 20)
			for i, top := range got.Top {
				require.Len(t, top, tc.topK)
				// The listed errors are the largest, in order, and equal
				// ((x - Reconstruct(x))·b)² computed here, b the scaler's
				// factor; over all features they average to the score.
				var all []float64
				var sum float64
				for j := range dim {
					d := (float64(x[i*dim+j]) - float64(recon[i*dim+j])) * float64(sc.B[j])
					all = append(all, d*d)
					sum += d * d
				}
				assert.InEpsilon(t, want[i], sum/dim, 1e-3, "row %d: the scaled errors average to the MSE score", i)
				if tc.topK == dim {
					var listed float64
					for _, ft := range top {
						listed += ft.Error
					}
					assert.InEpsilon(t, want[i], listed/dim, 1e-3, "row %d", i)
				}
				for r, ft := range top {
					assert.InDelta(t, all[ft.Index], ft.Error, 1e-12*(1+all[ft.Index]))
					if r > 0 {
						assert.GreaterOrEqual(t, top[r-1].Error, ft.Error)
					}
					bigger := 0
					for _, e := range all {
						if e > ft.Error {
							bigger++
						}
					}
					assert.LessOrEqual(t, bigger, r, "row %d: feature %d ranked %d has %d larger errors", i, ft.Index, r, bigger)
					if tc.names {
						assert.Equal(t, "f"+strconv.Itoa(ft.Index), ft.Name)
					} else {
						assert.Empty(t, ft.Name)
					}
				}
			}
		})
	}
}

func TestScoreWithoutThreshold(t *testing.T) {
	_, ts, f := newServer(t, Options{})
	x := f.rows[:3*dim]
	_, want := offline(t, f.plain, x)
	code, body := post(t, ts.Client(), ts.URL+"/v1/models/plain/score?top_k=1", "application/json", jsonRows(x, dim))
	require.Equal(t, http.StatusOK, code, string(body))
	var got ScoreResponse
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, want, got.Scores)
	assert.Nil(t, got.Flags)
	assert.Nil(t, got.Threshold)
	assert.Equal(t, noThresholdNote, got.Note)
	assert.NotContains(t, string(body), `"flags"`)
	// Without a scaler the feature errors are raw, and still average to
	// the score over all features.
	m, err := hourglass.Load(f.plain)
	require.NoError(t, err)
	recon, err := m.Reconstruct(x)
	require.NoError(t, err)
	assert.Equal(t, "raw", got.ErrorUnits)
	require.Len(t, got.Top, 3)
	for i, top := range got.Top {
		require.Len(t, top, 1)
		var sum, most float64
		for j := range dim {
			d := float64(x[i*dim+j]) - float64(recon[i*dim+j])
			sum += d * d
			most = max(most, d*d)
		}
		assert.InDelta(t, most, top[0].Error, 1e-12*most)
		assert.InEpsilon(t, want[i], sum/dim, 1e-3)
	}
}

func TestEncodeAndReconstruct(t *testing.T) {
	_, ts, f := newServer(t, Options{})
	for _, name := range []string{"deep", "other"} {
		path := map[string]string{"deep": f.deep, "other": f.other}[name]
		x := f.rows[:7*dim]
		m, err := hourglass.Load(path)
		require.NoError(t, err)
		code, err := m.Encode(x)
		require.NoError(t, err)
		recon, err := m.Reconstruct(x)
		require.NoError(t, err)
		t.Run(name+"/encode", func(t *testing.T) {
			st, body := post(t, ts.Client(), ts.URL+"/v1/models/"+name+"/encode", "text/csv", csvRows(x, dim, false))
			require.Equal(t, http.StatusOK, st, string(body))
			var got EncodeResponse
			require.NoError(t, json.Unmarshal(body, &got))
			assert.Equal(t, 7, got.Rows)
			assert.Equal(t, split(code, 7), got.Codes)
			assert.Len(t, got.Codes[0], 3, "latent 3")
		})
		t.Run(name+"/reconstruct", func(t *testing.T) {
			st, body := post(t, ts.Client(), ts.URL+"/v1/models/"+name+"/reconstruct", "application/json", jsonRows(x, dim))
			require.Equal(t, http.StatusOK, st, string(body))
			var got ReconstructResponse
			require.NoError(t, json.Unmarshal(body, &got))
			assert.Equal(t, split(recon, 7), got.Reconstructions)
		})
	}
}

func TestRequestErrors(t *testing.T) {
	_, ts, f := newServer(t, Options{MaxRows: 10, MaxBodyBytes: 4096})
	good := jsonRows(f.rows[:2*dim], dim)
	row := func(vals string) []byte { return []byte(`{"rows": [[1,2,3,4,5,6,7,8], ` + vals + `]}`) }
	for _, tc := range []struct {
		name, method, path, ctype string
		body                      []byte
		code                      int
		msg                       string
		row, col                  *int
	}{
		{"malformed json", "POST", "/v1/models/deep/score", "application/json", []byte(`{"rows": [[1,2`), 400,
			"malformed JSON: input ends at byte 14; want ',' or ']' in row 0", nil, nil},
		{"not an object", "POST", "/v1/models/deep/score", "application/json", []byte(`[[1,2]]`), 400,
			`malformed JSON at byte 0: found "[[1,2]]", want a JSON object {"rows": [[...], ...]}`, nil, nil},
		{"trailing data", "POST", "/v1/models/deep/score", "application/json", append(good, 'x'), 400,
			"", nil, nil},
		{"wrong width", "POST", "/v1/models/deep/score", "application/json", row(`[1,2,3]`), 400,
			"row 1: has 3 values, but the model takes 8 per row", ptr(1), nil},
		{"too wide", "POST", "/v1/models/deep/score", "application/json", row(`[1,2,3,4,5,6,7,8,9]`), 400,
			"row 1: has 9 values, but the model takes 8 per row", ptr(1), nil},
		{"null value", "POST", "/v1/models/deep/score", "application/json", row(`[1,2,null,4,5,6,7,8]`), 400,
			`row 1, column 2: "null" is not a number`, ptr(1), ptr(2)},
		{"NaN string", "POST", "/v1/models/deep/encode", "application/json", row(`[1,2,3,"NaN",5,6,7,8]`), 400,
			`row 1, column 3: the string "NaN" is not a number`, ptr(1), ptr(3)},
		{"bare NaN", "POST", "/v1/models/deep/score", "application/json", row(`[1,2,3,4,5,6,7,NaN]`), 400,
			`row 1, column 7: "NaN" is not a finite float32`, ptr(1), ptr(7)},
		{"float32 overflow", "POST", "/v1/models/deep/score", "application/json", row(`[1e39,2,3,4,5,6,7,8]`), 400,
			`row 1, column 0: "1e39" is not a finite float32`, ptr(1), ptr(0)},
		{"row not an array", "POST", "/v1/models/deep/score", "application/json", row(`7`), 400,
			`row 1: found "7", want an array of 8 numbers`, ptr(1), nil},
		{"unknown field", "POST", "/v1/models/deep/score", "application/json", []byte(`{"row": [[1]]}`), 400,
			`unknown field "row": send {"rows": [[...], ...]}`, nil, nil},
		{"no rows", "POST", "/v1/models/deep/score", "application/json", []byte(`{"rows": []}`), 400,
			`no rows: send {"rows": [[...], ...]} with 8 numbers per row`, nil, nil},
		{"empty body", "POST", "/v1/models/deep/score", "application/json", nil, 400,
			`malformed JSON: input ends at byte 0; want a JSON object {"rows": [[...], ...]}`, nil, nil},
		{"csv NaN", "POST", "/v1/models/deep/score", "text/csv", []byte("1,2,3,4,5,6,7,8\n1,2,3,4,5,NaN,7,8\n"), 400,
			`row 1, column 5: "NaN" is not a finite float32`, ptr(1), ptr(5)},
		{"csv Inf", "POST", "/v1/models/deep/score", "text/csv", []byte("1,2,3,4,5,6,7,+Inf\n"), 400,
			`row 0, column 7: "+Inf" is not a finite float32`, ptr(0), ptr(7)},
		{"csv word", "POST", "/v1/models/deep/score", "text/csv", []byte("a,b,c,d,e,f,g,h\n1,2,3,4,x,6,7,8\n"), 400,
			`row 0, column 4: "x" is not a number`, ptr(0), ptr(4)},
		{"csv wrong width", "POST", "/v1/models/deep/score", "text/csv", []byte("1,2,3,4,5,6,7,8\n1,2\n"), 400,
			"row 1: has 2 values, but the model takes 8 per row", ptr(1), nil},
		{"csv header width", "POST", "/v1/models/deep/score", "text/csv", []byte("a,b\n1,2\n"), 400,
			"CSV header has 2 columns, but the model takes 8 per row", nil, nil},
		{"csv quote", "POST", "/v1/models/deep/score", "text/csv", []byte("1,\"2,3\n"), 400,
			"CSV line 1, column 8: extraneous or missing \" in quoted-field", nil, nil},
		{"csv empty", "POST", "/v1/models/deep/score", "text/csv", []byte("\n"), 400,
			"no rows: send one line of 8 comma-separated numbers per row", nil, nil},
		{"too many rows", "POST", "/v1/models/deep/score", "application/json", jsonRows(f.rows[:11*dim], dim), 413,
			"more than 10 rows in one request: split it (the server's -max-rows)", nil, nil},
		{"body too large", "POST", "/v1/models/deep/score", "text/csv", bytes.Repeat([]byte("1,2,3,4,5,6,7,8\n"), 300), 413,
			"request body over 4096 bytes: split it (the server's -max-body)", nil, nil},
		{"bad top_k", "POST", "/v1/models/deep/score?top_k=-1", "application/json", good, 400,
			`top_k="-1": want a whole number ≥ 0 (0: no features)`, nil, nil},
		{"bad header", "POST", "/v1/models/deep/score?header=maybe", "text/csv", good, 400,
			`header="maybe": want true, false or auto`, nil, nil},
		{"content type", "POST", "/v1/models/deep/score", "application/xml", good, 415,
			`Content-Type "application/xml": send application/json or text/csv`, nil, nil},
		{"unknown model", "POST", "/v1/models/nope/score", "application/json", good, 404,
			`model "nope" is not served: GET /v1/models lists them`, nil, nil},
		{"unknown op", "POST", "/v1/models/deep/predict", "application/json", good, 404,
			`no endpoint "predict" for model deep: use score, encode, reconstruct or reload`, nil, nil},
		{"GET score", "GET", "/v1/models/deep/score", "", nil, 405,
			"GET /v1/models/deep/score: use POST", nil, nil},
		{"unknown path", "GET", "/v2/x", "", nil, 404,
			"no endpoint GET /v2/x: see GET /v1/models and docs/serving.md", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, ts.URL+tc.path, bytes.NewReader(tc.body))
			require.NoError(t, err)
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := ts.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.code, resp.StatusCode, string(b))
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Equal(t, 1, bytes.Count(b, []byte("\n")), "one line: %s", b)
			var e struct {
				Error       string
				Row, Column *int
			}
			require.NoError(t, json.Unmarshal(b, &e), string(b))
			if tc.msg != "" {
				assert.Equal(t, tc.msg, e.Error)
			} else {
				assert.True(t, strings.HasPrefix(e.Error, "malformed JSON at byte"), e.Error)
			}
			assert.Equal(t, tc.row, e.Row)
			assert.Equal(t, tc.col, e.Column)
		})
	}
}

func ptr(i int) *int { return &i }

func TestListHealthzMetrics(t *testing.T) {
	_, ts, f := newServer(t, Options{})
	c := ts.Client()
	get := func(path string) (int, []byte) {
		resp, err := c.Get(ts.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b
	}
	code, body := get("/healthz")
	require.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"ok","models":4}`, string(body))

	code, body = get("/v1/models")
	require.Equal(t, 200, code)
	var list struct{ Models []ModelInfo }
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Models, 4)
	want := map[string]struct {
		kind      string
		in        int
		threshold bool
		path      string
	}{"deep": {"deep", 8, true, f.deep}, "other": {"vae", 8, true, f.other}, "plain": {"deep", 8, false, f.plain}, "wide": {"basic", 12, true, f.wide}}
	for i, name := range []string{"deep", "other", "plain", "wide"} {
		mi := list.Models[i]
		w := want[name]
		assert.Equal(t, name, mi.Name)
		assert.Equal(t, w.path, mi.Path)
		assert.Equal(t, w.kind, mi.Spec.Kind)
		assert.Equal(t, w.in, mi.InputDim)
		assert.Equal(t, 3, mi.CodeDim)
		if !w.threshold {
			assert.Nil(t, mi.Threshold)
			continue
		}
		require.NotNil(t, mi.Threshold, name)
		m, err := hourglass.Load(w.path)
		require.NoError(t, err)
		thr, _ := m.Threshold()
		assert.Equal(t, thr, *mi.Threshold)
		assert.Equal(t, 99.0, mi.Threshold.Percentile)
	}

	// Two scoring requests of 3 and 4 rows, one bad one, then the metrics.
	for _, n := range []int{3, 4} {
		code, body = post(t, c, ts.URL+"/v1/models/wide/score", "application/json", jsonRows(table(n, 12, 5), 12))
		require.Equal(t, 200, code, string(body))
	}
	code, _ = post(t, c, ts.URL+"/v1/models/wide/score", "application/json", []byte(`{}`))
	require.Equal(t, 400, code)
	code, body = get("/metrics")
	require.Equal(t, 200, code)
	text := string(body)
	for _, line := range []string{
		`hourglass_serve_requests_total{code="200",endpoint="score",model="wide"} 2`,
		`hourglass_serve_requests_total{code="400",endpoint="score",model="wide"} 1`,
		`hourglass_serve_requests_total{code="200",endpoint="models",model=""} 1`,
		`hourglass_serve_requests_total{code="200",endpoint="healthz",model=""} 1`,
		`hourglass_serve_rows_total{endpoint="score",model="wide"} 7`,
		`hourglass_serve_request_duration_seconds_count{endpoint="score",model="wide"} 3`,
		`hourglass_serve_batch_rows_sum{model="wide"} 7`,
		`hourglass_serve_requests_in_flight 1`,
	} {
		assert.Contains(t, text, line+"\n")
	}
	assert.Contains(t, text, "# TYPE hourglass_serve_request_duration_seconds histogram")
}

func TestPanicIsA500(t *testing.T) {
	s, ts, _ := newServer(t, Options{})
	s.mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("a bug") })
	resp, err := ts.Client().Get(ts.URL + "/boom")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 500, resp.StatusCode)
	assert.JSONEq(t, `{"error":"internal error answering GET /boom (logged)"}`, string(b))
	// The server still answers.
	resp, err = ts.Client().Get(ts.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

func TestReloadEndpoint(t *testing.T) {
	f := getFixtures(t)
	dir := t.TempDir()
	path := dir + "/live.safetensors"
	require.NoError(t, copyFile(f.deep, path))
	s, err := New([]Source{{"live", path}}, Options{})
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	x := f.rows[:5*dim]
	_, deepScores := offline(t, f.deep, x)
	_, otherScores := offline(t, f.other, x)
	score := func() []float64 {
		code, body := post(t, ts.Client(), ts.URL+"/v1/models/live/score", "application/json", jsonRows(x, dim))
		require.Equal(t, 200, code, string(body))
		var got ScoreResponse
		require.NoError(t, json.Unmarshal(body, &got))
		return got.Scores
	}
	assert.Equal(t, deepScores, score())

	require.NoError(t, copyFile(f.other, path))
	code, body := post(t, ts.Client(), ts.URL+"/v1/models/live/reload", "", nil)
	require.Equal(t, 200, code, string(body))
	var rel struct{ Reloaded ModelInfo }
	require.NoError(t, json.Unmarshal(body, &rel))
	assert.Equal(t, "vae", rel.Reloaded.Spec.Kind)
	assert.Equal(t, otherScores, score())

	// A broken file: 422, and the VAE keeps serving.
	require.NoError(t, os.WriteFile(path, []byte("not a checkpoint"), 0o644))
	code, body = post(t, ts.Client(), ts.URL+"/v1/models/live/reload", "", nil)
	assert.Equal(t, 422, code)
	assert.Contains(t, string(body), `"error":"reload live from `+path+`: `)
	assert.Contains(t, string(body), "(still serving the model loaded at ")
	assert.Equal(t, otherScores, score())
	assert.Error(t, s.ReloadAll())
	assert.ErrorContains(t, s.Reload("nope"), `model "nope" is not served`)

	code, body = post(t, ts.Client(), ts.URL+"/metrics", "", nil)
	assert.Equal(t, 404, code, string(body))
	assert.JSONEq(t, `{"error":"no endpoint POST /metrics: see GET /v1/models and docs/serving.md"}`, string(body))
	resp, err := ts.Client().Get(ts.URL + "/metrics")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(b), `hourglass_serve_reloads_total{model="live",result="ok"} 1`+"\n")
	assert.Contains(t, string(b), `hourglass_serve_reloads_total{model="live",result="error"} 2`+"\n")
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, to) // atomic, as a deploy would do
}

func TestNewErrors(t *testing.T) {
	f := getFixtures(t)
	for _, tc := range []struct {
		name    string
		sources []Source
		msg     string
	}{
		{"none", nil, "no models to serve: give at least one checkpoint"},
		{"duplicate", []Source{{"a", f.deep}, {"a", f.wide}}, `model name "a" given twice: name them with name=path`},
		{"missing file", []Source{{"a", f.dir + "/missing.safetensors"}}, "model a: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.sources, Options{})
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), tc.msg), err.Error())
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Source
		err  string
	}{
		{"deep=runs/a/model.safetensors", Source{"deep", "runs/a/model.safetensors"}, ""},
		{"runs/a/best.safetensors", Source{"best", "runs/a/best.safetensors"}, ""},
		{"x.y=/abs/path", Source{"x.y", "/abs/path"}, ""},
		{"a b=p", Source{}, `model "a b=p": name "a b" must be letters, digits, '.', '_' or '-' (give name=path to choose one)`},
		{"a=", Source{}, `model "a=": no checkpoint path: give name=path or a path`},
		{"=p", Source{}, `model "=p": name "" must be letters, digits, '.', '_' or '-' (give name=path to choose one)`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSource(tc.in)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

var _ = time.Second
