"""Convert a nanoGPT checkpoint into a tinylm model file, and back.

    /usr/bin/python3 tools/convert_nanogpt.py ckpt.pt model.safetensors [--heads NH] [--tokenizer-json FILE]
                                              [--gelu exact|tanh]
    /usr/bin/python3 tools/convert_nanogpt.py --to-pytorch model.safetensors ckpt.pt [--bare] [--mask-buffers]

Input (PyTorch -> tinylm): what nanoGPT's train.py saves with torch.save — a dict with "model" (the state_dict)
and "model_args" (n_layer, n_head, n_embd, block_size, bias, vocab_size, dropout) — or a bare state_dict. The
"_orig_mod." prefixes torch.compile adds are stripped, and so are the causal-mask buffers "transformer.h.<i>.attn.bias"
(shape [1, 1, T, T]; not parameters, tinylm builds the mask itself). Every other tensor must be one nanoGPT has,
with the shape the derived config gives; "lm_head.weight" is kept (nanoGPT ties it to "transformer.wte.weight").

Config, derived from the tensors (sizes cross-checked against model_args when present):
    {"arch": "gpt", "vocab_size": V, "context_size": T, "embed_size": C, "num_layers": L, "num_heads": NH,
     "bias": bool, "dropout": 0.0, "gelu": "exact" | "tanh"}
NH cannot be read from shapes: it comes from model_args["n_head"], else --heads is required. nanoGPT's MLP uses
nn.GELU(), the exact erf form, hence the "exact" default.

Tokenizer: a tinylm model file carries its tokenizer as JSON. Taken from --tokenizer-json FILE (a tinylm tokenizer
JSON, e.g. the "tokenizer" metadata of another tinylm model), else from a checkpoint written by --to-pytorch
(which records it), else — for a model trained on raw bytes — a byte-level BPE tokenizer with no merges, which
exists only for V = 257 (256 bytes + <unk>) or V = 258 (+ <eos>). Anything else fails and asks for
--tokenizer-json, since a wrong tokenizer would turn the model's output into garbage without any error.

Output (tinylm -> PyTorch, --to-pytorch): a nanoGPT-style dict {"model", "model_args", "tinylm_config",
"tinylm_tokenizer"} (or the bare state_dict with --bare), lm_head.weight sharing wte's storage when they are equal
as nanoGPT's are. --mask-buffers adds the "attn.bias" masks that nanoGPT's model.py registers on PyTorch < 2.0
(without flash attention), so load_state_dict(strict=True) accepts the file there.

--gelu defaults to what a --to-pytorch checkpoint recorded, else "exact".
Tensors keep their dtype (F32 or F16); BF16 becomes F32, which is exact. Conversion in either direction copies
tensor bits unchanged. Errors name the tensor, the field or the flag and exit with status 1.
"""

import argparse
import json
import os
import re
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "parity"))
import tinylm_safetensors  # noqa: E402

COMPILE_PREFIX = "_orig_mod."
MASK_BUFFER = re.compile(r"^transformer\.h\.\d+\.attn\.bias$")
LAYER_NAME = re.compile(r"^transformer\.h\.(\d+)\.")
BYTE_COUNT = 256
FORMAT, FORMAT_VERSION = "tinylm", "1"


class ConversionError(ValueError):
    """The input does not describe a nanoGPT model (or a tinylm GPT file); the message says what and where."""


# ---- names and shapes ----------------------------------------------------------------------------------------

def expected_shapes(config):
    """{name: shape} of every tensor of a nanoGPT GPT with this config, in nanoGPT's state_dict order."""
    V, T, C = config["vocab_size"], config["context_size"], config["embed_size"]
    with_bias = config["bias"]
    shapes = {"transformer.wte.weight": [V, C], "transformer.wpe.weight": [T, C]}

    def linear(prefix, out_features, in_features):
        shapes[prefix + ".weight"] = [out_features, in_features]
        if with_bias:
            shapes[prefix + ".bias"] = [out_features]

    def layernorm(prefix):
        shapes[prefix + ".weight"] = [C]
        if with_bias:
            shapes[prefix + ".bias"] = [C]

    for layer in range(config["num_layers"]):
        block = f"transformer.h.{layer}"
        layernorm(block + ".ln_1")
        linear(block + ".attn.c_attn", 3 * C, C)
        linear(block + ".attn.c_proj", C, C)
        layernorm(block + ".ln_2")
        linear(block + ".mlp.c_fc", 4 * C, C)
        linear(block + ".mlp.c_proj", C, 4 * C)
    layernorm("transformer.ln_f")
    shapes["lm_head.weight"] = [V, C]
    return shapes


