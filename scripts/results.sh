#!/usr/bin/env bash
# Reruns every figure of docs/results.md with its fixed seeds and prints one
# JSON line per run and a markdown table at the end.
#
#   scripts/results.sh                  # everything (see docs/results.md for the run time)
#   scripts/results.sh sample vae       # a subset: sample deep vae features oneclass
#
# Runs go into $RESULTS_DIR (default results-<time>/), one directory each.
# Needs the full Fashion-MNIST for all but "sample" (Debian:
# dataset-fashion-mnist, installed here with apt-get when missing and
# running as root) and python3 for the table.
set -euo pipefail
cd "$(dirname "$0")/.."
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(sample deep vae features oneclass)
dir=${RESULTS_DIR:-results-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$dir"
log="$dir/results.jsonl"
bin="$dir/hourglass"
go build -o "$bin" ./cmd/hourglass

want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }
if ! want sample || [ ${#parts[@]} -gt 1 ]; then
  if [ ! -d /usr/share/datasets/fashion-mnist ] && [ ! -d "${HOURGLASS_DATA:-/nonexistent}/fashion-mnist" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; }
    else
      echo "results: please install dataset-fashion-mnist (or set HOURGLASS_DATA)" >&2
      exit 1
    fi
  fi
fi

# run NAME COMMAND...: runs one hourglass command with -json, timing it, and
# appends {"name", "cmd", "seconds", "result"} to the log.
run() {
  local name=$1; shift
  local start end
  start=$(date +%s)
  "$bin" "$@" -json > "$dir/$name.json" 2> "$dir/$name.log"
  end=$(date +%s)
  record "$name" "$((end - start))" "hourglass $*"
}

# record NAME SECONDS COMMAND: appends a finished run's $dir/NAME.json.
record() {
  python3 - "$1" "$2" "$dir/$1.json" "$3" >> "$log" <<'PY'
import json, sys
name, secs, path, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
print(json.dumps({"name": name, "cmd": cmd, "seconds": secs, "result": json.load(open(path))}))
PY
  tail -n 1 "$log"
}

if want sample; then
  for s in 1 2 3; do
    run "sample-s$s" train -seed "$s" -out "$dir/sample-s$s"
  done
fi
if want deep || want features; then
  run "deep-full" train -data fashion-mnist -epochs 20 -batch 256 -seed 1 -out "$dir/deep-full"
fi
if want features; then
  run "features-deep" eval -checkpoint "$dir/deep-full/last.safetensors" -data fashion-mnist -task features -seed 1 -out "$dir/deep-full/eval-features"
fi
if want deep; then
  run "sample-deep" eval -checkpoint "$dir/deep-full/last.safetensors" -data fashion-mnist -task sample -seed 1 -out "$dir/deep-full/eval-sample"
fi
if want vae; then
  for s in 1 2 3; do
    run "vae-s$s" train -model vae -data fashion-mnist -epochs 10 -batch 128 -seed "$s" -val-frac 0.01 -out "$dir/vae-s$s"
    run "vae-s$s-iwae" eval -checkpoint "$dir/vae-s$s/last.safetensors" -data fashion-mnist -task recon -seed 1 -out "$dir/vae-s$s/eval-recon"
  done
  run "sample-vae" eval -checkpoint "$dir/vae-s1/last.safetensors" -data fashion-mnist -task sample -seed 1 -out "$dir/vae-s1/eval-sample"
  for s in 1 2 3; do
    run "vae-split-s$s" train -model vae -data fashion-mnist -epochs 10 -batch 128 -seed "$s" -out "$dir/vae-split-s$s"
  done
  # All 60,000 training images, as pytorch/examples trains.
  for s in 1 2 3; do
    run "vae-all-s$s" train -model vae -data fashion-mnist -epochs 10 -batch 128 -seed "$s" -val-frac 0 -out "$dir/vae-all-s$s"
  done
  # PyTorch's figure for the same recipe (pytorch/examples' VAE), where
  # Debian's python3-torch is installed: as published, and with the output
  # bias started at the data's mean as hourglass starts it.
  if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    for s in 1 2 3; do
      start=$(date +%s)
      /usr/bin/python3 scripts/vae-peer.py --seed "$s" > "$dir/vae-peer-s$s.json"
      record "vae-peer-s$s" "$(( $(date +%s) - start ))" "/usr/bin/python3 scripts/vae-peer.py --seed $s"
      start=$(date +%s)
      /usr/bin/python3 scripts/vae-peer.py --seed "$s" --init-output-mean > "$dir/vae-peer-init-s$s.json"
      record "vae-peer-init-s$s" "$(( $(date +%s) - start ))" "/usr/bin/python3 scripts/vae-peer.py --seed $s --init-output-mean"
    done
  else
    echo "results: python3-torch missing: PyTorch's VAE figure (vae-peer) skipped" >&2
  fi
fi
if want oneclass; then
  # anomaly-oneclass takes only the kind and code size from its checkpoint
  # (each class gets a fresh model, seeded by -seed): a one-epoch run on the
  # sample is enough to name them.
  run "oneclass-spec" train -latent 16 -epochs 1 -seed 1 -out "$dir/deep16-spec"
  for s in 1 2 3; do
    run "oneclass-s$s" eval -checkpoint "$dir/deep16-spec/last.safetensors" -data fashion-mnist -task anomaly-oneclass -oneclass-epochs 10 -oneclass-score ssim+latent -seed "$s" -out "$dir/oneclass-s$s"
  done
fi

python3 - "$log" <<'PY'
import json, re, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def pick(r, *keys):
    res = r["result"]
    return [res.get(k) for k in keys]
print("\n| run | figure | seconds | command |\n| --- | --- | --- | --- |")
for r in rows:
    n, res = r["name"], r["result"]
    if "test_mse" in res and res.get("model") != "vae":
        fig = "test MSE %.5f vs PCA %.5f (same code size)" % (res["test_mse"], res.get("pca_mse") or float("nan"))
    elif "test_loss" in res:
        fig = "test −ELBO %.2f nats" % res["test_loss"]
    elif "test_neg_elbo" in res:
        fig = "PyTorch test −ELBO %.2f nats%s" % (res["test_neg_elbo"], ", output bias from the mean" if res.get("init_output_mean") else "")
    elif "neg_log_lik_iwae" in res:
        fig = "−log p̂_%d %.2f, one-draw −ELBO %.2f nats" % (res["iwae_k"], res["neg_log_lik_iwae"], res["neg_elbo_mc"])
    elif "knn_accuracy" in res:
        fig = "kNN-5 codes %.4f, PCA %.4f, raw %.4f" % (res["knn_accuracy"], res["knn_pca_accuracy"], res["knn_raw_accuracy"])
    elif "gmm_test_loglik" in res:
        fig = "test codes: mixture %.2f, prior %.2f nats per code" % (res["gmm_test_loglik"], res["prior_test_loglik"])
    elif "mean_auroc" in res:
        fig = "mean AUROC %.4f (%s), PCA %.4f" % (res["mean_auroc"], res.get("oneclass_score", "recon"), res["pca_mean_auroc"])
    else:
        fig = "see %s.json" % n
    print("| %s | %s | %d | `%s` |" % (n, fig, r["seconds"], r["cmd"]))
def agg(prefix, key, suffix=""):
    # prefix, seed, suffix exactly: "vae-s" must not take in "vae-split-s1".
    v = [r["result"][key] for r in rows if re.fullmatch(re.escape(prefix) + r"\d+" + re.escape(suffix), r["name"]) and key in r["result"]]
    if len(v) > 1:
        print("%s %s: mean %.5g, spread (max−min) %.3g over %d seeds" % (prefix, key, statistics.mean(v), max(v) - min(v), len(v)))
print()
agg("sample-s", "test_mse")
agg("vae-s", "test_loss")
agg("vae-split-s", "test_loss")
agg("vae-all-s", "test_loss")
agg("vae-peer-s", "test_neg_elbo")
agg("vae-peer-init-s", "test_neg_elbo")
agg("vae-s", "neg_log_lik_iwae", "-iwae")
agg("oneclass-s", "mean_auroc")
PY
