#!/usr/bin/python3
"""Tabular anomaly-detection benchmark: hourglass beside scikit-learn.

    scripts/bench-tables.py                      # every dataset, 5 seeds
    scripts/bench-tables.py --seeds 3 --sets wine,iris
    scripts/bench-tables.py --markdown docs/tables.md
    scripts/bench-tables.py --seeds 3 --hourglass-flags "-hidden {max(32,2*d)},{max(16,d)}"

Data is generated here or ships with Debian (scikit-learn's bundled wine,
iris and breast-cancer tables; nothing is downloaded). Protocol, per data
set and seed: the normal rows are split 70/30; every detector is fitted on
the 70% (clean normal data, the semi-supervised setting of PyOD's
benchmarks), then scores the 30% plus the anomalies; AUROC and AUPRC of
those scores against the known labels. Detectors:

  hourglass   `hourglass train` with its defaults on train.csv, then
              `hourglass eval -task anomaly -anomaly-label 1` on test.csv
  iforest     sklearn IsolationForest(random_state=seed)
  ocsvm       sklearn OneClassSVM(gamma="scale", nu=0.1) on standardised data
  pca         reconstruction error of sklearn PCA on standardised data, with
              as many components as hourglass's default code (ceil(d/4))
  torch-ae    a PyTorch autoencoder of the same shape (only when
              python3-torch is installed)

Needs python3-sklearn and python3-numpy (Debian), and Go to build hourglass.
"""
import argparse
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from sklearn import datasets
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def synthetic(kind, seed, n=600, d=12, k=3, n_anom=30):
    """Rows near a k-dimensional linear subspace with noise, plus anomalies
    of one kind: global (one or two columns pushed 20-50% of their range
    outside it), local (normal rows with three columns redrawn from those
    columns' own values: every value is ordinary, their combination is not)
    or cluster (a tight group near the data's centre, off the subspace)."""
    rng = np.random.default_rng(1000 + seed)
    w = rng.normal(size=(k, d))
    x = rng.normal(size=(n + n_anom, k)) @ w + 0.3 * rng.normal(size=(n + n_anom, d)) + rng.uniform(-5, 5, size=d)
    x, a = x[:n], x[n:].copy()
    lo, hi = x.min(0), x.max(0)
    for i in range(n_anom):
        if kind == "global":
            cols = rng.choice(d, rng.integers(1, 3), replace=False)
            side = rng.choice([-1, 1], size=len(cols))
            a[i, cols] = np.where(side > 0, hi[cols], lo[cols]) + side * rng.uniform(0.2, 0.5, size=len(cols)) * (hi - lo)[cols]
        elif kind == "local":
            cols = rng.choice(d, 3, replace=False)
            a[i, cols] = x[rng.integers(0, n, size=3), cols]
    if kind == "cluster":
        centre = x.mean(0) + 0.5 * x.std(0) * rng.choice([-1, 1], size=d)
        a = centre + 0.05 * (hi - lo) * rng.normal(size=(n_anom, d))
    return x, a


def real(name):
    """A bundled scikit-learn table: one class is normal, the others are
    the anomalies (subsampled to 10% of the normal count per seed)."""
    if name == "wine":
        b = datasets.load_wine()
        normal = 1  # the largest class (71 rows)
    elif name == "iris":
        b = datasets.load_iris()
        normal = 0
    else:
        b = datasets.load_breast_cancer()
        normal = 1  # benign
    return b.data[b.target == normal], b.data[b.target != normal]


def split(seed, x, a, anom_frac=None):
    rng = np.random.default_rng(seed)
    x = x[rng.permutation(len(x))]
    n_train = int(round(0.7 * len(x)))
    train, test_n = x[:n_train], x[n_train:]
    if anom_frac is not None:
        m = max(3, int(round(anom_frac * len(x))))
        a = a[rng.choice(len(a), min(m, len(a)), replace=False)]
    test = np.vstack([test_n, a])
    y = np.r_[np.zeros(len(test_n)), np.ones(len(a))]
    return train, test, y


def write_csv(path, x, y=None):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        head = [f"x{j}" for j in range(x.shape[1])]
        w.writerow(head + (["label"] if y is not None else []))
        for i, row in enumerate(x):
            cells = [f"{v:.6g}" for v in row]
            if y is not None:
                cells.append(str(int(y[i])))
            w.writerow(cells)


def expand(flags, train):
    """Fills {expression} in the hourglass flags, an integer expression of d
    (the table's width) and n (the rows hourglass trains on: the training
    set less its validation tenth), so that one rule can size every table."""
    env = {"d": train.shape[1], "n": len(train) - round(0.1 * len(train)),
           "max": max, "min": min, "ceil": math.ceil}
    return [re.sub(r"\{([^}]*)\}", lambda m: str(int(eval(m.group(1), {"__builtins__": {}}, env))), f) for f in flags]


