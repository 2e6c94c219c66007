#!/usr/bin/python3
"""Writes sklearn's bundled digits set as train.npz / val.npz for Stoke's engine.

x: float32 (N, 1, 8, 8) scaled to [0, 1]; y: int64 class labels 0..9.
Run with Debian's /usr/bin/python3 (it has numpy and sklearn).
"""
import argparse
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=".", help="output directory")
    parser.add_argument("--val-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=args.val_fraction, random_state=args.seed, stratify=y)
    os.makedirs(args.out, exist_ok=True)
    np.savez(os.path.join(args.out, "train.npz"), x=x_train, y=y_train)
    np.savez(os.path.join(args.out, "val.npz"), x=x_val, y=y_val)
    print(f"train {x_train.shape} val {x_val.shape} -> {args.out}")


if __name__ == "__main__":
    main()
