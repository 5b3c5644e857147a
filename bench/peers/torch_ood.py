#!/usr/bin/python3
"""PyTorch peer for npm run bench:ood: the same MLP VAE as `vae train`'s default (784-400-20,
Bernoulli, Adam 1e-3, batch 128, 10 epochs on Fashion-MNIST's 60,000 training images), built with the
network classes of ../shared/peers/torch_vae_speed.py, then its raw likelihood as an anomaly score:
-log p(x) by importance sampling (K draws of q(z|x)) on two sets of images the benchmark wrote as raw
float32 files (N x 784, values in [0, 1]). Prints one JSON line: the AUROC of -log p(x) with the
second set as the positive class, and the mean scores.
Usage: torch_ood.py IN.f32 OOD.f32 [--epochs 10] [--samples 64] [--seed 0] [--threads 2]"""
import argparse, json, os, sys
import numpy as np
import torch, torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared', 'peers'))
from torch_vae_speed import Mlp, idx, neg_elbo  # noqa: E402

def nll(m, x, k, gen):
    """-log p(x) per example by importance sampling with k draws of q(z|x)."""
    out = []
    for j in range(0, x.shape[0], 200):
        xb = x[j:j + 200]; h = m.enc(xb); mu, lv = h[:, :m.l], h[:, m.l:]
        eps = torch.randn((k, *mu.shape), generator=gen)
        z = mu + torch.exp(0.5 * lv) * eps
        logits = m.decode(z.reshape(-1, m.l)).reshape(k, xb.shape[0], -1)
        logpx = -F.binary_cross_entropy_with_logits(logits, xb.flatten(1).expand(k, -1, -1), reduction='none').sum(2)
        logpz = -0.5 * (z ** 2).sum(2); logq = -0.5 * (eps ** 2 + lv).sum(2)
        out.append(-(torch.logsumexp(logpx + logpz - logq, 0) - np.log(k)))
    return torch.cat(out).numpy()

def auroc(a, b):
    x = np.concatenate([a, b]); order = x.argsort(kind='mergesort'); ranks = np.empty(len(x)); ranks[order] = np.arange(1, len(x) + 1)
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inv]  # tied values share their average rank
    return (ranks[len(a):].sum() - len(b) * (len(b) + 1) / 2) / (len(a) * len(b))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('inset'); ap.add_argument('oodset')
    ap.add_argument('--data', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--samples', type=int, default=64)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(a.seed)
    tr = torch.tensor(idx(os.path.join(a.data, 'train-images-idx3-ubyte.gz')).reshape(-1, 1, 28, 28) / 255., dtype=torch.float32)
    m = Mlp((1, 28, 28), 20, (400,)); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    for _ in range(a.epochs):
        m.train(); perm = torch.randperm(tr.shape[0])
        for i in range(0, tr.shape[0], 128):
            loss = neg_elbo(m, tr[perm[i:i + 128]]).mean(); opt.zero_grad(); loss.backward(); opt.step()
    m.eval(); gen = torch.Generator().manual_seed(a.seed)
    load = lambda p: torch.tensor(np.fromfile(p, dtype=np.float32).reshape(-1, 1, 28, 28))
    with torch.no_grad():
        s_in = nll(m, load(a.inset), a.samples, gen); s_ood = nll(m, load(a.oodset), a.samples, gen)
    print(json.dumps({'auroc': auroc(s_in, s_ood), 'in_mean': float(s_in.mean()), 'ood_mean': float(s_ood.mean()),
                      'n_in': len(s_in), 'n_ood': len(s_ood), 'samples': a.samples, 'epochs': a.epochs}), flush=True)

if __name__ == '__main__':
    main()
