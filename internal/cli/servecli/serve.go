package servecli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hourglass-ml/hourglass/internal/cli"
	"github.com/hourglass-ml/hourglass/serve"
)

var help = cli.Help{
	Usage: "hourglass serve [flags] -model [NAME=]CHECKPOINT [-model ...]",
	Summary: "Serves checkpoints over HTTP: POST /v1/models/NAME/score, /encode, /reconstruct and\n" +
		"/reload; GET /v1/models, /healthz, /metrics (Prometheus). Concurrent requests are\n" +
		"scored in micro-batches. SIGHUP reloads every model; SIGINT or SIGTERM finishes the\n" +
		"requests in flight and exits 0. The API is in docs/serving.md.",
	Groups: []cli.Group{
		{Title: "Models and address", Flags: []string{"model", "addr"}},
		{Title: "Limits", Flags: []string{"max-body", "max-rows", "shutdown-timeout"}},
		{Title: "Batching and answers", Flags: []string{"batch-wait", "batch-rows", "workers", "top-k"}},
	},
	Examples: []string{
		"hourglass serve -model runs/deep-x/best.safetensors            # served as /v1/models/best",
		"hourglass serve -addr :8080 -model fraud=fraud.safetensors -model sensor=sensor.safetensors",
		`curl -s localhost:8080/v1/models/fraud/score -H 'Content-Type: application/json' -d '{"rows": [[0.1, 2.5, 3]]}'`,
	},
}

// sourceFlags collects repeated -model flags.
type sourceFlags []serve.Source

func (s *sourceFlags) String() string {
	var parts []string
	for _, src := range *s {
		parts = append(parts, src.Name+"="+src.Path)
	}
	return strings.Join(parts, ",")
}

func (s *sourceFlags) Set(v string) error {
	src, err := serve.ParseSource(v)
	if err != nil {
		return err
	}
	*s = append(*s, src)
	return nil
}

// Run runs the serve command with args and returns its exit code; it
// returns once a SIGINT or SIGTERM has shut the server down.
func Run(prog string, args []string, stdout, stderr io.Writer) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	return run(prog, args, stdout, stderr, sigs)
}

// run is Run with the signals from a channel, so tests can send them.
func run(prog string, args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var sources sourceFlags
	fs.Var(&sources, "model", "a checkpoint to serve, as `[NAME=]CHECKPOINT`, repeatable; NAME defaults to the file's base name without extension")
	addr := fs.String("addr", "localhost:8080", "address to listen on, as `host:port` (:8080 for every interface)")
	maxBody := fs.Int64("max-body", 16<<20, "largest request body, in `bytes`; larger ones get 413")
	maxRows := fs.Int("max-rows", 4096, "most rows in one request; more get 413")
	shutdown := fs.Duration("shutdown-timeout", 30*time.Second, "how long SIGINT/SIGTERM waits for requests in flight")
	wait := fs.Duration("batch-wait", 2*time.Millisecond, "how long a request waits for others to share its batch (0: no wait)")
	batchRows := fs.Int("batch-rows", 256, "a batch runs as soon as it has this many rows")
	workers := fs.Int("workers", 0, "batches run at once per model (0: one per CPU)")
	topK := fs.Int("top-k", 5, "contributing features per row in /score answers unless ?top_k= says otherwise (0: none)")
	err := cli.Parse(fs, args, help, prog, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	if err == nil {
		for _, a := range fs.Args() { // bare checkpoints after the flags
			if err = sources.Set(a); err != nil {
				break
			}
		}
	}
	if err == nil {
		switch {
		case len(sources) == 0:
			err = errors.New("no model: give -model [NAME=]CHECKPOINT (repeatable)")
		case *maxBody <= 0 || *maxRows <= 0 || *batchRows <= 0:
			err = errors.New("-max-body, -max-rows and -batch-rows must be positive")
		case *wait < 0 || *workers < 0 || *topK < 0 || *shutdown <= 0:
			err = errors.New("-batch-wait, -workers and -top-k must not be negative, -shutdown-timeout must be positive")
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return cli.ExitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	bw := *wait
	if bw == 0 {
		bw = -1 // Options: negative is no wait
	}
	topk := *topK
	if topk == 0 {
		topk = -1
	}
	srv, err := serve.New(sources, serve.Options{MaxBodyBytes: *maxBody, MaxRows: *maxRows, BatchWait: bw,
		BatchRows: *batchRows, Workers: *workers, TopK: topk, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return cli.ExitFail
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: listen on %s: %v (choose another -addr)\n", prog, *addr, err)
		return cli.ExitFail
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(stderr, "", log.LstdFlags),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "serving %s on http://%s\n", strings.Join(srv.Names(), ", "), ln.Addr())
	for {
		select {
		case err := <-served:
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return cli.ExitFail
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if err := srv.ReloadAll(); err != nil {
					logger.Error("SIGHUP: some models kept their previous version", "err", err)
				} else {
					logger.Info("SIGHUP: every model reloaded")
				}
				continue
			}
			logger.Info("shutting down: finishing requests in flight", "signal", sig.String(), "timeout", shutdown.String())
			ctx, cancel := context.WithTimeout(context.Background(), *shutdown)
			err := hs.Shutdown(ctx)
			cancel()
			if err != nil {
				fmt.Fprintf(stderr, "%s: shutdown after %v: %v (requests still in flight were cut)\n", prog, *shutdown, err)
				return cli.ExitFail
			}
			logger.Info("stopped")
			return cli.ExitOK
		}
	}
}