def hourglass(binary, work, train, test, y, seed, extra):
    extra = expand(extra, train)
    write_csv(os.path.join(work, "train.csv"), train)
    write_csv(os.path.join(work, "test.csv"), test, y)
    run = os.path.join(work, "run")
    subprocess.run([binary, "train", "-data", os.path.join(work, "train.csv"), "-seed", str(seed),
                    "-out", run, "-no-pca", "-json"] + extra,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run([binary, "eval", "-checkpoint", os.path.join(run, "best.safetensors"),
                          "-data", os.path.join(work, "test.csv"), "-task", "anomaly",
                          "-anomaly-label", "1", "-out", os.path.join(work, "eval"), "-json"],
                         check=True, capture_output=True, text=True)
    s = json.loads(out.stdout)
    return s["auroc"], s["auprc"]


def baselines(train, test, y, seed):
    out = {}
    sc = StandardScaler().fit(train)
    tr, te = sc.transform(train), sc.transform(test)
    f = IsolationForest(random_state=seed).fit(train)
    s = -f.score_samples(test)
    out["iforest"] = (roc_auc_score(y, s), average_precision_score(y, s))
    o = OneClassSVM(gamma="scale", nu=0.1).fit(tr)
    s = -o.score_samples(te)
    out["ocsvm"] = (roc_auc_score(y, s), average_precision_score(y, s))
    k = max(1, min(train.shape[1] - 1, math.ceil(train.shape[1] / 4)))
    p = PCA(n_components=k, random_state=seed).fit(tr)
    s = ((te - p.inverse_transform(p.transform(te))) ** 2).mean(1)
    out["pca"] = (roc_auc_score(y, s), average_precision_score(y, s))
    ae = torch_ae(tr, te, seed, k)
    if ae is not None:
        out["torch-ae"] = (roc_auc_score(y, ae), average_precision_score(y, ae))
    return out


def torch_ae(tr, te, seed, k):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(seed)
    d = tr.shape[1]
    # hourglass's default shape (models.TabularShape) for the rows it
    # trains on, the training set less its validation tenth.
    n = len(tr) - round(0.1 * len(tr))
    h1 = max(k + 1, (2 * d + 2) // 3, min(max(32, 2 * d), 256, n // 4))
    h2 = max(k + 1, (h1 + k + 1) // 2)
    layers = [d, h1] + ([h2] if h2 < h1 else []) + [k]
    enc, dec = [], []
    for a, b in zip(layers, layers[1:]):
        enc += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    enc = enc[:-1]
    rev = layers[::-1]
    for a, b in zip(rev, rev[1:]):
        dec += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    dec = dec[:-1]
    net = torch.nn.Sequential(*enc, *dec)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    x = torch.tensor(tr, dtype=torch.float32)
    for _ in range(200):
        for idx in torch.randperm(len(x)).split(32):
            opt.zero_grad()
            loss = ((net(x[idx]) - x[idx]) ** 2).mean()
            loss.backward()
            opt.step()
    with torch.no_grad():
        t = torch.tensor(te, dtype=torch.float32)
        return ((net(t) - t) ** 2).mean(1).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sets", default="synth-global,synth-local,synth-cluster,wine,iris,breast-cancer")
    ap.add_argument("--hourglass-flags", default="", help="extra flags for hourglass train, e.g. '-epochs 100'; "
                    "{expression} of d (width) and n (training rows) is filled per table, e.g. '-hidden {max(32,2*d)}'")
    ap.add_argument("--markdown", help="also write the table to this file")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench-tables-")
    binary = os.path.join(work, "hourglass")
    subprocess.run(["go", "build", "-o", binary, "./cmd/hourglass"], cwd=ROOT, check=True)
    extra = args.hourglass_flags.split()
    methods = ["hourglass", "iforest", "ocsvm", "pca"]
    rows = {}
    for name in args.sets.split(","):
        res = {}
        for seed in range(1, args.seeds + 1):
            if name.startswith("synth-"):
                x, a = synthetic(name[len("synth-"):], seed)
                train, test, y = split(seed, x, a)
            else:
                x, a = real(name)
                train, test, y = split(seed, x, a, anom_frac=0.1)
            d = os.path.join(work, f"{name}-{seed}")
            os.makedirs(d)
            res.setdefault("hourglass", []).append(hourglass(binary, d, train, test, y, seed, extra))
            for m, v in baselines(train, test, y, seed).items():
                if m not in methods:
                    methods.append(m)
                res.setdefault(m, []).append(v)
        rows[name] = (res, train.shape, len(test), int(y.sum()))
        line = {m: round(float(np.mean([v[0] for v in res[m]])), 4) for m in res}
        print(json.dumps({"set": name, "mean_auroc": line}), flush=True)
    table = render(rows, methods, args)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)


def render(rows, methods, args):
    out = [f"AUROC and AUPRC, mean ± standard deviation over {args.seeds} seeds "
           f"(hourglass flags: `{args.hourglass_flags or 'defaults'}`)", "",
           "| data | train rows × features | test rows (anomalies) | " + " | ".join(methods) + " |",
           "|---|---|---|" + "---|" * len(methods)]
    means = {m: [] for m in methods}
    for i, metric in enumerate(["AUROC", "AUPRC"]):
        for name, (res, shape, n_test, n_anom) in rows.items():
            cells = []
            for m in methods:
                v = [r[i] for r in res.get(m, [])]
                if not v:
                    cells.append("–")
                    continue
                if i == 0:
                    means[m].append(np.mean(v))
                best = max(np.mean([r[i] for r in res[o]]) for o in res)
                c = f"{np.mean(v):.3f} ± {np.std(v):.3f}"
                cells.append(f"**{c}**" if np.mean(v) == best else c)
            out.append(f"| {name} ({metric}) | {shape[0]} × {shape[1]} | {n_test} ({n_anom}) | " + " | ".join(cells) + " |")
    out.append("| **mean AUROC** | | | " + " | ".join(f"{np.mean(means[m]):.3f}" if means[m] else "–" for m in methods) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
