"""Checks tests/parity/tinylm_safetensors.py against the safetensors spec, so parity tests can trust it.

Run: /usr/bin/python3 tests/parity/test_safetensors_interop.py --tinylm build/tinylm
Checks: Python save -> load is bit-exact for F32 and every F16 bit pattern, metadata survives, the byte layout is
the spec's (8-byte LE length, header padded with spaces to a multiple of 8, contiguous offsets in the given order,
little-endian data), a file built by hand from the spec loads, and malformed files are refused with a message
naming the problem. --tinylm is accepted for the C++ <-> Python checks that go through the CLI; none use it yet.
Prints one line per failure and a summary "N passed, M failed"; exits 1 on any failure.
"""

import argparse
import json
import math
import os
import struct
import sys
import tempfile
import traceback

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tinylm_safetensors as st  # noqa: E402


def same_bits(a, b):
    """Bit equality (so -0.0, NaN payloads and infinities count), plus dtype and shape."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    as_int = torch.int32 if a.dtype == torch.float32 else torch.int16
    return torch.equal(a.contiguous().view(as_int), b.contiguous().view(as_int))


def save_and_load(directory, tensors, metadata=None):
    path = os.path.join(directory, "round_trip.safetensors")
    st.save(path, tensors, metadata)
    return st.load(path)


# ---- checks ------------------------------------------------------------------------------------------------

def check_f32_round_trip_is_bit_exact(directory):
    specials = torch.tensor([0.0, -0.0, 1.5, math.inf, -math.inf, math.nan, 1e-45, 3.4028234663852886e38])
    tensors = {
        "z.weight": torch.randn(3, 5, generator=torch.Generator().manual_seed(0)),
        "a.specials": specials,
        "m.scalar": torch.tensor(42.0),
        "e.empty": torch.zeros(0, 3),
        "t.strided": torch.arange(12, dtype=torch.float32).reshape(3, 4).t(),  # non-contiguous input
    }
    loaded, metadata = save_and_load(directory, tensors)
    assert list(loaded) == list(tensors), f"tensor order {list(loaded)} != {list(tensors)}"
    assert metadata == {}, f"metadata should be empty, got {metadata}"
    for name, tensor in tensors.items():
        assert same_bits(loaded[name], tensor.contiguous()), f"'{name}' changed: {tensor} -> {loaded[name]}"


def check_f16_round_trip_is_bit_exact(directory):
    every_half = torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16).view(torch.float16)
    tensors = {"every_half": every_half.reshape(256, 256), "small": torch.tensor([1.0, -2.0, 65504.0]).half()}
    loaded, _ = save_and_load(directory, tensors, {"format": "1"})
    for name, tensor in tensors.items():
        assert loaded[name].dtype == torch.float16, f"'{name}' came back as {loaded[name].dtype}"
        assert same_bits(loaded[name], tensor), f"'{name}' F16 bits changed"


def check_metadata_round_trip(directory):
    metadata = {
        "format_version": "1",
        "config": json.dumps({"kind": "gpt", "n_layer": 4, "quote": "a\"b\\c"}),
        "empty": "",
        "unicode": "café — 🐋",
        "control": "tab\tnewline\nnul\0end",
    }
    _, loaded = save_and_load(directory, {"w": torch.ones(2)}, metadata)
    assert loaded == metadata, f"metadata changed: {metadata} -> {loaded}"


def check_byte_layout_follows_spec(directory):
    first = torch.tensor([1.0, 2.0, 3.0])
    second = torch.tensor([0.5, -4.0]).half()
    for name_length in range(1, 9):  # every remainder of the header length modulo 8
        first_name = "x" * name_length
        data = st.dumps({first_name: first, "second": second}, {"k": "v"})
        (header_length,) = struct.unpack("<Q", data[:8])
        where = f"(first name length {name_length})"
        assert header_length % 8 == 0, f"header length {header_length} is not a multiple of 8 {where}"
        assert len(data) == 8 + header_length + 3 * 4 + 2 * 2, f"file size {len(data)} {where}"
        header_text = data[8:8 + header_length].decode("utf-8")
        json_text = header_text.rstrip(" ")
        assert json_text.endswith("}") and len(header_text) - len(json_text) < 8, f"bad padding {where}"
        header = json.loads(json_text)
        assert list(header) == ["__metadata__", first_name, "second"], f"key order {list(header)} {where}"
        assert header["__metadata__"] == {"k": "v"}
        assert header[first_name] == {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}, header[first_name]
        assert header["second"] == {"dtype": "F16", "shape": [2], "data_offsets": [12, 16]}, header["second"]
        body = data[8 + header_length:]
        assert body[:12] == struct.pack("<3f", 1.0, 2.0, 3.0), f"F32 data is not little-endian {where}"
        assert body[12:] == struct.pack("<2e", 0.5, -4.0), f"F16 data is not little-endian {where}"
        compact = json.dumps(header, separators=(",", ":"), ensure_ascii=False)
        assert json_text == compact, f"header is not compact JSON (the C++ writer's form): {json_text!r} {where}"


def check_hand_built_file_loads(directory):
    # Written from the spec alone: spaces inside the JSON, tensors listed out of offset order, no metadata.
    header = (b'{ "b": {"dtype": "F16", "shape": [2], "data_offsets": [12, 16]},\n'
              b'  "a": {"dtype": "F32", "shape": [3, 1], "data_offsets": [0, 12]} }')
    body = struct.pack("<3f", 1.0, -2.5, 1e-3) + struct.pack("<2e", 65504.0, -0.0)
    tensors, metadata = st.loads(struct.pack("<Q", len(header)) + header + body)
    assert list(tensors) == ["a", "b"], f"expected offset order, got {list(tensors)}"
    assert metadata == {}
    assert same_bits(tensors["a"], torch.tensor([[1.0], [-2.5], [1e-3]])), tensors["a"]
    assert same_bits(tensors["b"], torch.tensor([65504.0, -0.0]).half()), tensors["b"]


def check_malformed_files_are_refused(directory):
    def forge(header, body=b"", declared=None):
        text = header.encode()
        return struct.pack("<Q", len(text) if declared is None else declared) + text + body

    def entry(dtype, shape, offsets):
        return json.dumps({"dtype": dtype, "shape": shape, "data_offsets": offsets})

    good = entry("F32", [4], [0, 16])
    cases = [
        (b"1234567", "too short"),
        (forge("{}", declared=1000), "larger than the file"),
        (forge("{}", declared=200_000_000), "absurd"),
        (forge("{not json"), "not valid JSON"),
        (forge("[1]"), "must be a JSON object"),
        (forge('{"x": {"dtype": "F32"}}'), "needs dtype, shape and data_offsets"),
        (forge('{"x": %s}' % entry("F64", [2], [0, 16]), bytes(16)), "unknown dtype 'F64'"),
        (forge('{"x": %s}' % entry("F32", [-2, 2], [0, 16]), bytes(16)), "non-negative integers"),
        (forge('{"x": %s}' % entry("F32", [1], [8, 4]), bytes(16)), "is after end"),
        (forge('{"x": %s}' % good, bytes(8)), "truncated file: tensor 'x' ends at byte 16"),
        (forge('{"x": %s}' % entry("F32", [2, 2], [0, 12]), bytes(12)), "needs 16 bytes"),
        (forge('{"a": %s, "b": %s}' % (good, entry("F32", [4], [8, 24])), bytes(24)), "overlaps"),
        (forge('{"a": %s, "b": %s}' % (entry("F32", [2], [0, 8]), entry("F32", [2], [16, 24])), bytes(24)),
         "gap before tensor 'b'"),
        (forge('{"a": %s}' % good, bytes(20)), "cover only 16"),
        (forge('{"a": %s, "a": %s}' % (good, good), bytes(32)), "duplicate key 'a'"),
        (forge('{"__metadata__": {"version": 1}}'), "__metadata__ must be an object of strings"),
    ]
    for data, phrase in cases:
        try:
            st.loads(data)
        except st.SafetensorsError as error:
            assert phrase in str(error), f"expected {phrase!r} in the error, got: {error}"
        else:
            raise AssertionError(f"a file that should fail with {phrase!r} loaded without error")


CHECKS = [
    check_f32_round_trip_is_bit_exact,
    check_f16_round_trip_is_bit_exact,
    check_metadata_round_trip,
    check_byte_layout_follows_spec,
    check_hand_built_file_loads,
    check_malformed_files_are_refused,
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tinylm", help="path to the tinylm CLI (for the C++ <-> Python checks)")
    parser.add_argument("--runner", help="path to tinylm_parity_runner")
    parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="tinylm-safetensors-") as directory:
        for check in CHECKS:
            try:
                check(directory)
                passed += 1
            except Exception as error:  # report every check, not just the first failure
                failed += 1
                where = traceback.extract_tb(error.__traceback__)[-1]
                print(f"FAIL {check.__name__} (line {where.lineno}): {type(error).__name__}: {error}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
