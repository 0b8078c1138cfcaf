"""Hugging Face checkpoint folders as the Hub publishes them, written from a state_dict, for the parity tests.

A folder holds config.json (the fields given, as transformers' save_pretrained or a published repository writes
them), generation_config.json, and the weights in `dtype` (F32, F16 or BF16) with safetensors' {"format": "pt"}
metadata: one model.safetensors, or — with shards > 1 — model-0000k-of-0000n.safetensors files and a
model.safetensors.index.json whose weight_map names each tensor's shard, as save_pretrained shards a large model.
`read_folder` reads the weights back as stored (rounded to their dtype), so the reference runs from exactly the values
tinylm reads.
"""
import json
import os

import torch

import tinylm_safetensors

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def write_folder(path, config, tensors, dtype="F32", shards=1, generation_config=None):
    """Writes the folder; `tensors` is {name: tensor} in state_dict order (floating tensors are cast to dtype,
    integer and boolean buffers kept)."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as stream:
        json.dump(config, stream, indent=2, sort_keys=True)
    if generation_config is not None:
        with open(os.path.join(path, "generation_config.json"), "w") as stream:
            json.dump(generation_config, stream, indent=2)
    stored = {name: tensor.to(DTYPES[dtype]) if tensor.is_floating_point() else tensor
              for name, tensor in tensors.items()}
    names = list(stored)
    if shards == 1:
        tinylm_safetensors.save(os.path.join(path, "model.safetensors"), stored, {"format": "pt"})
        return
    weight_map, total = {}, 0
    per_shard = -(-len(names) // shards)
    for index in range(shards):
        file = f"model-{index + 1:05d}-of-{shards:05d}.safetensors"
        part = {name: stored[name] for name in names[index * per_shard:(index + 1) * per_shard]}
        tinylm_safetensors.save(os.path.join(path, file), part, {"format": "pt"})
        for name, tensor in part.items():
            weight_map[name] = file
            total += tensor.numel() * tensor.element_size()
    with open(os.path.join(path, "model.safetensors.index.json"), "w") as stream:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, stream, indent=2, sort_keys=True)


def read_folder(path):
    """{name: tensor} of every weight file in the folder, as stored."""
    tensors = {}
    for file in sorted(os.listdir(path)):
        if file.endswith(".safetensors"):
            tensors.update(tinylm_safetensors.load(os.path.join(path, file))[0])
    return tensors
