package serve

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hourglass-ml/hourglass"
)

// What a job needs computed.
type need uint8

const (
	needScore need = 1 << iota
	needRecon
	needCode
)

// job is one request's rows waiting to be run in a batch.
type job struct {
	snap *snapshot // the model the rows were checked against
	x    []float32
	n    int
	need need
	done chan result // buffered: the batch never waits on the handler
}

type result struct {
	score       []float64
	recon, code []float32
	err         error
}

var errClosed = errors.New("the server is shutting down")

// batcher gathers the jobs of one model name for up to wait, or until
// maxRows rows are waiting, and hands each batch to one of its workers.
// While every worker is busy the next batch keeps growing, so under load
// the batches approach maxRows and throughput the bulk scoring rate.
type batcher struct {
	in      chan *job
	work    chan []*job
	quit    chan struct{}
	wg      sync.WaitGroup
	wait    time.Duration
	maxRows int
	log     *slog.Logger
	// observe records a batch's size (rows) for the metrics.
	observe func(rows int)
}

func newBatcher(wait time.Duration, maxRows, workers int, log *slog.Logger, observe func(int)) *batcher {
	b := &batcher{
		in:      make(chan *job, 4*workers),
		work:    make(chan []*job),
		quit:    make(chan struct{}),
		wait:    wait,
		maxRows: maxRows,
		log:     log,
		observe: observe,
	}
	b.wg.Add(1 + workers)
	go b.collect()
	for range workers {
		go b.worker()
	}
	return b
}

// do runs j in a batch and waits for its result; done is the request's
// cancellation (the result is dropped if the client went away).
func (b *batcher) do(j *job, done <-chan struct{}) result {
	j.done = make(chan result, 1)
	select {
	case b.in <- j:
	case <-b.quit:
		return result{err: errClosed}
	case <-done:
		return result{err: errGone}
	}
	select {
	case r := <-j.done:
		return r
	case <-done:
		return result{err: errGone}
	}
}

var errGone = errors.New("the client went away")

func (b *batcher) collect() {
	defer b.wg.Done()
	defer close(b.work)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var first *job
		select {
		case first = <-b.in:
		case <-b.quit:
			b.drain()
			return
		}
		batch, rows := []*job{first}, first.n
		if b.wait > 0 && rows < b.maxRows {
			timer.Reset(b.wait)
		gather:
			for rows < b.maxRows {
				select {
				case j := <-b.in:
					batch, rows = append(batch, j), rows+j.n
				case <-timer.C:
					break gather
				}
			}
			timer.Stop()
		} else {
			// No wait: take what is already queued.
		more:
			for rows < b.maxRows {
				select {
				case j := <-b.in:
					batch, rows = append(batch, j), rows+j.n
				default:
					break more
				}
			}
		}
		b.work <- batch
	}
}

// drain answers the jobs still queued at shutdown.
func (b *batcher) drain() {
	for {
		select {
		case j := <-b.in:
			j.done <- result{err: errClosed}
		default:
			return
		}
	}
}

func (b *batcher) worker() {
	defer b.wg.Done()
	for batch := range b.work {
		b.run(batch)
	}
}

// run computes a batch, one group per model snapshot (two only while a
// reload swaps the model), and hands each job its slice of the results.
func (b *batcher) run(batch []*job) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("panic in a scoring batch", "panic", p, "stack", string(debug.Stack()))
			for _, j := range batch {
				select {
				case j.done <- result{err: fmt.Errorf("internal error: %v", p)}:
				default: // already answered
				}
			}
		}
	}()
	rows := 0
	for len(batch) > 0 {
		snap := batch[0].snap
		var group, rest []*job
		for _, j := range batch {
			if j.snap == snap {
				group = append(group, j)
			} else {
				rest = append(rest, j)
			}
		}
		rows += func() int {
			snap.mu.RLock()
			defer snap.mu.RUnlock()
			return runGroup(snap.m, snap.dim, group)
		}()
		batch = rest
	}
	if b.observe != nil {
		b.observe(rows)
	}
}

// runGroup runs jobs on m as one batch and returns its rows.
func runGroup(m *hourglass.Model, dim int, jobs []*job) int {
	var x []float32
	var want need
	n := 0
	for _, j := range jobs {
		want |= j.need
		n += j.n
	}
	if len(jobs) == 1 {
		x = jobs[0].x
	} else {
		x = make([]float32, 0, n*dim)
		for _, j := range jobs {
			x = append(x, j.x...)
		}
	}
	// One pass of the model gives scores, codes and reconstructions alike.
	var res result
	if o, err := m.Run(x); err != nil {
		res.err = err
	} else {
		res.score, res.recon, res.code = o.Scores, o.Reconstruction, o.Codes
	}
	off := 0
	for _, j := range jobs {
		r := result{err: res.err}
		if res.err == nil {
			if j.need&needScore != 0 {
				r.score = res.score[off : off+j.n : off+j.n]
			}
			if j.need&needRecon != 0 {
				r.recon = res.recon[off*dim : (off+j.n)*dim : (off+j.n)*dim]
			}
			if j.need&needCode != 0 {
				c := m.CodeDim()
				r.code = res.code[off*c : (off+j.n)*c : (off+j.n)*c]
			}
		}
		j.done <- r
		off += j.n
	}
	return n
}

// close stops the batcher after the queued jobs are answered (with
// errClosed); call it once no handler submits any more.
func (b *batcher) close() {
	close(b.quit)
	b.wg.Wait()
}
