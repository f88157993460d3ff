#!/usr/bin/python3
"""Export the W5 LSTM (I=64, H=256, one layer, time-major) to ONNX; with --gru, W7's GRU.

    /usr/bin/python3 bench/export_w5_onnx.py [out.onnx] [--gru]

Default output: bench/.cache/w5_lstm.onnx. Input "x" [T, B, 64] and output
"y" [T, B, 256] (the full output sequence), with dynamic T and B axes,
opset 14. Weights are PyTorch's default init under torch.manual_seed(0).
"""
import os
import sys

import torch

I, H = 64, 256


class W5(torch.nn.Module):
    def __init__(self, gru=False):
        super().__init__()
        self.lstm = torch.nn.GRU(I, H) if gru else torch.nn.LSTM(I, H)

    def forward(self, x):
        y, _ = self.lstm(x)
        return y


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    gru = "--gru" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--gru"]
    out = args[0] if args else os.path.join(here, ".cache", "w7_gru.onnx" if gru else "w5_lstm.onnx")
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    if out_dir == os.path.join(here, ".cache"):
        # keep the generated model out of version control
        gi = os.path.join(out_dir, ".gitignore")
        if not os.path.exists(gi):
            with open(gi, "w") as f:
                f.write("*\n")

    torch.manual_seed(0)
    model = W5(gru).eval()
    x = torch.randn(128, 1, I)
    with torch.no_grad():
        torch.onnx.export(
            model, (x,), out,
            input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "T", 1: "B"}, "y": {0: "T", 1: "B"}},
            opset_version=14,
            do_constant_folding=True,
        )
    print(out)


if __name__ == "__main__":
    main()
