#!/usr/bin/env bash
# One command that races hourglass against the PyTorch peer on this CPU, in
# one run (machines differ; only ratios measured together mean anything),
# and against the machine's own bound: the packed GEMM's peak GFLOP/s.
#
#   scripts/bench.sh                 # every kind, a fixed number of steps each (minutes)
#   scripts/bench.sh deep vae        # a subset
#   scripts/bench.sh --full conv     # full epochs over the 60,000 images (the long form)
#
# For each build that exists here (purego: the default; openblas: -tags
# openblas, when Debian's libopenblas-dev is installed) it measures the GEMM
# kernel's peak on a 1024² product (best of the start and the end of the
# run), then for each model times training (by default STEPS steps per
# repetition, one warm-up repetition and three timed; --full: whole epochs)
# and scoring throughput (batch 1024; by default the first SCORE images,
# --full: all), and runs scripts/bench/pytorch_peer.py (a copy of
# ../shared/bench/pytorch_epoch.py that can time a fixed number of steps)
# with the same steps and images, 1 and 2 threads, and keeps the faster.
# Each measurement's FLOPs are counted from the model's spec
# (scripts/bench/flops.go), so the table shows achieved GFLOP/s and
# "x bound" = time / (FLOPs / peak) for hourglass and the peer alike.
# Prints one JSON line per measurement (with the CPU, the commit and the
# load average) and a table at the end. Needs: dataset-fashion-mnist,
# python3-torch, python3-numpy (installed here with apt-get when missing and
# running as root); libopenblas-dev for the openblas build.
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
models=()
for a in "$@"; do
  case "$a" in
    --full) full=1 ;;
    -*) echo "bench: unknown option $a (known: --full)" >&2; exit 2 ;;
    *) models+=("$a") ;;
  esac
done
[ ${#models[@]} -gt 0 ] || models=(deep conv vae basic denoising sparse convvae)
peer=scripts/bench/pytorch_peer.py
peer_timeout=${PEER_TIMEOUT:-120} # seconds per peer run (--full: 30 minutes)
py=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit-dirty"
started=$(date +%s)
echo "bench: $(date -u +%FT%TZ) commit $commit, load $(cut -d' ' -f1-3 /proc/loadavg), $( [ $full = 1 ] && echo full epochs || echo fixed steps )" >&2

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq "$@" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$@" >/dev/null 2>&1; }
  else
    echo "bench: please install: $*" >&2
    return 1
  fi
}
[ -d /usr/share/datasets/fashion-mnist ] || apt_install dataset-fashion-mnist
$py -c 'import torch, numpy' 2>/dev/null || apt_install python3-torch python3-numpy || true

builds=(purego)
if dpkg -s libopenblas-dev >/dev/null 2>&1 || apt_install libopenblas-dev; then
  builds+=(openblas)
fi
for b in "${builds[@]}"; do
  tags=""; [ "$b" = openblas ] && tags="-tags openblas"
  go build $tags -o "$out/bench-$b" ./scripts/bench
done

# OpenBLAS core: this machine may pin OPENBLAS_CORETYPE (older OpenBLAS
# misdetects some CPUs). The peer runs with the setting as it is and, on an
# AVX-512 CPU, with SkylakeX too; the faster counts, so we race it at its best.
cores=("${OPENBLAS_CORETYPE:-auto}")
grep -q avx512f /proc/cpuinfo && [ "${OPENBLAS_CORETYPE:-}" != SkylakeX ] && cores+=(SkylakeX)

batch_for() { case "$1" in deep|basic|denoising|sparse) echo 256 ;; *) echo 128 ;; esac; }
# Fixed steps: about two seconds a repetition on an idle 2-core EPYC.
steps_for() { case "$1" in conv|convvae) echo 32 ;; vae) echo 200 ;; *) echo 120 ;; esac; }
score_for() { case "$1" in conv|convvae) echo 8192 ;; *) echo 30720 ;; esac; }
has_peer() { case "$1" in deep|conv|vae) return 0 ;; *) return 1 ;; esac; }

peak() {
  for b in "${builds[@]}"; do
    env_core=()
    [ "$b" = openblas ] && [ "${cores[-1]}" = SkylakeX ] && env_core=(OPENBLAS_CORETYPE=SkylakeX)
    env "${env_core[@]}" "$out/bench-$b" -peak -build "$b" -commit "$commit" >> "$out/ours.jsonl"
  done
}
peak

for m in "${models[@]}"; do
  bs=$(batch_for "$m")
  if [ $full = 1 ]; then
    ours_args=(-epochs "$( [ "$m" = deep ] && echo 11 || echo 4 )" -steps 0)
    peer_train=(--epochs 4); peer_infer=(--epochs 3); peer_timeout=${PEER_TIMEOUT:-1800}
  else
    ours_args=(-epochs 4 -steps "$(steps_for "$m")" -score-images "$(score_for "$m")" -infer-passes 2)
    peer_train=(--epochs 4 --steps "$(steps_for "$m")"); peer_infer=(--epochs 3 --images "$(score_for "$m")")
  fi
  for b in "${builds[@]}"; do
    env_core=()
    [ "$b" = openblas ] && [ "${cores[-1]}" = SkylakeX ] && env_core=(OPENBLAS_CORETYPE=SkylakeX)
    env "${env_core[@]}" "$out/bench-$b" -model "$m" -build "$b" -batch "$bs" -commit "$commit" "${ours_args[@]}" >> "$out/ours.jsonl"
  done
  if has_peer "$m" && $py -c 'import torch' 2>/dev/null; then
    for core in "${cores[@]}"; do
      for t in 1 2; do
        ce=(); [ "$core" != auto ] && ce=(OPENBLAS_CORETYPE="$core")
        load=$(cut -d' ' -f1-3 /proc/loadavg)
        # A setting that is far off the best (2 threads on a busy host spin
        # in OpenMP barriers) is cut off after peer_timeout seconds; the
        # repetitions it finished still count (-u: unbuffered lines).
        env "${ce[@]}" timeout "$peer_timeout" $py -u "$peer" --model "$m" --threads "$t" "${peer_train[@]}" | sed "s/^{/{\"core\": \"$core\", \"loadavg\": \"$load\", /" >> "$out/peer.jsonl" || true
        env "${ce[@]}" timeout "$peer_timeout" $py -u "$peer" --model "$m" --threads "$t" --infer "${peer_infer[@]}" | sed "s/^{/{\"core\": \"$core\", \"loadavg\": \"$load\", /" >> "$out/peer.jsonl" || true
      done
    done
  fi
