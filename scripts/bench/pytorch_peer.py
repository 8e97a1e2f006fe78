#!/usr/bin/python3
"""Peer timing: training epochs (or a fixed number of steps) and scoring of the
reference autoencoders in PyTorch (CPU).

A copy of ../shared/bench/pytorch_epoch.py with --steps (time that many
training steps per repetition instead of full epochs, after one warm-up
repetition, as scripts/bench does) and --images (score only that many images
per pass), so that scripts/bench.sh finishes in minutes; without them it
behaves as the original.

Needs Debian's python3-torch and python3-numpy (apt-get install -y python3-torch
python3-numpy); run it with /usr/bin/python3. Reads Fashion-MNIST from
/usr/share/datasets/fashion-mnist (apt-get install -y dataset-fashion-mnist).

    /usr/bin/python3 ../shared/bench/pytorch_epoch.py --model deep --threads 1
    /usr/bin/python3 ../shared/bench/pytorch_epoch.py --model conv --threads 1 --epochs 1
    /usr/bin/python3 ../shared/bench/pytorch_epoch.py --model vae --threads 2 --epochs 3
    /usr/bin/python3 ../shared/bench/pytorch_epoch.py --model deep --infer   # scoring images/s

Prints one JSON object per epoch. Run it in the same session as the hourglass
benchmark and compare the two as a ratio: absolute times drift between machines.

Denormals: with PyTorch's default settings the deep model's epochs slow down about
2x from the second epoch on, because Adam's first moment of parameters whose
gradient stays zero (dead ReLU units) decays by 0.9 a step into the subnormal range,
where every multiply costs ~100 cycles. We race PyTorch at its best, so this script
flushes subnormals to zero (torch.set_flush_denormal) unless --keep-denormals.
"""
import argparse, gzip, json, struct, time

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def load_images(path):
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, "not an IDX image file"
        x = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8)
    return torch.from_numpy(x.reshape(n, rows * cols).astype(np.float32) / 255.0)


def deep():
    dims = [784, 128, 64, 32, 64, 128, 784]
    layers = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        layers.append(nn.ReLU() if i < len(dims) - 2 else nn.Sigmoid())
    return nn.Sequential(*layers), 256


def conv():
    enc = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(3136, 32))
    dec = nn.Sequential(
        nn.Linear(32, 3136), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(32, 1, 3, padding=1),
        nn.Flatten(), nn.Sigmoid())
    return nn.Sequential(enc, dec), 128


class VAE(nn.Module):
    """pytorch/examples' VAE: 784-400-(20, 20), 20-400-784, BCE summed + KL."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def reconstruct(self, x):
        h = torch.relu(self.fc1(x))
        return torch.sigmoid(self.fc4(torch.relu(self.fc3(self.fc21(h)))))

    def loss(self, x):
        h = torch.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        out = torch.sigmoid(self.fc4(torch.relu(self.fc3(z))))
        bce = nn.functional.binary_cross_entropy(out, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (bce + kl) / x.shape[0]


def vae():
    return VAE(), 128


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["deep", "conv", "vae"], default="deep")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--infer", action="store_true",
                    help="time scoring instead: images/s through the model without gradients, batch 1024")
    ap.add_argument("--steps", type=int, default=0,
                    help="training steps per repetition (0: full epochs); each repetition is one JSON line")
    ap.add_argument("--images", type=int, default=0,
                    help="with --infer: images per scoring pass (0: all 60,000)")
    ap.add_argument("--keep-denormals", action="store_true",
                    help="PyTorch's default; slower from the second epoch on")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    flush = bool(torch.set_flush_denormal(not args.keep_denormals)) and not args.keep_denormals
    torch.manual_seed(0)
    x = load_images(DATA)
    model, bs = {"deep": deep, "conv": conv, "vae": vae}[args.model]()
    loss_of = model.loss if args.model == "vae" else (lambda xb: ((model(xb) - xb) ** 2).mean())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = x.shape[0]
    if args.infer and args.images > 0:
        n = min(n, args.images)
    if not args.infer and args.steps > 0:
        n = min(n, args.steps * bs)  # the first steps·batch images, reshuffled each repetition
        x = x[:n].contiguous()
    if args.infer:
        fwd = model.reconstruct if args.model == "vae" else model
        with torch.no_grad():
            for rep in range(args.epochs):
                t = time.perf_counter()
                for i in range(0, n, 1024):
                    fwd(x[i:i + 1024])
                s = time.perf_counter() - t
                print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "model": args.model,
                                  "threads": args.threads, "flush_denormal": flush, "task": "infer",
                                  "batch": 1024, "rep": rep, "images": n, "seconds": round(s, 3),
                                  "images_per_s": round(n / s)}))
        return
    for epoch in range(args.epochs):
        t = time.perf_counter()
        perm = torch.randperm(n)
        for i in range(0, n, bs):
            xb = x[perm[i:i + bs]]
            opt.zero_grad()
            loss = loss_of(xb)
            loss.backward()
            opt.step()
        print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "model": args.model,
                          "threads": args.threads, "flush_denormal": flush, "batch": bs, "epoch": epoch,
                          "steps": (n + bs - 1) // bs, "images": n,
                          "seconds": round(time.perf_counter() - t, 3), "loss": round(loss.item(), 5)}))


if __name__ == "__main__":
    main()
