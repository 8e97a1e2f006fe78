package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hourglass-ml/hourglass"
)

// Options bound and tune a Server; the zero value takes the defaults.
type Options struct {
	// MaxBodyBytes caps a request body (default 16 MiB); larger ones get 413.
	MaxBodyBytes int64
	// MaxRows caps the rows of one request (default 4096); more get 413.
	MaxRows int
	// BatchWait is how long a request waits for others to join its
	// micro-batch (default 2ms; negative: no wait, only what is queued).
	BatchWait time.Duration
	// BatchRows ends the wait early once this many rows are gathered
	// (default 256, the size of the model's bulk scoring graph).
	BatchRows int
	// Workers run batches of one model at once (default GOMAXPROCS).
	Workers int
	// TopK is the number of contributing features /score returns per row
	// unless the request asks otherwise with ?top_k= (default 5).
	TopK int
	// Logger receives reloads and internal errors (default: discarded).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 16 << 20
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 4096
	}
	if o.BatchWait == 0 {
		o.BatchWait = 2 * time.Millisecond
	}
	if o.BatchWait < 0 {
		o.BatchWait = 0
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 256
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.TopK < 0 {
		o.TopK = 0
	} else if o.TopK == 0 {
		o.TopK = 5
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Source is a checkpoint to serve under a name.
type Source struct {
	Name, Path string
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ParseSource reads "name=path", or a bare path served under its file's
// base name without the extension (runs/x/model.safetensors -> model).
func ParseSource(s string) (Source, error) {
	name, path, ok := strings.Cut(s, "=")
	if !ok {
		path = s
		name = strings.TrimSuffix(filepath.Base(s), filepath.Ext(s))
	}
	if path == "" {
		return Source{}, fmt.Errorf("model %q: no checkpoint path: give name=path or a path", s)
	}
	if !validName.MatchString(name) {
		return Source{}, fmt.Errorf("model %q: name %q must be letters, digits, '.', '_' or '-' (give name=path to choose one)", s, name)
	}
	return Source{Name: name, Path: path}, nil
}

// snapshot is one loaded version of a model; a reload replaces it whole.
// Its Model is shared by the batch workers (a Model is safe for
// concurrent use).
type snapshot struct {
	// mu is held shared by running batches and exclusively by close, so
	// that a replaced model's graphs are freed only after its last batch.
	mu  sync.RWMutex
	m   *hourglass.Model
	dim int
	// scale is the stored scaler's per-feature factor (x' = (x-a)·scale),
	// nil when the model takes raw values.
	scale    []float32
	loadedAt time.Time
}

// entry is a served name: its checkpoint path and current snapshot.
type entry struct {
	name, path string
	cur        atomic.Pointer[snapshot]
	reloadMu   sync.Mutex // one reload at a time per model
	batch      *batcher
}

// Server answers the HTTP API for a fixed set of named models. It is an
// http.Handler, safe for concurrent use; call Close after the http.Server
// using it has shut down.
type Server struct {
	opts    Options
	models  map[string]*entry
	names   []string // sorted
	metrics *metrics
	mux     *http.ServeMux
}

// New loads every source and returns a Server for them.
func New(sources []Source, opts Options) (*Server, error) {
	if len(sources) == 0 {
		return nil, errors.New("no models to serve: give at least one checkpoint")
	}
	s := &Server{opts: opts.withDefaults(), models: map[string]*entry{}, metrics: newMetrics()}
	for _, src := range sources {
		if _, dup := s.models[src.Name]; dup {
			return nil, fmt.Errorf("model name %q given twice: name them with name=path", src.Name)
		}
		snap, err := load(src.Path)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", src.Name, err)
		}
		e := &entry{name: src.Name, path: src.Path}
		e.cur.Store(snap)
		s.models[src.Name] = e
		s.names = append(s.names, src.Name)
	}
	sort.Strings(s.names)
	for _, e := range s.models {
		obs := s.metrics.batch.WithLabelValues(e.name)
		e.batch = newBatcher(s.opts.BatchWait, s.opts.BatchRows, s.opts.Workers, s.opts.Logger,
			func(rows int) { obs.Observe(float64(rows)) })
	}
	s.routes()
	return s, nil
}

// load reads the model at path with its scaler.
func load(path string) (*snapshot, error) {
	m, err := hourglass.Load(path)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{m: m, dim: m.InputDim(), loadedAt: time.Now().UTC()}
	sc := m.Scaler()
	if sc != nil && sc.Kind != "none" {
		snap.scale = sc.B
	}
	return snap, nil
}

func (s *snapshot) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.Close()
}

// Close stops the batchers and frees the models' pooled graphs.
func (s *Server) Close() {
	for _, e := range s.models {
		e.batch.close()
		e.cur.Load().close()
	}
}

// Names lists the served model names, sorted.
func (s *Server) Names() []string { return append([]string(nil), s.names...) }

// Reload loads the named model's checkpoint again and swaps it in; requests
// already batched finish on the old model, later ones use the new one. On
// error the old model stays.
func (s *Server) Reload(name string) error {
	e, ok := s.models[name]
	if !ok {
		return fmt.Errorf("model %q is not served (see GET /v1/models)", name)
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	snap, err := load(e.path)
	if err != nil {
		s.metrics.reloads.WithLabelValues(name, "error").Inc()
		s.opts.Logger.Error("reload failed; still serving the previous model", "model", name, "path", e.path, "err", err)
		return fmt.Errorf("reload %s from %s: %w (still serving the model loaded at %s)", name, e.path, err, e.cur.Load().loadedAt.Format(time.RFC3339))
	}
	old := e.cur.Swap(snap)
	// Free the old graphs once its running batches end. A request that
	// read the old snapshot just before the swap still runs on it: Close
	// leaves a Model usable.
	go old.close()
	s.metrics.reloads.WithLabelValues(name, "ok").Inc()
	s.opts.Logger.Info("model reloaded", "model", name, "path", e.path, "spec", snap.m.Spec().Kind, "input_dim", snap.dim)
	return nil
}

// ReloadAll reloads every model (SIGHUP), returning the failures joined.
func (s *Server) ReloadAll() error {
	var errs []error
	for _, n := range s.names {
		errs = append(errs, s.Reload(n))
	}
	return errors.Join(errs...)
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /v1/models", s.list)
	s.mux.HandleFunc("/v1/models/{name}/{op}", s.model)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, "no endpoint %s %s: see GET /v1/models and docs/serving.md", r.Method, r.URL.Path))
	})
}

