#!/usr/bin/python3
"""PyTorch's reference for the VAE figure of docs/results.md.

pytorch/examples' VAE (vae/main.py) on Fashion-MNIST: 784-400-(20, 20),
20-400-784, ReLU, sigmoid output, loss = BCE summed over pixels + KL, summed
over the batch; Adam 1e-3, batch 128, shuffled, all 60,000 training images,
PyTorch's default initialisation. After the last epoch it prints the test
figure pytorch/examples' test() prints: the one-draw negative ELBO per test
image, in nats, averaged over the 10,000 test images.

    /usr/bin/python3 scripts/vae-peer.py --seed 1            # one JSON line
    /usr/bin/python3 scripts/vae-peer.py --seed 1 --epochs 10 --threads 2
    /usr/bin/python3 scripts/vae-peer.py --seed 1 --init-output-mean

--init-output-mean starts fc4's bias at the logit of the mean of the first
10,000 shuffled training images (clamped to [1e-3, 1-1e-3]), as hourglass
starts a new VAE run (train.Config.InitFromData), so both can be compared
with and without it.

Needs Debian's python3-torch and python3-numpy, and dataset-fashion-mnist.
"""
import argparse, json, os, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench"))
from pytorch_peer import load_images  # noqa: E402  (the bench peer's IDX reader)

DIR = "/usr/share/datasets/fashion-mnist/"


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def loss_function(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--init-output-mean", action="store_true")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    train = load_images(DIR + "train-images-idx3-ubyte.gz")
    test = load_images(DIR + "t10k-images-idx3-ubyte.gz")
    loader = torch.utils.data.DataLoader(train, batch_size=a.batch, shuffle=True)
    model = VAE()
    if a.init_output_mean:
        # Its own generator: the run draws the same weights and batches as without.
        first = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(a.seed))[:10000]]
        p = first.mean(0).clamp(1e-3, 1 - 1e-3)
        with torch.no_grad():
            model.fc4.bias.copy_(torch.log(p / (1 - p)))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    for _ in range(a.epochs):
        model.train()
        for x in loader:
            opt.zero_grad()
            recon, mu, logvar = model(x)
            loss = loss_function(recon, x, mu, logvar)
            loss.backward()
            opt.step()
    train_s = time.time() - start
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(test), a.batch):
            x = test[i:i + a.batch]
            recon, mu, logvar = model(x)
            total += loss_function(recon, x, mu, logvar).item()
    print(json.dumps({"peer": "pytorch", "model": "vae", "seed": a.seed, "epochs": a.epochs,
                      "batch": a.batch, "init_output_mean": a.init_output_mean, "train_images": len(train), "test_neg_elbo": total / len(test),
                      "train_seconds": round(train_s, 1), "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
