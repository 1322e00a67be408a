#!/usr/bin/python3
"""The PyTorch side of the side-by-side bench (bench/torch.bench.ts, issue 14).

Runs one named workload of issue 14's table at one thread, on tensors the
TypeScript runner wrote (so both sides start from the same inputs and
weights), and prints JSON lines on stdout:

- first, once: {"ready": true, "torch": version, "threads": n, "check": {...}},
  where "check" holds what the runner compares with Stratum: the relative
  difference of the output from Stratum's (forward workloads), the loss at
  step 0 and after one SGD update (training steps), or the loss and the
  gradient norms (forward + backward workloads);
- then, with --serve, one line {"ms": [...]} per "run N" line read on
  stdin (N steps, each timed on its own with time.perf_counter, every step
  reading a value back), until "quit" or end of input; without --serve,
  one such line for --iterations steps.

Workloads (layouts: the files hold Stratum's NHWC images, HWIO filters and
[in, out] weights; this script converts them once, before any timing):

  matmul          1024 x 1024 x 1024 float32, torch.mm
  conv-nchw       conv 3x3 'same', 32 x 14 x 14 x 32 -> 64, forward, NCHW
  conv-cl         the same in channels-last memory format
  gelu            gelu_tanh(x * a + b), x [4096, 1024], a and b [1024]
  mlp             784-512-256-10 relu MLP, batch 128, mean cross-entropy, SGD step lr 0.01
  cnn-nchw        conv32-relu-pool-conv64-relu-pool-dense, 28x28x1, batch 64, SGD step, NCHW
  cnn-cl          the same in channels-last memory format
  lstm            nn.LSTM 64 -> 128, seq 32, batch 32, forward + backward of mean(h^2)
  transformer     pre-norm encoder block, d 128, 4 heads, ff 512 (gelu tanh), seq 64,
                  batch 8, forward + backward of mean(y^2)

Run it with /usr/bin/python3 and OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
(the runner sets both; this script also calls torch.set_num_threads(1)), or
with --threads N and the same variables at N (the runner then also sets
OMP_WAIT_POLICY=PASSIVE, so that idle OpenMP threads sleep).
Usage: workloads.py WORKLOAD DATA_PREFIX [--threads N] [--serve | --iterations N]
"""

import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

LR = 0.01


def load(prefix):
    """The tensors of PREFIX.json (names, dtypes, shapes, byte offsets) read from PREFIX.bin."""
    with open(prefix + ".json", encoding="utf-8") as f:
        manifest = json.load(f)
    raw = np.fromfile(prefix + ".bin", dtype=np.uint8)
    out = {}
    for name, t in manifest["tensors"].items():
        dtype = np.float32 if t["dtype"] == "float32" else np.int32
        count = math.prod(t["shape"])
        array = np.frombuffer(raw, dtype=dtype, count=count, offset=t["offset"]).reshape(t["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out


def relative_difference(got, want):
    """The largest |got - want| relative to the largest |want| (as bench/support/measure.ts)."""
    scale = want.abs().max().item()
    return (got - want).abs().max().item() / (scale or 1.0)


def nchw(x, channels_last):
    """An NHWC tensor as NCHW, optionally in channels-last memory format."""
    y = x.permute(0, 3, 1, 2).contiguous()
    return y.contiguous(memory_format=torch.channels_last) if channels_last else y


def oihw(w, channels_last):
    """An HWIO filter as OIHW, optionally in channels-last memory format."""
    y = w.permute(3, 2, 0, 1).contiguous()
    return y.contiguous(memory_format=torch.channels_last) if channels_last else y


def linear_weight(w):
    """A [in, out] weight as the [out, in] leaf F.linear takes."""
    return w.t().contiguous().requires_grad_()


def leaf(t):
    return t.clone().requires_grad_()


# ---------------------------------------------------------------------------
# Forward workloads: the check is the output's difference from Stratum's
# ---------------------------------------------------------------------------


def matmul(d, _variant):
    a, b = d["a"], d["b"]
    check = {"outputDifference": relative_difference(torch.mm(a, b), d["expect"])}
    return check, lambda: torch.mm(a, b)[0, 0].item()


def conv(d, variant):
    cl = variant == "cl"
    x, w = nchw(d["x"], cl), oihw(d["w"], cl)
    out = F.conv2d(x, w, padding=1)
    check = {"outputDifference": relative_difference(out.permute(0, 2, 3, 1), d["expect"])}
    return check, lambda: F.conv2d(x, w, padding=1)[0, 0, 0, 0].item()


def gelu(d, _variant):
    x, a, b = d["x"], d["a"], d["b"]
    run = lambda: F.gelu(x * a + b, approximate="tanh")
    check = {"outputDifference": relative_difference(run(), d["expect"])}
    return check, lambda: run()[0, 0].item()


# ---------------------------------------------------------------------------
# Training steps: loss, gradient, SGD update; the check is the loss at
# step 0 and the loss after that first update
# ---------------------------------------------------------------------------


def sgd_workload(params, loss_fn):
    """A step function (zero the gradients, loss, backward, SGD) and its check."""
    opt = torch.optim.SGD(params, lr=LR)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.item()

    loss0 = step()
    with torch.no_grad():
        loss1 = loss_fn().item()
    return {"loss0": loss0, "loss1": loss1}, step


def mlp(d, _variant):
    w1, w2, w3 = linear_weight(d["w1"]), linear_weight(d["w2"]), linear_weight(d["w3"])
    b1, b2, b3 = leaf(d["b1"]), leaf(d["b2"]), leaf(d["b3"])
    x, y = d["x"], d["y"].long()

    def loss_fn():
        h = F.relu(F.linear(x, w1, b1))
        h = F.relu(F.linear(h, w2, b2))
        return F.cross_entropy(F.linear(h, w3, b3), y)

    return sgd_workload([w1, b1, w2, b2, w3, b3], loss_fn)


def cnn(d, variant):
    cl = variant == "cl"
    x, y = nchw(d["x"], cl), d["y"].long()
    w1, w2 = oihw(d["w1"], cl).requires_grad_(), oihw(d["w2"], cl).requires_grad_()
    b1, b2 = leaf(d["b1"]), leaf(d["b2"])
    # Stratum flattens NHWC [64, 7, 7, 64] in (h, w, c) order; NCHW flattens in
    # (c, h, w) order: the dense rows are reordered to match.
    w3 = linear_weight(d["w3"].reshape(7, 7, 64, 10).permute(2, 0, 1, 3).reshape(3136, 10))
    b3 = leaf(d["b3"])

    def loss_fn():
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2, padding=1)), 2)
        return F.cross_entropy(F.linear(h.flatten(1), w3, b3), y)

    return sgd_workload([w1, b1, w2, b2, w3, b3], loss_fn)


