"""A safetensors file written and read with the standard library and torch alone.

Debian's python3-torch has no `safetensors` package; the format is simple enough
to write by hand: an 8-byte little-endian header length N, N bytes of JSON
{name: {dtype, shape, data_offsets: [begin, end]}} (padded with spaces), then
each tensor's raw little-endian data. `save` prefers `safetensors.torch.save_file`
when it is installed. Used by train.py here and by test/fixtures/torch/make.py.
"""

import json
import struct

import torch

FORMATS = {torch.float32: ("F32", "f"), torch.float64: ("F64", "d"), torch.int64: ("I64", "q"), torch.int32: ("I32", "i")}
DTYPES = {code: (dtype, char) for dtype, (code, char) in FORMATS.items()}


def write(path, tensors):
    """Writes tensors (by name) as a safetensors file, by hand."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        code, char = FORMATS[t.dtype]
        values = t.reshape(-1).tolist()
        data = struct.pack("<%d%s" % (len(values), char), *values)
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def read(path):
    """The tensors of a safetensors file (F32, F64, I64 and I32), by name."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n :]
    out = {}
    for name, e in header.items():
        dtype, char = DTYPES[e["dtype"]]
        begin, end = e["data_offsets"]
        count = (end - begin) // struct.calcsize(char)
        values = struct.unpack("<%d%s" % (count, char), data[begin:end])
        out[name] = torch.tensor(values, dtype=dtype).reshape(e["shape"])
    return out


def save(tensors, path):
    """Saves tensors as safetensors: with safetensors.torch.save_file when installed, else by hand."""
    try:
        from safetensors.torch import save_file
    except ImportError:
        write(path, tensors)
        return
    save_file({k: v.contiguous() for k, v in tensors.items()}, path)
