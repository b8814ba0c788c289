#!/usr/bin/env python3
"""DPQ (Deep Progressive Quantization, Gao et al. IJCAI 2019) -- PyTorch CPU reference.

Trains on the 5000 Fashion-MNIST training images only; evaluates mAP (R = all 64000)
of query float features vs database quantized reconstructions at 8/16/24/32 bits
(first m = 1..4 blocks of one model, K = 256), plus the float ceiling and the
two-step ablation (same network, CE only, then residual k-means on frozen features).

This is the script of the recipe exploration behind the engine's defaults (docs/benchmarks.md); its own defaults
are the exploration's best (D = 64, tau 0.01). Usage: OMP_NUM_THREADS=1 python3 bench/pytorch_dpq.py --seed 0
(needs torch and numpy from PyPI). Not yet wired into a side-by-side timing run (issue 5, item 4).
"""
import argparse, os, time, json
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

# The shared splits beside the checkout (tests and benchmarks may read them; the product does not).
DATA = os.environ.get("DPQ_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "fashion-mnist"))


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.uint8)
    d = int(raw[:4].view('<i4')[0])
    rec = 4 + d * np.dtype(dtype).itemsize
    return raw.reshape(-1, rec)[:, 4:].copy().view(np.dtype(dtype).newbyteorder('<')).reshape(-1, d)


def load():
    out = {}
    for s in ("train", "query", "database"):
        x = read_vecs(f"{DATA}/{s}.bvecs", np.uint8).astype(np.float32) / 255.0
        y = read_vecs(f"{DATA}/{s}_labels.ivecs", np.int32).reshape(-1).astype(np.int64)
        out[s] = (x, y)
    return out


# ---------------------------------------------------------------- evaluation
def mean_ap(q, qy, db, dby, metric="l2", bs=100):
    """mAP over the whole database. score(q, x) = -||q - x||^2 (l2) or <q, x> (ip)."""
    q = torch.from_numpy(np.ascontiguousarray(q, dtype=np.float32))
    db = torch.from_numpy(np.ascontiguousarray(db, dtype=np.float32))
    qy = torch.from_numpy(qy); dby = torch.from_numpy(dby)
    dbn = (db * db).sum(1)
    n = db.shape[0]
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    aps = []
    for i in range(0, q.shape[0], bs):
        qb = q[i:i + bs]
        s = qb @ db.T
        if metric == "l2":
            s = 2 * s - dbn[None, :]          # -||q-x||^2 + ||q||^2 (query const irrelevant)
        order = torch.argsort(s, dim=1, descending=True, stable=True)
        rel = (dby[order] == qy[i:i + bs, None]).double()
        cum = rel.cumsum(1)
        ap = (rel * cum / ranks).sum(1) / rel.sum(1).clamp(min=1)
        aps.append(ap)
    return float(torch.cat(aps).mean())


# ---------------------------------------------------------------- k-means
def kmeans(x, k, iters, gen):
    """Lloyd k-means, init = k distinct random points; empty clusters re-seeded with random points."""
    n = x.shape[0]
    c = x[torch.randperm(n, generator=gen)[:k]].clone()
    for _ in range(iters):
        d = (x * x).sum(1, keepdim=True) - 2 * x @ c.T + (c * c).sum(1)[None]
        a = d.argmin(1)
        cnt = torch.bincount(a, minlength=k).float()
        s = torch.zeros_like(c).index_add_(0, a, x)
        empty = cnt == 0
        c = torch.where(empty[:, None], c, s / cnt.clamp(min=1)[:, None])
        if empty.any():
            c[empty] = x[torch.randint(0, n, (int(empty.sum()),), generator=gen)]
    return c


def residual_kmeans(f, M, K, iters, gen):
    cbs = []
    r = f.clone()
    for m in range(M):
        c = kmeans(r, K, iters, gen)
        d = (r * r).sum(1, keepdim=True) - 2 * r @ c.T + (c * c).sum(1)[None]
        r = r - c[d.argmin(1)]
        cbs.append(c)
    return torch.stack(cbs)          # M x K x D


def encode(f, cb):
    """Hard residual encoding. Returns list of prefix reconstructions x_hat_m (m = 1..M)."""
    r = f.clone(); xh = torch.zeros_like(f); outs = []
    for m in range(cb.shape[0]):
        c = cb[m]
        d = (r * r).sum(1, keepdim=True) - 2 * r @ c.T + (c * c).sum(1)[None]
        h = c[d.argmin(1)]
        r = r - h; xh = xh + h
        outs.append(xh.clone())
    return outs


