#!/usr/bin/env python3
"""check_safetensors.py: loads sac-engine checkpoint / replay / policy files the way a user would,
with Python's `safetensors` package (`from safetensors.numpy import load_file`), prints every
tensor's name, dtype and shape, and recomputes the FNV-1a 64 checksum stored in "__metadata__"
(definition in include/sac/safetensors.h).

When the `safetensors` package is not installed, a small pure-Python parser of the layout
(8-byte little-endian header length, JSON header, raw little-endian data) is used instead, and
the script says so. The parser checks what the package checks: the header starts with '{',
"__metadata__" maps strings to strings, dtypes are known, offsets cover the data block exactly,
in order, without gaps or overlaps, and each size matches dtype x shape.

    python3 tests/check_safetensors.py RUN_DIR/checkpoints/ckpt-000000001000.safetensors [...]

Exits non-zero when a file does not load or its checksum does not match.
"""
import json
import struct
import sys

DTYPE_SIZE = {"F32": 4, "F64": 8, "I64": 8, "I32": 4, "F16": 2, "BF16": 2, "U8": 1, "I8": 1, "BOOL": 1}


def read_header(path):
    """Returns (header dict, data block bytes) of a safetensors file, checking the layout."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError("header length %d exceeds the file" % n)
    if raw[8:9] != b"{":
        raise ValueError("header does not start with '{'")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    return header, data


def fallback_load(path):
    """Pure-Python load: {name: (dtype, shape, bytes)}, metadata."""
    header, data = read_header(path)
    metadata = header.pop("__metadata__", {}) or {}
    # the package reads "__metadata__" as a map of string to string
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise ValueError("__metadata__ value of %s is not a string" % key)
    tensors = {}
    spans = []
    for name, e in header.items():
        dtype, shape, (begin, end) = e["dtype"], e["shape"], e["data_offsets"]
        if dtype not in DTYPE_SIZE:
            raise ValueError("tensor %s: unknown dtype %r" % (name, dtype))
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise ValueError("tensor %s: shape %r is not a list of sizes" % (name, shape))
        count = 1
        for d in shape:
            count *= d
        if end - begin != count * DTYPE_SIZE[dtype]:
            raise ValueError("tensor %s: data_offsets do not match dtype x shape" % name)
        spans.append((begin, end, name))
        tensors[name] = (dtype, shape, data[begin:end])
    # the package requires the offsets to tile the data block exactly
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise ValueError("tensor %s: gap or overlap at offset %d" % (name, begin))
        pos = end
    if pos != len(data):
        raise ValueError("data block is %d bytes, tensors cover %d" % (len(data), pos))
    return tensors, metadata


def fnv1a64(chunks):
    h = 14695981039346656037
    for chunk in chunks:
        for b in chunk:
            h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def checksum(metadata, tensors):
    """The checksum of include/sac/safetensors.h over metadata (minus "checksum") and tensors."""
    chunks = []
    for key in sorted(k for k in metadata if k != "checksum"):
        chunks += [key.encode(), b"\0", metadata[key].encode(), b"\0"]
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        chunks += [name.encode(), b"\0", dtype.encode(), b"\0",
                   ",".join(str(d) for d in shape).encode(), b"\0", raw]
    return "fnv1a64:%016x" % fnv1a64(chunks)


def check(path, use_package):
    if use_package:
        from safetensors.numpy import load_file
        arrays = load_file(path)
        header, _ = read_header(path)
        metadata = header.get("__metadata__", {}) or {}
        tensors = {}
        for name, a in arrays.items():
            tensors[name] = (header[name]["dtype"], list(a.shape), a.tobytes())
    else:
        tensors, metadata = fallback_load(path)
    print("%s: %d tensors, format '%s'" % (path, len(tensors), metadata.get("format", "?")))
    for name in sorted(tensors):
        dtype, shape, _ = tensors[name]
        print("  %-40s %-4s %s" % (name, dtype, shape))
    ok = True
    if "checksum" in metadata:
        computed = checksum(metadata, tensors)
        ok = computed == metadata["checksum"]
        print("  checksum %s: %s" % (metadata["checksum"], "ok" if ok else "MISMATCH, computed " + computed))
    if "config" in metadata:
        config = json.loads(metadata["config"])
        env = config["env"]  # a sac_engine.SAC run's: the Python env's description, no id
        print("  config: env=%s sac.hidden=%s train.seed=%s" %
              (env["id"] if "id" in env else "Python env " + str(env.get("python")),
               config["sac"]["hidden"], config["train"]["seed"]))
    return ok


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    try:
        import safetensors  # noqa: F401
        use_package = True
        print("loader: the safetensors package %s (safetensors.numpy.load_file)" % safetensors.__version__)
    except ImportError:
        use_package = False
        print("loader: pure-Python fallback parser (the safetensors package is not installed)")
    ok = True
    for path in argv[1:]:
        try:
            ok = check(path, use_package) and ok
        except Exception as e:  # report every file, then fail
            print("%s: FAILED to load: %s" % (path, e))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