// endpoint is the metrics label of a request's path.
func (s *Server) labels(r *http.Request) (model, endpoint string) {
	p := r.URL.Path
	switch p {
	case "/metrics", "/healthz":
		return "", p[1:]
	case "/v1/models":
		return "", "models"
	}
	rest, ok := strings.CutPrefix(p, "/v1/models/")
	if !ok {
		return "", "other"
	}
	name, op, ok := strings.Cut(rest, "/")
	if _, known := s.models[name]; !ok || !known {
		return "", "other"
	}
	switch op {
	case "score", "encode", "reconstruct", "reload":
		return name, op
	}
	return name, "other"
}

// ServeHTTP counts and times every request and turns a panic (a bug) into
// a logged 500 instead of a dropped connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	model, endpoint := s.labels(r)
	rec := &recorder{ResponseWriter: w}
	s.metrics.inflight.Inc()
	defer func() {
		s.metrics.inflight.Dec()
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.opts.Logger.Error("panic answering a request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if rec.code == 0 {
				writeError(rec, errorf(http.StatusInternalServerError, "internal error answering %s %s (logged)", r.Method, r.URL.Path))
			}
		}
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		s.metrics.requests.WithLabelValues(model, endpoint, strconv.Itoa(code)).Inc()
		s.metrics.latency.WithLabelValues(model, endpoint).Observe(time.Since(start).Seconds())
	}()
	s.mux.ServeHTTP(rec, r)
}

