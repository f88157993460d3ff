# The PyTorch side of bench/time_delay.mjs: nn.Conv1d(F, O, K, dilation=d) with causal left padding
# ((K-1)*d zeros) and tanh, forward + backward on [B, F, T] float32. Reads one JSON command per
# line on stdin ({"cfg": {...}, "iters": n}) and answers {"ms": per-iteration milliseconds}.
import json
import sys
import time

try:
    import torch
except ImportError:
    print(json.dumps({"error": "torch is not installed"}), flush=True)
    sys.exit(0)

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
print(json.dumps({"ready": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
cache = {}
for line in sys.stdin:
    cmd = json.loads(line)
    c = cmd["cfg"]
    key = json.dumps(c, sort_keys=True)
    if key not in cache:
        torch.manual_seed(0)
        conv = torch.nn.Conv1d(c["F"], c["O"], c["K"], dilation=c["d"])
        x = torch.randn(c["B"], c["F"], c["T"], requires_grad=True)
        dy = torch.randn(c["B"], c["O"], c["T"])
        cache[key] = (conv, x, dy)
    conv, x, dy = cache[key]
    pad = (c["K"] - 1) * c["d"]

    def step():
        conv.zero_grad(set_to_none=False)
        x.grad = None
        y = torch.tanh(conv(torch.nn.functional.pad(x, (pad, 0))))
        y.backward(dy)

    step()
    t0 = time.perf_counter()
    for _ in range(cmd["iters"]):
        step()
    print(json.dumps({"ms": (time.perf_counter() - t0) * 1000 / cmd["iters"]}), flush=True)
