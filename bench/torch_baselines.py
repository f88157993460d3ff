#!/usr/bin/python3
"""PyTorch CPU baselines for the rnnkit benchmark workloads (W1..W6).

Run with Debian's interpreter (the one that has python3-torch):

    /usr/bin/python3 bench/torch_baselines.py                 # all workloads, both thread set-ups
    /usr/bin/python3 bench/torch_baselines.py --workloads W1,W5b1 --quick
    /usr/bin/python3 bench/torch_baselines.py --setup passive2 # one set-up, in-process

Without --setup the script re-runs itself once per thread set-up (each in its
own subprocess, because OMP_* variables must be set before torch is imported)
and keeps, per workload, the faster of the two:

    default  : torch defaults (1 intra-op thread here, plus OpenBLAS's own pool)
    passive2 : OMP_WAIT_POLICY=PASSIVE and torch.set_num_threads(2)

A plain set_num_threads(2) without OMP_WAIT_POLICY=PASSIVE is never used: on a
2-core machine the spinning OpenMP workers fight OpenBLAS's pool and it is
much slower.

The last stdout line is one JSON object:
    {"W1": {"ms": 103.2, "setup": "default", "gflop": 2.1, "by_setup": {...}},
     ..., "_meta": {"torch": "1.13.0a0", ...}}
"ms" is the median wall-clock time per step (training step for W1-W4, W6:
zero_grad + forward + loss + backward + Adam step; one no-grad forward for
W5b1/W5b64). "gflop" is an estimate of matmul FLOPs per step (elementwise
work ignored; training counted as 3x the forward matmul FLOPs).
"""
import argparse
import json
import os
import subprocess
import sys
import time

ALL_WORKLOADS = ["W1", "W2", "W3", "W4", "W5b1", "W5b64", "W6", "W7b1", "W7b64"]
SETUPS = ["default", "passive2"]

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}

# Workload definitions (all time-major, float32).
SPECS = {
    "W1": dict(kind="cls", cell="LSTM", T=64, B=32, I=64, H=256, layers=1, bidir=False, classes=10),
    "W2": dict(kind="cls", cell="GRU", T=64, B=32, I=64, H=256, layers=1, bidir=False, classes=10),
    "W3": dict(kind="cls", cell="RNN", T=64, B=32, I=64, H=256, layers=1, bidir=False, classes=10),
    "W4": dict(kind="charlm", cell="LSTM", T=100, B=32, I=65, H=512, layers=2, bidir=False, classes=65),
    "W5b1": dict(kind="infer", cell="LSTM", T=128, B=1, I=64, H=256, layers=1, bidir=False),
    "W5b64": dict(kind="infer", cell="LSTM", T=128, B=64, I=64, H=256, layers=1, bidir=False),
    "W7b1": dict(kind="infer", cell="GRU", T=128, B=1, I=64, H=256, layers=1, bidir=False),
    "W7b64": dict(kind="infer", cell="GRU", T=128, B=64, I=64, H=256, layers=1, bidir=False),
    "W6": dict(kind="cls", cell="LSTM", T=64, B=32, I=64, H=128, layers=2, bidir=True, classes=10),
}


def rnn_forward_flops(cell, T, B, I, H, layers, bidir):
    """Matmul FLOPs (2*M*N*K) of the recurrent layers' forward pass."""
    g = GATES[cell]
    dirs = 2 if bidir else 1
    total = 0
    in_size = I
    for _ in range(layers):
        total += dirs * 2 * T * B * g * H * (in_size + H)
        in_size = H * dirs
    return total


def gflop_estimate(name):
    s = SPECS[name]
    fwd = rnn_forward_flops(s["cell"], s["T"], s["B"], s["I"], s["H"], s["layers"], s["bidir"])
    out_size = s["H"] * (2 if s["bidir"] else 1)
    if s["kind"] == "infer":
        return round(fwd / 1e9, 4)
    if s["kind"] == "cls":
        fwd += 2 * s["B"] * out_size * s["classes"]
    else:  # charlm: head at every step
        fwd += 2 * s["T"] * s["B"] * out_size * s["classes"]
    return round(3 * fwd / 1e9, 4)


# --------------------------------------------------------------------------
# In-process measurement (one set-up)
# --------------------------------------------------------------------------