# ---------------------------------------------------------------------------
# Forward + backward: the check is the loss and every gradient's norm
# ---------------------------------------------------------------------------


def grad_workload(named, loss_fn):
    """A step function (zero the gradients, loss, backward) and its check."""

    def step():
        for p in named.values():
            p.grad = None
        loss = loss_fn()
        loss.backward()
        return loss.item()

    loss0 = step()
    norms = {name: p.grad.norm().item() for name, p in named.items()}
    return {"loss0": loss0, "gradNorms": norms}, step


def lstm(d, _variant):
    layer = torch.nn.LSTM(64, 128, batch_first=True)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(d["wx"].t())
        layer.weight_hh_l0.copy_(d["wh"].t())
        layer.bias_ih_l0.copy_(d["b"])
        layer.bias_hh_l0.zero_()  # Stratum has one bias, b_ih + b_hh
    x = d["x"]

    def loss_fn():
        h, _ = layer(x)
        return (h * h).mean()

    named = {"wx": layer.weight_ih_l0, "wh": layer.weight_hh_l0, "b": layer.bias_ih_l0}
    return grad_workload(named, loss_fn)


def transformer(d, _variant):
    dm, heads = 128, 4
    dk = dm // heads
    p = {name: (linear_weight(t) if t.dim() == 2 else leaf(t)) for name, t in d.items() if name != "x"}
    x = d["x"]
    batch, seq = x.shape[0], x.shape[1]

    def split(t):
        return t.view(batch, seq, heads, dk).transpose(1, 2)

    def loss_fn():
        h = F.layer_norm(x, (dm,), p["ln1.scale"], p["ln1.bias"], eps=1e-5)
        q = split(F.linear(h, p["mha.wq"], p["mha.bq"]) * (1 / math.sqrt(dk)))
        k = split(F.linear(h, p["mha.wk"], p["mha.bk"]))
        v = split(F.linear(h, p["mha.wv"], p["mha.bv"]))
        weights = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        attended = (weights @ v).transpose(1, 2).reshape(batch, seq, dm)
        x1 = x + F.linear(attended, p["mha.wo"], p["mha.bo"])
        h2 = F.layer_norm(x1, (dm,), p["ln2.scale"], p["ln2.bias"], eps=1e-5)
        y = x1 + F.linear(F.gelu(F.linear(h2, p["ffn1.w"], p["ffn1.b"]), approximate="tanh"), p["ffn2.w"], p["ffn2.b"])
        return (y * y).mean()

    return grad_workload(p, loss_fn)


WORKLOADS = {
    "matmul": (matmul, None),
    "conv-nchw": (conv, "nchw"),
    "conv-cl": (conv, "cl"),
    "gelu": (gelu, None),
    "mlp": (mlp, None),
    "cnn-nchw": (cnn, "nchw"),
    "cnn-cl": (cnn, "cl"),
    "lstm": (lstm, None),
    "transformer": (transformer, None),
}


def run(step, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        value = step()
        times.append((time.perf_counter() - t) * 1000)
        if not math.isfinite(value):
            raise RuntimeError(f"a step gave {value}")
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("data", help="the prefix of the .json manifest and .bin tensors the runner wrote")
    parser.add_argument("--serve", action="store_true", help='read "run N" lines on stdin')
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    make, variant = WORKLOADS[args.workload]
    check, step = make(load(args.data), variant)
    ready = {"ready": True, "workload": args.workload, "torch": torch.__version__, "threads": torch.get_num_threads(), "check": check}
    print(json.dumps(ready), flush=True)
    if not args.serve:
        print(json.dumps({"ms": run(step, args.iterations)}), flush=True)
        return
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] != "run" or len(words) != 2:
            raise ValueError(f"unknown command {line!r}")
        print(json.dumps({"ms": run(step, int(words[1]))}), flush=True)


if __name__ == "__main__":
    main()
