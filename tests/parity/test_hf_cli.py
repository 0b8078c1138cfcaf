"""The CLI on Hugging Face checkpoint folders: `tinylm eval|generate|train --model DIR` and `tinylm convert`.

Folders in the published layouts (hf_folders.py) hold random weights and a small tokenizer.json of each family — GPT-2's
byte-level BPE, Llama 2's SentencePiece-style BPE with byte fallback and <s> — whose encoding of the test text is one
token per byte or character, so the test knows the ids without a tokenizer library. Checks:
  eval      the loss `tinylm eval --model DIR` prints equals the cross-entropy of a PyTorch reference over the same
            ids (the reference modules of test_hf_gpt2.py and test_hf_llama.py), within 1e-4 relative;
  convert   DIR → one tinylm file: F32 scores and generates exactly as the folder does, F16 and int8 within their
            rounding, and the converted file carries the tokenizer;
  generate  greedy text from the folder equals greedy text from the converted file;
  train     fine-tuning a folder lowers the loss on the text it trained on, and the checkpoint it writes loads;
  errors    a folder without tokenizer.json, convert without a folder, shape flags on a fine-tune: clear messages.

Usage: /usr/bin/python3 tests/parity/test_hf_cli.py --runner build/tinylm_parity_runner --tinylm build/tinylm
Prints one line per case and "N passed, M failed"; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys

import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_folders  # noqa: E402
import test_hf_gpt2 as gpt2  # noqa: E402
import test_hf_llama as llama  # noqa: E402
from parity_common import relative_error  # noqa: E402

TEXT = "call me ishmael. some years ago, never mind how long precisely, having little or no money in my purse."


# ---- tokenizers -----------------------------------------------------------------------------------------------
def byte_to_unicode():
    """GPT-2's map from bytes to the printable characters its vocabulary spells them with."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    characters, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            characters[byte] = chr(byte)
        else:
            characters[byte] = chr(256 + extra)
            extra += 1
    return characters