type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only a bug can get here: every value is plain data
		code, b = http.StatusInternalServerError, []byte(`{"error":"internal error encoding the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *apiError) { writeJSON(w, e.Status, e) }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "models": len(s.names)})
}

// ModelInfo describes a served model in GET /v1/models.
type ModelInfo struct {
	Name      string               `json:"name"`
	Path      string               `json:"path"`
	Spec      hourglass.Spec       `json:"spec"`
	InputDim  int                  `json:"input_dim"`
	CodeDim   int                  `json:"code_dim"`
	Threshold *hourglass.Threshold `json:"threshold"` // null: no flags
	LoadedAt  time.Time            `json:"loaded_at"`
}

func (s *Server) info(e *entry) ModelInfo {
	snap := e.cur.Load()
	in := ModelInfo{Name: e.name, Path: e.path, Spec: snap.m.Spec(), InputDim: snap.dim, CodeDim: snap.m.CodeDim(), LoadedAt: snap.loadedAt}
	if t, ok := snap.m.Threshold(); ok {
		in.Threshold = &t
	}
	return in
}

func (s *Server) list(w http.ResponseWriter, _ *http.Request) {
	out := make([]ModelInfo, 0, len(s.names))
	for _, n := range s.names {
		out = append(out, s.info(s.models[n]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
}

func (s *Server) model(w http.ResponseWriter, r *http.Request) {
	name, op := r.PathValue("name"), r.PathValue("op")
	e, ok := s.models[name]
	if !ok {
		writeError(w, errorf(http.StatusNotFound, "model %q is not served: GET /v1/models lists them", name))
		return
	}
	var nd need
	switch op {
	case "score":
		nd = needScore
	case "encode":
		nd = needCode
	case "reconstruct":
		nd = needRecon
	case "reload":
	default:
		writeError(w, errorf(http.StatusNotFound, "no endpoint %q for model %s: use score, encode, reconstruct or reload", op, name))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, errorf(http.StatusMethodNotAllowed, "%s /v1/models/%s/%s: use POST", r.Method, name, op))
		return
	}
	if op == "reload" {
		if err := s.Reload(name); err != nil {
			writeError(w, errorf(http.StatusUnprocessableEntity, "%v", err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"reloaded": s.info(e)})
		return
	}
	s.compute(w, r, e, op, nd)
}

// ScoreResponse is the answer of POST /v1/models/{name}/score.
type ScoreResponse struct {
	Model  string    `json:"model"`
	Rows   int       `json:"rows"`
	Scores []float64 `json:"scores"`
	// Flags are scores above Threshold; absent (with Note) when the model
	// has no threshold.
	Flags     []bool   `json:"flags,omitempty"`
	Threshold *float64 `json:"threshold,omitempty"`
	Note      string   `json:"note,omitempty"`
	// Top lists per row the features with the largest squared
	// reconstruction error, largest first, in ErrorUnits: "scaled" (the
	// model's stored scaler applied to input and reconstruction) or "raw"
	// (the model has no scaler).
	Top        [][]Feature `json:"top_features,omitempty"`
	ErrorUnits string      `json:"error_units,omitempty"`
}

// Feature is one feature's squared reconstruction error.
type Feature struct {
	Index int     `json:"index"`
	Name  string  `json:"name,omitempty"` // the CSV header's, when sent
	Error float64 `json:"sq_error"`
}

// EncodeResponse is the answer of POST /v1/models/{name}/encode.
type EncodeResponse struct {
	Model string      `json:"model"`
	Rows  int         `json:"rows"`
	Codes [][]float32 `json:"codes"`
}

// ReconstructResponse is the answer of POST /v1/models/{name}/reconstruct.
type ReconstructResponse struct {
	Model           string      `json:"model"`
	Rows            int         `json:"rows"`
	Reconstructions [][]float32 `json:"reconstructions"`
}

const noThresholdNote = "the model has no anomaly threshold, so no flags: set one with Model.FitThreshold (hourglass.Train stores one), save the checkpoint and reload"

func (s *Server) compute(w http.ResponseWriter, r *http.Request, e *entry, op string, nd need) {
	snap := e.cur.Load()
	topK := 0
	if op == "score" {
		topK = min(s.opts.TopK, snap.dim)
		if q := r.URL.Query().Get("top_k"); q != "" {
			k, err := strconv.Atoi(q)
			if err != nil || k < 0 {
				writeError(w, errorf(http.StatusBadRequest, "top_k=%q: want a whole number ≥ 0 (0: no features)", q))
				return
			}
			topK = min(k, snap.dim)
		}
		if topK > 0 {
			nd |= needRecon
		}
	}
	header := r.URL.Query().Get("header")
	switch header {
	case "":
		header = "auto"
	case "auto", "true", "false":
	default:
		writeError(w, errorf(http.StatusBadRequest, "header=%q: want true, false or auto", header))
		return
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 { // one allocation instead of ReadAll's doublings
		buf.Grow(int(min(r.ContentLength, s.opts.MaxBodyBytes)) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	body := buf.Bytes()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, errorf(http.StatusRequestEntityTooLarge, "request body over %d bytes: split it (the server's -max-body)", tooBig.Limit))
			return
		}
		writeError(w, errorf(http.StatusBadRequest, "reading the request body: %v", err))
		return
	}
	lim := limits{dim: snap.dim, maxRows: s.opts.MaxRows}
	var in *rows
	var aerr *apiError
	switch ct := mediaType(r); ct {
	case "text/csv":
		in, aerr = decodeCSV(body, lim, header)
	case "application/json", "":
		in, aerr = decodeJSON(body, lim)
	default:
		aerr = errorf(http.StatusUnsupportedMediaType, "Content-Type %q: send application/json or text/csv", ct)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	res := e.batch.do(&job{snap: snap, x: in.x, n: in.n, need: nd}, r.Context().Done())
	switch {
	case errors.Is(res.err, errGone):
		return // nobody to answer
	case errors.Is(res.err, errClosed):
		writeError(w, errorf(http.StatusServiceUnavailable, "%v: retry on another instance", res.err))
		return
	case res.err != nil:
		s.opts.Logger.Error("scoring failed", "model", e.name, "err", res.err)
		writeError(w, errorf(http.StatusInternalServerError, "model %s: %v", e.name, res.err))
		return
	}
	s.metrics.rows.WithLabelValues(e.name, op).Add(float64(in.n))
	switch op {
	case "encode":
		writeJSON(w, http.StatusOK, EncodeResponse{Model: e.name, Rows: in.n, Codes: split(res.code, in.n)})
	case "reconstruct":
		writeJSON(w, http.StatusOK, ReconstructResponse{Model: e.name, Rows: in.n, Reconstructions: split(res.recon, in.n)})
	default:
		out := ScoreResponse{Model: e.name, Rows: in.n, Scores: res.score}
		if t, ok := snap.m.Threshold(); ok {
			out.Threshold = &t.Value
			out.Flags = make([]bool, in.n)
			for i, sc := range res.score {
				out.Flags[i] = sc > t.Value
			}
		} else {
			out.Note = noThresholdNote
		}
		if topK > 0 {
			out.Top = topFeatures(in.x, res.recon, snap.scale, in.n, topK, in.names)
			out.ErrorUnits = "raw"
			if snap.scale != nil {
				out.ErrorUnits = "scaled"
			}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

func split(flat []float32, n int) [][]float32 {
	w := len(flat) / n
	out := make([][]float32, n)
	for i := range out {
		out[i] = flat[i*w : (i+1)*w : (i+1)*w]
	}
	return out
}

// topFeatures returns per row the k features with the largest squared
// error between x and its reconstruction, largest first, ties to the lower
// index. x and recon are raw; with scale the errors are in the scaled
// units the model was trained and scores in, so a feature of large range
// does not drown the others (and for the mse kinds the errors of all
// features average to the score).
func topFeatures(x, recon, scale []float32, n, k int, names []string) [][]Feature {
	dim := len(x) / n
	out := make([][]Feature, n)
	for i := range n {
		top := make([]Feature, 0, k+1)
		for j := range dim {
			d := float64(x[i*dim+j]) - float64(recon[i*dim+j])
			if scale != nil {
				d *= float64(scale[j])
			}
			f := Feature{Index: j, Error: d * d}
			if len(top) == k && f.Error <= top[k-1].Error {
				continue
			}
			// Insert in order: k is small, so a linear insert beats a heap.
			p := len(top)
			for p > 0 && top[p-1].Error < f.Error {
				p--
			}
			top = append(top, Feature{})
			copy(top[p+1:], top[p:])
			top[p] = f
			if len(top) > k {
				top = top[:k]
			}
		}
		if names != nil {
			for t := range top {
				top[t].Name = names[top[t].Index]
			}
		}
		out[i] = top
	}
	return out
}
