"""Read and write tinylm's safetensors files from PyTorch, with nothing but the standard library and torch.

The format (the same as native/src/io/safetensors.hpp and huggingface/safetensors):
  8 bytes   little-endian uint64 N, the header length
  N bytes   JSON: {"__metadata__": {str: str}, "<name>": {"dtype": "F32"|"F16"|"BF16"|"U8"|"BOOL", "shape": [...],
            "data_offsets": [begin, end]}, ...}, padded with spaces so N is a multiple of 8
  the rest  raw little-endian tensor data; offsets are relative to its start, and the tensors tile it exactly

`dumps` writes the header as the C++ writer does (compact JSON, metadata first with sorted keys, tensors in the
given order, UTF-8 unescaped), so a file saved here and one saved by the tinylm CLI from the same tensors are
byte-identical; parity tests can compare bytes as well as values. `loads` validates the header the way the C++ reader does and raises
SafetensorsError naming the problem. F32, F16 and BF16 are supported, and U8 and BOOL for the integer buffers some
checkpoints carry (tinylm's I8 needs per-row scales).
"""

import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "U8": torch.uint8, "BOOL": torch.bool}
DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}
MAX_HEADER_BYTES = 100_000_000  # the reference implementation's limit; real headers are kilobytes
METADATA_KEY = "__metadata__"

# Tensor bytes are written as they lie in memory, which is only the file's byte order on a little-endian host.
assert sys.byteorder == "little", "tinylm_safetensors needs a little-endian host"


class SafetensorsError(ValueError):
    """A file or a tensor that does not fit the format; the message names the problem and the value."""


def _tensor_bytes(name, tensor):
    if tensor.dtype not in DTYPE_NAMES:
        raise SafetensorsError(f"tensor '{name}': dtype {tensor.dtype} is not supported "
                               f"(supported: {', '.join(DTYPES)}); convert with .float() or .half()")
    tensor = tensor.detach().cpu().contiguous()
    if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16: its bytes are those of an int16 view
        tensor = tensor.view(torch.int16)
    return tensor.numpy().tobytes()


def dumps(tensors, metadata=None):
    """Serialize {name: tensor} (kept in dict order) and {str: str} metadata to the bytes of a file."""
    header = {}
    if metadata:
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise SafetensorsError(f"metadata must map str to str, got {key!r}: {value!r}")
        # Sorted, as the C++ writer's std::map yields them (code-point order is UTF-8 byte order).
        header[METADATA_KEY] = dict(sorted(metadata.items()))
    chunks = []
    offset = 0
    for name, tensor in tensors.items():
        if name == METADATA_KEY:
            raise SafetensorsError(f"'{METADATA_KEY}' is reserved, not a tensor name")
        data = _tensor_bytes(name, tensor)
        header[name] = {"dtype": DTYPE_NAMES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(chunks)


def _reject_duplicate_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise SafetensorsError(f"safetensors header: duplicate key '{key}'")
        result[key] = value
    return result


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def loads(data):
    """Parse the bytes of a file into ({name: tensor} in offset order, {str: str} metadata)."""
    data = memoryview(data)
    if len(data) < 8:
        raise SafetensorsError(f"file too short for safetensors: {len(data)} bytes, the header length needs 8")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > MAX_HEADER_BYTES:
        raise SafetensorsError(f"safetensors header length {header_length} bytes is absurd "
                               f"(limit {MAX_HEADER_BYTES}): not a safetensors file?")
    if header_length > len(data) - 8:
        raise SafetensorsError(f"safetensors header length {header_length} is larger than the file "
                               f"({len(data) - 8} bytes after the 8-byte length)")
    try:
        header = json.loads(bytes(data[8:8 + header_length]).decode("utf-8"),
                            object_pairs_hook=_reject_duplicate_keys)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SafetensorsError(f"safetensors header is not valid JSON ({error})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"safetensors header must be a JSON object, got {type(header).__name__}")
    body = data[8 + header_length:]

    metadata = header.pop(METADATA_KEY, {})
    if not isinstance(metadata, dict) or not all(isinstance(value, str) for value in metadata.values()):
        raise SafetensorsError(f"safetensors header: __metadata__ must be an object of strings, got {metadata!r}")

    entries = []
    for name, entry in header.items():
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= entry.keys():
            raise SafetensorsError(f"tensor '{name}': header entry needs dtype, shape and data_offsets, got {entry!r}")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in DTYPES:
            raise SafetensorsError(f"tensor '{name}': unknown dtype {dtype!r} (supported: {', '.join(DTYPES)})")
        if not isinstance(shape, list) or not all(_is_count(dim) for dim in shape):
            raise SafetensorsError(f"tensor '{name}': shape must be a list of non-negative integers, got {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)):
            raise SafetensorsError(f"tensor '{name}': data_offsets must be [begin, end], got {offsets!r}")
        begin, end = offsets
        if begin > end:
            raise SafetensorsError(f"tensor '{name}': data_offsets {offsets} begin {begin} is after end {end}")
        if end > len(body):
            raise SafetensorsError(f"truncated file: tensor '{name}' ends at byte {end} "
                                   f"but the data section has {len(body)} bytes")
        numel = 1
        for dim in shape:
            numel *= dim
        expected = numel * torch.tensor([], dtype=DTYPES[dtype]).element_size()
        if end - begin != expected:
            raise SafetensorsError(f"tensor '{name}': data_offsets {offsets} span {end - begin} bytes "
                                   f"but shape {shape} of {dtype} needs {expected} bytes")
        entries.append((begin, end, name, dtype, shape))

    entries.sort()
    covered_until = 0
    for begin, end, name, _, _ in entries:
        if begin < covered_until:
            raise SafetensorsError(f"safetensors header: tensor '{name}' [{begin}, {end}) overlaps the one before")
        if begin > covered_until:
            raise SafetensorsError(f"safetensors header: gap before tensor '{name}': it starts at byte {begin} "
                                   f"but the previous tensor ends at byte {covered_until}")
        covered_until = end
    if covered_until != len(body):
        raise SafetensorsError(f"safetensors file: the data section has {len(body)} bytes "
                               f"but the tensors cover only {covered_until}")

    tensors = {}
    for begin, end, name, dtype, shape in entries:
        # bytearray: frombuffer needs a writable buffer, and the copy detaches the tensor from `data`.
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[dtype]) if end > begin \
            else torch.empty(0, dtype=DTYPES[dtype])
        tensors[name] = flat.reshape(shape)
    return tensors, dict(metadata)


def save(path, tensors, metadata=None):
    """Write {name: tensor} and {str: str} metadata to `path` (F32/F16/BF16 tensors, in dict order)."""
    with open(path, "wb") as stream:
        stream.write(dumps(tensors, metadata))


def load(path):
    """Read `path` into ({name: tensor}, {str: str} metadata)."""
    with open(path, "rb") as stream:
        return loads(stream.read())
