package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics live on a registry the server owns, so two servers in one
// process (as in the tests) never share or collide on counters.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	rows     *prometheus.CounterVec
	batch    *prometheus.HistogramVec
	reloads  *prometheus.CounterVec
	inflight prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hourglass_serve_requests_total",
			Help: "HTTP requests answered, by model, endpoint and status code.",
		}, []string{"model", "endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hourglass_serve_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by model and endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 100µs … 3.3s
		}, []string{"model", "endpoint"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hourglass_serve_rows_total",
			Help: "Rows answered (scored, encoded or reconstructed), by model and endpoint.",
		}, []string{"model", "endpoint"}),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hourglass_serve_batch_rows",
			Help:    "Rows per micro-batch run on a model.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13), // 1 … 4096
		}, []string{"model"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hourglass_serve_reloads_total",
			Help: "Model reloads, by model and result (ok or error).",
		}, []string{"model", "result"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hourglass_serve_requests_in_flight",
			Help: "Requests being answered now.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.rows, m.batch, m.reloads, m.inflight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