# ---------------------------------------------------------------- model
class Net(nn.Module):
    def __init__(self, din, hidden, D, C, dropout, head_on_feature, feat_scale):
        super().__init__()
        layers = []
        prev = din
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            prev = h
        self.trunk = nn.Sequential(*layers)
        self.feat = nn.Linear(prev, D)
        self.head_on_feature = head_on_feature
        self.cls = nn.Linear(D if head_on_feature else prev, C)
        self.fcls = self.cls if head_on_feature else nn.Linear(D, C)   # feature-space classifier
        self.feat_scale = feat_scale

    def forward(self, x):
        t = self.trunk(x)
        f = torch.tanh(self.feat(t))
        logits = self.fcls(self.feat_scale * f) if self.head_on_feature else self.cls(t)
        return f, logits

    def classify_feature(self, z):
        return self.fcls(self.feat_scale * z)


def quantize(f, cb, gamma):
    """Residual chain: hard prefixes H_m and soft prefixes S_m (soft from hard residual)."""
    r = f; H = 0; S = 0; Hs = []; Ss = []
    for m in range(cb.shape[0]):
        c = cb[m]
        d = (r * r).sum(1, keepdim=True) - 2 * r @ c.T + (c * c).sum(1)[None]
        idx = d.detach().argmin(1)
        h = c[idx]
        s = F.softmax(-gamma * d, dim=1) @ c
        r = r - h
        H = H + h; S = S + s
        Hs.append(H); Ss.append(S)
    return Hs, Ss