def check_tensors(tensors, config, source):
    """Every expected tensor present with its shape, nothing else; returns them in nanoGPT order."""
    shapes = expected_shapes(config)
    unexpected = [name for name in tensors if name not in shapes]
    if unexpected:
        raise ConversionError(f"{source}: unexpected tensor(s) {', '.join(unexpected[:5])}"
                              f"{' …' if len(unexpected) > 5 else ''} — not part of a nanoGPT GPT "
                              f"with bias={config['bias']} and {config['num_layers']} layers")
    missing = [name for name in shapes if name not in tensors]
    if missing:
        raise ConversionError(f"{source}: missing tensor(s) {', '.join(missing[:5])}"
                              f"{' …' if len(missing) > 5 else ''}")
    for name, shape in shapes.items():
        if list(tensors[name].shape) != shape:
            raise ConversionError(f"{source}: tensor '{name}' has shape {list(tensors[name].shape)}, "
                                  f"expected {shape} for the derived config {json.dumps(config)}")
    return {name: tensors[name] for name in shapes}


# ---- PyTorch -> tinylm ---------------------------------------------------------------------------------------

def read_checkpoint(path):
    """(state_dict, model_args or None, checkpoint dict or None) from a nanoGPT checkpoint or a bare state_dict."""
    try:
        loaded = torch.load(path, map_location="cpu")
    except Exception as error:  # torch raises many types for a file it cannot read
        raise ConversionError(f"{path}: not a PyTorch checkpoint ({error})") from None
    if isinstance(loaded, dict) and isinstance(loaded.get("model"), dict):
        model_args = loaded.get("model_args")
        if model_args is not None and not isinstance(model_args, dict):
            raise ConversionError(f"{path}: 'model_args' must be a dict, got {type(model_args).__name__}")
        return loaded["model"], model_args, loaded
    if isinstance(loaded, dict) and loaded and all(torch.is_tensor(value) for value in loaded.values()):
        return loaded, None, None
    keys = f" with keys {', '.join(map(str, list(loaded)[:8]))}" if isinstance(loaded, dict) else ""
    raise ConversionError(f"{path}: expected nanoGPT's checkpoint dict (with 'model' and 'model_args') or a "
                          f"state_dict of tensors, got {type(loaded).__name__}{keys}")


def clean_state_dict(state_dict):
    """Strips torch.compile's prefixes and drops the causal-mask buffers."""
    cleaned = {}
    for name, tensor in state_dict.items():
        while name.startswith(COMPILE_PREFIX):
            name = name[len(COMPILE_PREFIX):]
        if MASK_BUFFER.match(name):
            continue
        if not torch.is_tensor(tensor):
            raise ConversionError(f"state_dict entry '{name}' is a {type(tensor).__name__}, not a tensor")
        cleaned[name] = tensor
    return cleaned


def derive_config(tensors, model_args, heads, gelu):
    for name in ("transformer.wte.weight", "transformer.wpe.weight"):
        if name not in tensors or tensors[name].dim() != 2:
            raise ConversionError(f"no 2-D '{name}' tensor: not a nanoGPT GPT state_dict "
                                  f"(found {', '.join(list(tensors)[:6])} …)")
    V, C = tensors["transformer.wte.weight"].shape
    T = tensors["transformer.wpe.weight"].shape[0]
    layers = sorted({int(match.group(1)) for match in map(LAYER_NAME.match, tensors) if match})
    if layers != list(range(len(layers))):
        raise ConversionError(f"layer indices {layers} are not 0..L-1")
    config = {"arch": "gpt", "vocab_size": V, "context_size": T, "embed_size": C, "num_layers": len(layers),
              "num_heads": None, "bias": "transformer.ln_f.bias" in tensors, "dropout": 0.0, "gelu": gelu}

    args = model_args or {}
    for arg, key in (("vocab_size", "vocab_size"), ("block_size", "context_size"), ("n_embd", "embed_size"),
                     ("n_layer", "num_layers"), ("bias", "bias")):
        if arg in args and args[arg] != config[key]:
            raise ConversionError(f"model_args['{arg}'] is {args[arg]!r} but the tensors say {config[key]!r}")
    if "n_head" in args and heads is not None and heads != args["n_head"]:
        raise ConversionError(f"--heads {heads} contradicts model_args['n_head'] = {args['n_head']}")
    num_heads = heads if heads is not None else args.get("n_head")
    if num_heads is None:
        raise ConversionError("the number of attention heads cannot be read from tensor shapes and the checkpoint "
                              "has no model_args['n_head']: pass --heads NH")
    if not isinstance(num_heads, int) or num_heads <= 0 or C % num_heads:
        raise ConversionError(f"num_heads {num_heads!r} must be a positive divisor of embed_size {C}")
    config["num_heads"] = num_heads
    return config