def build(name, torch):
    nn = torch.nn
    s = SPECS[name]
    torch.manual_seed(0)
    if s["cell"] == "LSTM":
        rnn = nn.LSTM(s["I"], s["H"], num_layers=s["layers"], bidirectional=s["bidir"])
    elif s["cell"] == "GRU":
        rnn = nn.GRU(s["I"], s["H"], num_layers=s["layers"], bidirectional=s["bidir"])
    else:
        rnn = nn.RNN(s["I"], s["H"], num_layers=s["layers"], bidirectional=s["bidir"],
                     nonlinearity="tanh")
    T, B = s["T"], s["B"]
    out_size = s["H"] * (2 if s["bidir"] else 1)

    if s["kind"] == "infer":
        rnn.eval()
        x = torch.randn(T, B, s["I"])

        def step():
            with torch.inference_mode():
                y, _ = rnn(x)
            return y
        return step

    head = nn.Linear(out_size, s["classes"])
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params)
    loss_fn = nn.CrossEntropyLoss()

    if s["kind"] == "cls":
        x = torch.randn(T, B, s["I"])
        target = torch.randint(0, s["classes"], (B,))

        def step():
            opt.zero_grad()
            out, _ = rnn(x)
            logits = head(out[-1])
            loss = loss_fn(logits, target)
            loss.backward()
            opt.step()
            return loss
        return step

    # charlm (W4): dense one-hot input, head at every step, CE over T*B
    idx = torch.randint(0, s["I"], (T, B))
    x = torch.nn.functional.one_hot(idx, s["I"]).float()
    target = torch.randint(0, s["classes"], (T * B,))

    def step():
        opt.zero_grad()
        out, _ = rnn(x)
        logits = head(out).reshape(T * B, s["classes"])
        loss = loss_fn(logits, target)
        loss.backward()
        opt.step()
        return loss
    return step


def time_workload(step, quick):
    warmup = 1 if quick else 3
    min_iters = 2 if quick else 5
    min_time = 0.3 if quick else 1.5
    for _ in range(warmup):
        step()
    times = []
    start = time.perf_counter()
    while len(times) < min_iters or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()
    n = len(times)
    med = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    return med, n


def run_setup(setup, workloads, quick):
    if setup == "passive2":
        # Must happen before torch (and its OpenMP runtime) is loaded; the
        # parent also sets it in the child's environment.
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import torch
    if setup == "passive2":
        torch.set_num_threads(2)
    result = {}
    for name in workloads:
        step = build(name, torch)
        ms, n = time_workload(step, quick)
        result[name] = {"ms": round(ms, 3), "iters": n}
        print(f"[{setup}] {name}: {ms:.2f} ms/step (median of {n})", file=sys.stderr, flush=True)
    result["_meta"] = {
        "torch": torch.__version__,
        "setup": setup,
        "num_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "python": sys.version.split()[0],
    }
    return result


# --------------------------------------------------------------------------
# Driver: one subprocess per set-up, merge
# --------------------------------------------------------------------------

def run_child(setup, workloads, quick):
    env = dict(os.environ)
    for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS"):
        env.pop(k, None)
    if setup == "passive2":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    cmd = [sys.executable, os.path.abspath(__file__), "--setup", setup,
           "--workloads", ",".join(workloads)]
    if quick:
        cmd.append("--quick")
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"set-up {setup} failed with exit code {proc.returncode}")
    lines = [l for l in proc.stdout.strip().splitlines() if l.strip()]
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", default=",".join(ALL_WORKLOADS),
                    help="comma-separated subset of " + ",".join(ALL_WORKLOADS))
    ap.add_argument("--setup", choices=SETUPS, default=None,
                    help="internal: run one thread set-up in-process")
    ap.add_argument("--quick", action="store_true", help="fewer iterations (smoke test)")
    args = ap.parse_args()

    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in workloads:
        if w not in SPECS:
            ap.error(f"unknown workload {w!r}; choose from {','.join(ALL_WORKLOADS)}")

    if args.setup:
        res = run_setup(args.setup, workloads, args.quick)
        for w in workloads:
            res[w]["setup"] = args.setup
            res[w]["gflop"] = gflop_estimate(w)
        print(json.dumps(res))
        return

    per_setup = {s: run_child(s, workloads, args.quick) for s in SETUPS}
    merged = {}
    for w in workloads:
        best = min(SETUPS, key=lambda s: per_setup[s][w]["ms"])
        merged[w] = {
            "ms": per_setup[best][w]["ms"],
            "setup": best,
            "gflop": gflop_estimate(w),
            "by_setup": {s: per_setup[s][w]["ms"] for s in SETUPS},
        }
    merged["_meta"] = {
        "torch": per_setup["default"]["_meta"]["torch"],
        "python": per_setup["default"]["_meta"]["python"],
        "quick": args.quick,
        "setups": {s: per_setup[s]["_meta"] for s in SETUPS},
    }
    print(f"torch {merged['_meta']['torch']}", file=sys.stderr)
    print(json.dumps(merged))


if __name__ == "__main__":
    main()
