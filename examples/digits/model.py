#!/usr/bin/python3
"""Defines a small CNN for 8x8 digits and exports it as TorchScript (model.pt).

The exported module has forward(x) -> logits and loss(x, y) -> mean cross-entropy,
so Stoke can use either `--loss cross_entropy` or `--loss module`.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))

    @torch.jit.export
    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self.forward(x), y)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="model.pt")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.jit.script(DigitsNet()).save(args.out)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