def tokenizer_vocab_size(tokenizer):
    """The vocabulary size a tinylm tokenizer JSON describes (the C++ reader validates the rest)."""
    if not isinstance(tokenizer, dict) or "kind" not in tokenizer:
        raise ConversionError("tokenizer JSON must be an object with a 'kind'")
    if tokenizer["kind"] == "bpe":
        return BYTE_COUNT + len(tokenizer.get("merges", [])) + (2 if tokenizer.get("eos") else 1)
    if "tokens" not in tokenizer:
        raise ConversionError(f"{tokenizer['kind']} tokenizer JSON has no 'tokens'")
    return len(tokenizer["tokens"])


def choose_tokenizer(vocab_size, tokenizer_path, checkpoint):
    if tokenizer_path:
        try:
            with open(tokenizer_path, encoding="utf-8") as stream:
                tokenizer, source = json.load(stream), tokenizer_path
        except (OSError, ValueError) as error:
            raise ConversionError(f"--tokenizer-json {tokenizer_path}: {error}") from None
    elif checkpoint is not None and isinstance(checkpoint.get("tinylm_tokenizer"), str):
        tokenizer, source = json.loads(checkpoint["tinylm_tokenizer"]), "the checkpoint's tinylm_tokenizer"
    elif vocab_size in (BYTE_COUNT + 1, BYTE_COUNT + 2):
        return {"kind": "bpe", "version": 1, "merges": [], "eos": vocab_size == BYTE_COUNT + 2}
    else:
        raise ConversionError(f"vocab_size {vocab_size}: no tokenizer given. Pass --tokenizer-json FILE with the "
                              f"tinylm tokenizer JSON this model was trained with (a plain byte-level tokenizer "
                              f"is only built for vocab_size 257 = 256 bytes + <unk>, or 258 with <eos>)")
    size = tokenizer_vocab_size(tokenizer)
    if size != vocab_size:
        raise ConversionError(f"{source}: the tokenizer has {size} tokens but the model's vocab_size is {vocab_size}")
    return tokenizer


def storable(name, tensor):
    if tensor.dtype in (torch.float32, torch.float16):
        return tensor
    if tensor.dtype == torch.bfloat16:
        return tensor.float()  # every bfloat16 is exactly a float32
    raise ConversionError(f"tensor '{name}': dtype {tensor.dtype} cannot be stored (tinylm reads F32 and F16)")


def to_tinylm(source, destination, heads=None, tokenizer_path=None, gelu=None):
    state_dict, model_args, checkpoint = read_checkpoint(source)
    if gelu is None:  # a checkpoint written by --to-pytorch remembers it; nanoGPT's own use the exact form
        recorded = json.loads(checkpoint["tinylm_config"]) if checkpoint and "tinylm_config" in checkpoint else {}
        gelu = recorded.get("gelu", "exact")
    tensors = clean_state_dict(state_dict)
    config = derive_config(tensors, model_args, heads, gelu)
    tensors = check_tensors(tensors, config, source)
    tensors = {name: storable(name, tensor) for name, tensor in tensors.items()}
    if not torch.equal(tensors["lm_head.weight"], tensors["transformer.wte.weight"]):
        print("convert_nanogpt: note: lm_head.weight differs from transformer.wte.weight (nanoGPT ties them); "
              "both are kept", file=sys.stderr)
    tokenizer = choose_tokenizer(config["vocab_size"], tokenizer_path, checkpoint)
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "config": json.dumps(config, separators=(",", ":")),
                "tokenizer": json.dumps(tokenizer, separators=(",", ":"), ensure_ascii=False)}
    tinylm_safetensors.save(destination, tensors, metadata)
    return config