done
peak

$py - "$out/ours.jsonl" "$out/peer.jsonl" "$commit" "$(( $(date +%s) - started ))" <<'PY'
import json, statistics, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
try:
    peer = [json.loads(l) for l in open(sys.argv[2])]
except FileNotFoundError:
    peer = []
commit, wall = sys.argv[3], int(sys.argv[4])
# The bound: the best peak GEMM rate of each build in this run.
peak = {}
for r in ours:
    if r["task"] == "peak":
        peak[r["build"]] = max(peak.get(r["build"], 0), r["gflop_per_s"])
ours = [r for r in ours if r["task"] in ("train", "infer")]
def peer_best(model, task):
    best = None
    for core in sorted({p.get("core") for p in peer}):
        for t in (1, 2):
            rows = [p for p in peer if p["model"] == model and p.get("core") == core and p["threads"] == t
                    and p.get("task", "train") == task]
            rows = rows[1:]  # the first epoch or pass warms up
            if not rows:
                continue
            s = statistics.median(r["seconds"] for r in rows)
            if best is None or s < best[0]:
                best = (s, t, core, rows[0].get("images"))
    return best
table = []
for r in ours:
    pb = peer_best(r["model"], r["task"])
    bound = peak.get(r["build"])
    r["peak_gflop_per_s"] = round(bound, 1) if bound else None
    # x bound: how many times the FLOP bound the measured time is.
    r["x_bound"] = round(bound / r["gflop_per_s"], 2) if bound and r.get("gflop_per_s") else None
    r["peer_seconds"] = round(pb[0], 3) if pb else None
    r["peer_threads"], r["peer_core"] = (pb[1], pb[2]) if pb else (None, None)
    if pb and pb[3] not in (None, r["images"]):
        r["peer_seconds"], pb = None, None  # not the same work
    r["ratio"] = round(r["seconds"] / pb[0], 3) if pb else None
    r["peer_gflop_per_s"] = round(r["gflop"] / pb[0], 2) if pb else None
    r["peer_x_bound"] = round(bound / r["peer_gflop_per_s"], 2) if pb and bound else None
    r["seconds"] = round(r["seconds"], 3)
    r["images_per_s"] = round(r["images_per_s"])
    r["gflop_per_s"] = round(r["gflop_per_s"], 2)
    if r["task"] == "train" and len(r.get("epoch_seconds", [])) >= 10:
        e = r["epoch_seconds"]
        r["epoch10_over_epoch2"] = round(e[9] / e[1], 3)
        # The same question asked of three epochs each side, which one noisy
        # epoch on a shared host cannot answer alone.
        r["late_over_early"] = round(statistics.median(e[7:10]) / statistics.median(e[1:4]), 3)
        sm = r.get("step_median_ms", [])
        if len(sm) >= 10:
            r["step_median_epoch10_over_epoch2"] = round(sm[9] / sm[1], 3)
    print(json.dumps(r))
    table.append(r)
print()
cpu = table[0]["cpu"] if table else "?"
print(f"commit {commit}, {cpu}, bench wall {wall} s; peak GEMM GFLOP/s: "
      + ", ".join(f"{b} {v:.1f}" for b, v in peak.items()))
print(f"{'build':9} {'model':9} {'task':6} {'images':>6} {'seconds':>8} {'images/s':>9} {'GFLOP/s':>8} {'x bound':>7} "
      f"{'rss MB':>7} {'peer s':>8} {'peer xb':>7} {'ratio':>6}  load / peer")
dash = lambda v, f: "-" if v is None else format(v, f)
for r in table:
    print(f"{r['build']:9} {r['model']:9} {r['task']:6} {r['images']:6d} {r['seconds']:8.3f} {r['images_per_s']:9d} {r['gflop_per_s']:8.2f} "
          f"{dash(r['x_bound'], '.2f'):>7} {r['peak_rss_mb']:7.0f} {dash(r['peer_seconds'], '.3f'):>8} "
          f"{dash(r['peer_x_bound'], '.2f'):>7} {dash(r['ratio'], '.2f'):>6}  {r['loadavg']} / torch t{r['peer_threads']} core={r['peer_core']}")
    if "epoch10_over_epoch2" in r:
        print(f"{'':9} {'':9} subnormal check: epoch 10 / epoch 2 = {r['epoch10_over_epoch2']:.3f} (must stay below 1.10); "
              f"median of epochs 8-10 / median of 2-4 = {r['late_over_early']:.3f}; "
              f"median step of epoch 10 / of epoch 2 = {r.get('step_median_epoch10_over_epoch2', float('nan')):.3f}")
PY
