#!/usr/bin/env python3
"""cuDNN baselines for bench/gpu.mjs: the same recurrent layers (nn.LSTM, float32) timed as
forward + backward (training) or forward alone under no_grad (inference), median ms per step.

    python3 bench/torch_gpu.py [--quick] [--device cuda|cpu]

The last stdout line is a JSON object {workload: {"ms": ...}, "_meta": {...}}.
"""
import argparse
import json
import time

import torch

WORK = {
    "W1": dict(T=64, B=32, I=64, H=256, layers=1, train=True),
    "W4": dict(T=100, B=32, I=65, H=512, layers=2, train=True),
    "L_train": dict(T=256, B=64, I=1024, H=1024, layers=1, train=True),
    "L_inf_b1": dict(T=256, B=1, I=1024, H=1024, layers=1, train=False),
    "L_inf_b64": dict(T=256, B=64, I=1024, H=1024, layers=1, train=False),
}


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", default="cuda")
    a = ap.parse_args()
    dev = torch.device(a.device)
    torch.backends.cudnn.benchmark = True
    out = {}
    for name, w in ({"W1": WORK["W1"]} if a.quick else WORK).items():
        lstm = torch.nn.LSTM(w["I"], w["H"], num_layers=w["layers"]).to(dev)
        x = torch.randn(w["T"], w["B"], w["I"], device=dev, requires_grad=w["train"])
        dy = torch.randn(w["T"], w["B"], w["H"], device=dev)

        def step():
            if w["train"]:
                y, _ = lstm(x)
                y.backward(dy)
            else:
                with torch.no_grad():
                    lstm(x)
            sync(dev)

        for _ in range(3):
            step()
        times = []
        for _ in range(3 if a.quick else 20):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        out[name] = {"ms": times[len(times) // 2]}
    out["_meta"] = {
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version() if dev.type == "cuda" else None,
        "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
