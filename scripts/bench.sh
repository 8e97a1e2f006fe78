#!/usr/bin/env bash
# One command that races hourglass against the PyTorch peer on this CPU, in
# one run (machines differ; only ratios measured together mean anything).
#
#   scripts/bench.sh                 # deep, conv and vae
#   scripts/bench.sh deep vae        # a subset
#
# For each build that exists here (purego: the default; openblas: -tags
# openblas, when Debian's libopenblas-dev is installed) and each model it
# times steady-state training epochs (median after a warm-up epoch) and
# scoring throughput (batch 1024), then runs ../shared/bench/pytorch_epoch.py
# with 1 and 2 threads and keeps the faster. Prints one JSON line per
# measurement and a table at the end. Needs: dataset-fashion-mnist,
# python3-torch, python3-numpy (installed here with apt-get when missing and
# running as root); libopenblas-dev for the openblas build.
set -euo pipefail
cd "$(dirname "$0")/.."
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(deep conv vae)
peer=../shared/bench/pytorch_epoch.py
py=/usr/bin/python3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

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

epochs_for() { case "$1" in deep) echo 11 ;; *) echo 4 ;; esac; }

for m in "${models[@]}"; do
  for b in "${builds[@]}"; do
    env_core=()
    [ "$b" = openblas ] && [ "${cores[-1]}" = SkylakeX ] && env_core=(OPENBLAS_CORETYPE=SkylakeX)
    env "${env_core[@]}" "$out/bench-$b" -model "$m" -build "$b" -epochs "$(epochs_for "$m")" \
      -batch "$( [ "$m" = deep ] && echo 256 || echo 128 )" >> "$out/ours.jsonl"
  done
  if [ -f "$peer" ] && $py -c 'import torch' 2>/dev/null; then
    for core in "${cores[@]}"; do
      for t in 1 2; do
        ce=(); [ "$core" != auto ] && ce=(OPENBLAS_CORETYPE="$core")
        env "${ce[@]}" $py "$peer" --model "$m" --threads "$t" --epochs 4 | sed "s/^{/{\"core\": \"$core\", /" >> "$out/peer.jsonl" || true
        env "${ce[@]}" $py "$peer" --model "$m" --threads "$t" --epochs 3 --infer | sed "s/^{/{\"core\": \"$core\", /" >> "$out/peer.jsonl" || true
      done
    done
  fi
done

$py - "$out/ours.jsonl" "$out/peer.jsonl" <<'PY'
import json, statistics, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
try:
    peer = [json.loads(l) for l in open(sys.argv[2])]
except FileNotFoundError:
    peer = []
def peer_best(model, task):
    best = None
    for core in sorted({p.get("core") for p in peer}):
        for t in (1, 2):
            rows = [p for p in peer if p["model"] == model and p.get("core") == core and p["threads"] == t
                    and p.get("task", "train") == task]
            if task == "train":
                rows = rows[1:]  # the first epoch warms up
            if not rows:
                continue
            s = statistics.median(r["seconds"] for r in rows)
            if best is None or s < best[0]:
                best = (s, t, core)
    return best
table = []
for r in ours:
    pb = peer_best(r["model"], r["task"])
    r["peer_seconds"] = round(pb[0], 3) if pb else None
    r["peer_threads"], r["peer_core"] = (pb[1], pb[2]) if pb else (None, None)
    r["ratio"] = round(r["seconds"] / pb[0], 3) if pb else None
    r["seconds"] = round(r["seconds"], 3)
    r["images_per_s"] = round(r["images_per_s"])
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
print(f"{'build':9} {'model':6} {'task':6} {'seconds':>8} {'images/s':>10} {'rss MB':>7} {'peer s':>8} {'ratio':>6}  kernel / peer")
for r in table:
    ps = "-" if r["peer_seconds"] is None else f"{r['peer_seconds']:.3f}"
    ra = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
    print(f"{r['build']:9} {r['model']:6} {r['task']:6} {r['seconds']:8.3f} {r['images_per_s']:10d} {r['peak_rss_mb']:7.0f} {ps:>8} {ra:>6}  {r['blas_core']} / torch t{r['peer_threads']} core={r['peer_core']}")
    if "epoch10_over_epoch2" in r:
        print(f"{'':9} {'':6} subnormal check: epoch 10 / epoch 2 = {r['epoch10_over_epoch2']:.3f} (must stay below 1.10); "
              f"median of epochs 8-10 / median of 2-4 = {r['late_over_early']:.3f}; "
              f"median step of epoch 10 / of epoch 2 = {r.get('step_median_epoch10_over_epoch2', float('nan')):.3f}")
PY