def gpt2_tokenizer(vocab_size):
    """The byte alphabet, merges the test text never uses (capitals), <|endoftext|> last: vocab_size ids."""
    characters = byte_to_unicode()
    vocab = {characters[byte]: byte for byte in range(256)}
    merges = []
    for left, right in [("Q", "Z"), ("X", "J"), ("QZ", "XJ")][:vocab_size - 257]:
        merges.append(f"{left} {right}")
        vocab[left + right] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    assert len(vocab) == vocab_size, (len(vocab), vocab_size)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tokenizer = {"version": "1.0", "truncation": None, "padding": None,
                 "added_tokens": [{"id": vocab_size - 1, "content": "<|endoftext|>", "single_word": False,
                                   "lstrip": False, "rstrip": False, "normalized": True, "special": True}],
                 "normalizer": None, "pre_tokenizer": byte_level, "post_processor": byte_level, "decoder": byte_level,
                 "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                           "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                           "merges": merges}}
    config = {"model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>",
              "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
    ids = [vocab[characters[byte]] for byte in TEXT.encode()]
    return tokenizer, config, ids


def llama_tokenizer(vocab_size):
    """<unk> <s> </s>, the 256 <0xNN> bytes, "▁" and the text's characters; no merges; <s> before the text."""
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for byte in range(256):
        vocab[f"<0x{byte:02X}>"] = len(vocab)
    for character in "▁" + "".join(sorted(set(TEXT) - {" "})):
        vocab[character] = len(vocab)
    while len(vocab) < vocab_size:  # pad the vocabulary with pieces the text never forms
        vocab[f"▁Q{len(vocab)}"] = len(vocab)
    assert len(vocab) == vocab_size, (len(vocab), vocab_size)
    special = [{"id": i, "content": token, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True} for i, token in enumerate(["<unk>", "<s>", "</s>"])]
    tokenizer = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": special,
                 "normalizer": {"type": "Sequence", "normalizers": [
                     {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "},
                                                           "content": "▁"}]},
                 "pre_tokenizer": None,
                 "post_processor": {"type": "TemplateProcessing",
                                    "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                               {"Sequence": {"id": "A", "type_id": 0}}],
                                    "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                             {"Sequence": {"id": "A", "type_id": 0}},
                                             {"SpecialToken": {"id": "<s>", "type_id": 1}},
                                             {"Sequence": {"id": "B", "type_id": 1}}],
                                    "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
                 "decoder": {"type": "Sequence", "decoders": [
                     {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"},
                     {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
                 "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                           "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "vocab": vocab,
                           "merges": []}}
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
              "unk_token": "<unk>", "legacy": True, "tokenizer_class": "LlamaTokenizer", "model_max_length": 2048}
    ids = [1] + [vocab[character] for character in "▁" + TEXT.replace(" ", "▁")]
    return tokenizer, config, ids


# ---- the folders --------------------------------------------------------------------------------------------
def write_tokenizer(folder, tokenizer, config):
    with open(os.path.join(folder, "tokenizer.json"), "w") as stream:
        json.dump(tokenizer, stream, ensure_ascii=False)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as stream:
        json.dump(config, stream, ensure_ascii=False)


def gpt2_folder(workdir):
    """A published-layout GPT-2 folder (context 128 > the text's length) and its reference module."""
    gpt2.V, gpt2.POSITIONS = 260, 128
    torch.manual_seed(11)
    model = gpt2.GPT2LMHeadModel("gelu_new").double()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.1)
    state = {name: tensor.float() for name, tensor in model.state_dict().items()}
    folder = os.path.join(workdir, "gpt2")
    hf_folders.write_folder(folder, gpt2.published_config("gelu_new"), gpt2.layout_tensors(state, "published"), "F32")
    tokenizer, config, ids = gpt2_tokenizer(gpt2.V)
    write_tokenizer(folder, tokenizer, config)
    model.load_state_dict({name: tensor.double() for name, tensor in state.items()})
    return folder, model, ids


def llama_folder(workdir):
    """A SmolLM2-style Llama folder in BF16 (tied, grouped-query) and its reference module."""
    llama.V = 290
    tokenizer, config, ids = llama_tokenizer(llama.V)
    llama_config = llama.llama_config(6, 2, 128, True)
    torch.manual_seed(12)
    model = llama.LlamaForCausalLM(llama_config).double()
    state = llama.random_state(model)
    del state["lm_head.weight"]
    folder = os.path.join(workdir, "llama")
    hf_folders.write_folder(folder, llama_config, state, "BF16")
    write_tokenizer(folder, tokenizer, config)
    model.load_state_dict({name: tensor.double() for name, tensor in hf_folders.read_folder(folder).items()},
                          strict=False)
    return folder, model, ids


# ---- checks -------------------------------------------------------------------------------------------------
def run(tinylm, *arguments, expect_failure=False):
    """stdout as bytes (random weights generate any bytes, not necessarily UTF-8), or stderr on expected failure."""
    result = subprocess.run([tinylm, *arguments], capture_output=True)
    stderr = result.stderr.decode(errors="replace")
    if expect_failure:
        assert result.returncode != 0, f"{arguments} succeeded"
        return stderr
    assert result.returncode == 0, f"{arguments} failed: {stderr}"
    return result.stdout


def eval_loss(tinylm, model_path, data_path):
    return json.loads(run(tinylm, "eval", "--model", model_path, "--data", data_path))["loss"]


def greedy(tinylm, model_path):
    return run(tinylm, "generate", "--model", model_path, "--prompt", "call me", "--max-tokens", "24",
               "--temperature", "0", "--step-precision", "float")


def check_family(tinylm, workdir, name, folder, model, ids):
    failures = []
    data = os.path.join(workdir, "text.txt")
    with open(data, "w") as stream:
        stream.write(TEXT)
    # eval: the whole text is one window (shorter than the context), every prediction scored once.
    with torch.no_grad():
        logits = model(torch.tensor([ids]))[0]
        reference = F.cross_entropy(logits[:-1], torch.tensor(ids[1:])).item()
    folder_loss = eval_loss(tinylm, folder, data)
    error = relative_error(torch.tensor([folder_loss], dtype=torch.float64), torch.tensor([reference]))
    print(f"     {name} eval: tinylm {folder_loss:.8f}, PyTorch {reference:.8f}, relative error {error:.1e}")
    if not error <= 1e-4:
        failures.append(f"{name}: eval loss {folder_loss} vs PyTorch {reference}")

    folder_text = greedy(tinylm, folder)
    for dtype, tolerance in (("f32", 0.0), ("f16", 2e-2), ("int8", 5e-2)):
        out = os.path.join(workdir, f"{name}-{dtype}.safetensors")
        report = json.loads(run(tinylm, "convert", folder, "--out", out, "--dtype", dtype))
        loss = eval_loss(tinylm, out, data)
        if abs(loss - folder_loss) > tolerance * abs(folder_loss):
            failures.append(f"{name}: converted {dtype} eval loss {loss} vs the folder's {folder_loss}")
        if dtype == "f32" and greedy(tinylm, out) != folder_text:
            failures.append(f"{name}: greedy text of the converted file differs from the folder's")
        if report["dtype"] != dtype or report["bytes"] != os.path.getsize(out):
            failures.append(f"{name}: convert reported {report}")

    trained = os.path.join(workdir, f"{name}-tuned.safetensors")
    run(tinylm, "train", "--model", folder, "--data", data, "--steps", "30", "--batch", "4", "--seq", "32",
        "--lr", "3e-3", "--val-fraction", "0", "--quiet", "--out", trained)
    tuned_loss = eval_loss(tinylm, trained, data)
    print(f"     {name} fine-tune: eval loss {folder_loss:.4f} → {tuned_loss:.4f} after 30 steps on the text")
    if not tuned_loss < 0.8 * folder_loss:
        failures.append(f"{name}: fine-tuning left the loss at {tuned_loss} (from {folder_loss})")
    return failures


def check_errors(tinylm, workdir, folder):
    failures = []
    bare = os.path.join(workdir, "bare")
    os.makedirs(bare, exist_ok=True)
    for file in ("config.json", "model.safetensors"):
        with open(os.path.join(folder, file), "rb") as source, open(os.path.join(bare, file), "wb") as target:
            target.write(source.read())
    expectations = [
        (("generate", "--model", bare), "has no tokenizer.json"),
        (("convert", "--out", os.path.join(workdir, "x.safetensors")), "convert needs the checkpoint folder first"),
        (("convert", workdir, "--out", os.path.join(workdir, "x.safetensors")), "is not a Hugging Face checkpoint"),
        (("train", "--model", folder, "--layers", "3"), "--layers describes a new model"),
    ]
    for arguments, message in expectations:
        stderr = run(tinylm, *arguments, expect_failure=True)
        if message not in stderr:
            failures.append(f"{' '.join(arguments[:1])}: expected '{message}', got: {stderr.strip()}")
    return failures


def main():
    import argparse
    import tempfile
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runner")
    parser.add_argument("--tinylm", required=True)
    args = parser.parse_args()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        checks = [("gpt2 folder", lambda: check_family(args.tinylm, workdir, "gpt2", *gpt2_folder(workdir))),
                  ("llama folder", lambda: check_family(args.tinylm, workdir, "llama", *llama_folder(workdir))),
                  ("errors", lambda: check_errors(args.tinylm, workdir, os.path.join(workdir, "llama")))]
        for label, check in checks:
            failures = check()
            print(f"{'ok' if not failures else 'FAIL':4} {label}")
            for failure in failures:
                print(f"     {failure}")
            passed += not failures
            failed += bool(failures)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