# ---- tinylm -> PyTorch ---------------------------------------------------------------------------------------

def to_pytorch(source, destination, bare=False, mask_buffers=False):
    try:
        tensors, metadata = tinylm_safetensors.load(source)
    except (OSError, tinylm_safetensors.SafetensorsError) as error:
        raise ConversionError(f"{source}: {error}") from None
    if metadata.get("format") != FORMAT or metadata.get("format_version") != FORMAT_VERSION:
        raise ConversionError(f"{source}: not a tinylm model file of format version {FORMAT_VERSION} (metadata "
                              f"format={metadata.get('format')!r}, format_version={metadata.get('format_version')!r})")
    config = json.loads(metadata.get("config", "{}"))
    if config.get("arch") != "gpt":
        raise ConversionError(f"{source}: config arch is {config.get('arch')!r}; only 'gpt' models convert to nanoGPT")
    for field in ("vocab_size", "context_size", "embed_size", "num_layers", "num_heads", "bias"):
        if field not in config:
            raise ConversionError(f"{source}: config has no '{field}': {metadata['config']}")
    state_dict = check_tensors(tensors, config, source)
    if torch.equal(state_dict["lm_head.weight"], state_dict["transformer.wte.weight"]):
        state_dict["lm_head.weight"] = state_dict["transformer.wte.weight"]  # one storage, as nanoGPT's tying
    if mask_buffers:
        T = config["context_size"]
        with_masks = {}
        for name, tensor in state_dict.items():
            match = re.match(r"^(transformer\.h\.\d+\.attn)\.c_attn\.weight$", name)
            if match:  # a module's buffers precede its children's tensors in state_dict order
                with_masks[match.group(1) + ".bias"] = torch.tril(torch.ones(T, T)).view(1, 1, T, T)
            with_masks[name] = tensor
        state_dict = with_masks
    if config.get("gelu") != "exact":
        print(f"convert_nanogpt: note: this model uses GELU '{config.get('gelu')}'; nanoGPT's model.py uses the "
              f"exact form, so it will compute slightly different outputs there", file=sys.stderr)
    if bare:
        torch.save(state_dict, destination)
        return config
    model_args = {"n_layer": config["num_layers"], "n_head": config["num_heads"], "n_embd": config["embed_size"],
                  "block_size": config["context_size"], "bias": config["bias"], "vocab_size": config["vocab_size"],
                  "dropout": 0.0}
    torch.save({"model": state_dict, "model_args": model_args, "tinylm_config": metadata["config"],
                "tinylm_tokenizer": metadata.get("tokenizer")}, destination)
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(description="Convert nanoGPT checkpoints to tinylm model files and back.")
    parser.add_argument("source", help="nanoGPT checkpoint (.pt), or a tinylm .safetensors with --to-pytorch")
    parser.add_argument("destination", help="tinylm .safetensors, or a PyTorch checkpoint with --to-pytorch")
    parser.add_argument("--to-pytorch", action="store_true", help="convert a tinylm GPT file to a nanoGPT checkpoint")
    parser.add_argument("--heads", type=int, help="attention heads, when the checkpoint has no model_args")
    parser.add_argument("--tokenizer-json", help="tinylm tokenizer JSON file to store in the model file")
    parser.add_argument("--gelu", choices=("exact", "tanh"),
                        help="GELU form the model was trained with (default: exact, as nanoGPT)")
    parser.add_argument("--bare", action="store_true", help="--to-pytorch: write only the state_dict")
    parser.add_argument("--mask-buffers", action="store_true",
                        help="--to-pytorch: add nanoGPT's attn.bias causal masks (PyTorch < 2.0)")
    args = parser.parse_args(argv)
    try:
        if args.to_pytorch:
            config = to_pytorch(args.source, args.destination, args.bare, args.mask_buffers)
        else:
            if args.bare or args.mask_buffers:
                parser.error("--bare and --mask-buffers apply only with --to-pytorch")
            config = to_tinylm(args.source, args.destination, args.heads, args.tokenizer_json, args.gelu)
    except ConversionError as error:
        print(f"convert_nanogpt: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.destination}: {json.dumps(config)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