def embed(net, x, bs=4096):
    net.eval()
    with torch.no_grad():
        return torch.cat([net(x[i:i + bs])[0] for i in range(0, x.shape[0], bs)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hidden", type=str, default="1024,512")
    ap.add_argument("--D", type=int, default=64)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--in_drop", type=float, default=0.2, help="input dropout prob (train only)")
    ap.add_argument("--in_noise", type=float, default=0.0, help="gaussian input noise std on standardised input")
    ap.add_argument("--head_on_feature", type=int, default=1)
    ap.add_argument("--feat_scale", type=float, default=1.0)
    ap.add_argument("--label_smooth", type=float, default=0.0)
    ap.add_argument("--wd", type=float, default=0.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--e_cls", type=int, default=20)
    ap.add_argument("--e_joint", type=int, default=30)
    ap.add_argument("--sched", type=str, default="cosine", help="none|cosine (over all epochs)")
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--tau", type=float, default=0.01)
    ap.add_argument("--mu", type=float, default=1.0)
    ap.add_argument("--nu", type=float, default=0.1)
    ap.add_argument("--a_soft", type=float, default=0.0, help="CE weight on soft prefix reconstructions")
    ap.add_argument("--a_hard", type=float, default=0.0, help="CE weight on hard prefix reconstructions")
    ap.add_argument("--gamma0", type=float, default=1.0)
    ap.add_argument("--gamma1", type=float, default=10.0)
    ap.add_argument("--km_iters", type=int, default=20)
    ap.add_argument("--std_floor", type=float, default=0.1)
    ap.add_argument("--metric", type=str, default="ip")
    ap.add_argument("--two_step", type=int, default=1)
    ap.add_argument("--tag", type=str, default="")
    args = ap.parse_args()

    t0 = time.time()
    data = load()
    xtr, ytr = data["train"]; xq, yq = data["query"]; xdb, ydb = data["database"]
    mean = xtr.mean(0); std = xtr.std(0)
    std = np.maximum(std, args.std_floor * std.mean())
    norm = lambda x: torch.from_numpy((x - mean) / std)
    Xtr, Xq, Xdb = norm(xtr), norm(xq), norm(xdb)
    Ytr = torch.from_numpy(ytr)
    C = 10; M, K = 4, 256
    hidden = [int(h) for h in args.hidden.split(",") if h]

    def run(joint):
        torch.manual_seed(args.seed)
        gen = torch.Generator().manual_seed(args.seed + 1000)
        net = Net(784, hidden, args.D, C, args.dropout, bool(args.head_on_feature), args.feat_scale)
        cb = nn.Parameter(torch.zeros(M, K, args.D))
        params = list(net.parameters())
        opt = torch.optim.Adam([{"params": params, "weight_decay": args.wd}, {"params": [cb]}], lr=args.lr)
        total = args.e_cls + args.e_joint
        steps_per = (Xtr.shape[0] + args.bs - 1) // args.bs
        sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, total * steps_per)
                 if args.sched == "cosine" else None)
        n = Xtr.shape[0]
        for ep in range(total):
            in_joint = joint and ep >= args.e_cls
            if joint and ep == args.e_cls:
                with torch.no_grad():
                    cb.data.copy_(residual_kmeans(embed(net, Xtr), M, K, args.km_iters, gen))
                # fresh Adam state for codebooks is implicit (zero grads before)
            if in_joint:
                frac = (ep - args.e_cls) / max(1, args.e_joint - 1)
                gamma = args.gamma0 * (args.gamma1 / args.gamma0) ** frac
            net.train()
            perm = torch.randperm(n, generator=gen)
            for i in range(0, n, args.bs):
                idx = perm[i:i + args.bs]
                xb = Xtr[idx]; yb = Ytr[idx]
                if args.in_drop > 0:
                    xb = xb * (torch.rand(xb.shape, generator=gen) >= args.in_drop).float() / (1 - args.in_drop)
                if args.in_noise > 0:
                    xb = xb + args.in_noise * torch.randn(xb.shape, generator=gen)
                f, logits = net(xb)
                loss = args.lam * F.cross_entropy(logits, yb, label_smoothing=args.label_smooth)
                if in_joint:
                    Hs, Ss = quantize(f, cb, gamma)
                    lq = 0
                    for m in range(M):
                        lq = lq + ((f - Ss[m]) ** 2).sum(1).mean() + args.mu * ((f - Hs[m]) ** 2).sum(1).mean()
                    lq = lq + args.nu * ((Ss[-1] - Hs[-1]) ** 2).sum(1).mean()
                    loss = loss + args.tau * lq
                    for m in range(M):
                        if args.a_soft > 0:
                            loss = loss + args.a_soft * F.cross_entropy(net.classify_feature(Ss[m]), yb, label_smoothing=args.label_smooth)
                        if args.a_hard > 0:
                            loss = loss + args.a_hard * F.cross_entropy(net.classify_feature(Hs[m]), yb, label_smoothing=args.label_smooth)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if sched: sched.step()
        return net, cb.detach(), gen

    res = {"args": vars(args)}
    # ---- DPQ
    t1 = time.time()
    net, cb, gen = run(joint=True)
    ttrain = time.time() - t1
    fq = embed(net, Xq); fdb = embed(net, Xdb)
    with torch.no_grad():
        acc = float((net.classify_feature(fq).argmax(1) == torch.from_numpy(yq)).float().mean()) if args.head_on_feature else float((net(Xq)[1].argmax(1) == torch.from_numpy(yq)).float().mean())
    xh = encode(fdb, cb)
    res["dpq"] = [mean_ap(fq.numpy(), yq, x.numpy(), ydb, args.metric) for x in xh]
    res["dpq_float"] = mean_ap(fq.numpy(), yq, fdb.numpy(), ydb, args.metric)
    res["dpq_acc"] = acc
    res["train_s"] = ttrain
    print(f"[{args.tag} seed {args.seed}] DPQ acc {acc:.4f} float {res['dpq_float']:.4f} "
          f"8/16/24/32: " + " ".join(f"{v:.4f}" for v in res["dpq"]) + f"  (train {ttrain:.0f}s)", flush=True)
    # ---- two-step ablation
    if args.two_step:
        net2, _, gen2 = run(joint=False)
        f2tr = embed(net2, Xtr); f2q = embed(net2, Xq); f2db = embed(net2, Xdb)
        cb2 = residual_kmeans(f2tr, M, K, args.km_iters, gen2)
        xh2 = encode(f2db, cb2)
        res["two_step"] = [mean_ap(f2q.numpy(), yq, x.numpy(), ydb, args.metric) for x in xh2]
        res["two_step_float"] = mean_ap(f2q.numpy(), yq, f2db.numpy(), ydb, args.metric)
        print(f"[{args.tag} seed {args.seed}] two-step float {res['two_step_float']:.4f} "
              f"8/16/24/32: " + " ".join(f"{v:.4f}" for v in res["two_step"]), flush=True)
    res["total_s"] = time.time() - t0
    print("RESULT " + json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
