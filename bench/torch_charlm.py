"""Char-LM training throughput in PyTorch, the same model as bench/charlm.mjs: Embedding(V,64),
LSTM(64,128), Linear(128,V); 32 streams, windows of 100, state carried, Adam 3e-3, clip 5.
Prints one JSON line {"chars_per_s": ..., "setup": ...}. Run with /usr/bin/python3."""
import json, os, sys, time

setup = sys.argv[2] if len(sys.argv) > 2 else "default"
if setup == "passive2":
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
import torch

if setup == "passive2":
    torch.set_num_threads(2)
text = open(sys.argv[1]).read() if len(sys.argv) > 1 and os.path.exists(sys.argv[1]) else "hello world " * 100000
chars = sorted(set(text))
ix = {c: i for i, c in enumerate(chars)}
ids = torch.tensor([ix[c] for c in text[:400000]], dtype=torch.long)
B, T, V = 32, 100, len(chars)
L = (len(ids) - 1) // B
x_all = ids[: B * L].view(B, L).t().contiguous()
y_all = ids[1 : B * L + 1].view(B, L).t().contiguous()
emb, lstm, head = torch.nn.Embedding(V, 64), torch.nn.LSTM(64, 128), torch.nn.Linear(128, V)
params = list(emb.parameters()) + list(lstm.parameters()) + list(head.parameters())
opt = torch.optim.Adam(params, lr=3e-3)
state = None
def step(t0):
    global state
    x, y = x_all[t0 : t0 + T], y_all[t0 : t0 + T]
    out, state = lstm(emb(x), state)
    state = tuple(s.detach() for s in state)
    loss = torch.nn.functional.cross_entropy(head(out).view(-1, V), y.reshape(-1))
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(params, 5.0); opt.step()
for w in range(3): step(w * T)
n = 0; start = time.time(); t0 = 0
while time.time() - start < 3.0 or n < 10:
    step(t0); n += 1; t0 = (t0 + T) % (L - T)
print(json.dumps({"chars_per_s": n * B * T / (time.time() - start), "setup": setup, "torch": torch.__version__}))
