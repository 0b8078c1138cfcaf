"""PyTorch parity for the recurrent language models (RNN tanh/ReLU, LSTM, GRU; 1 and 2 layers).

For random weights, one safetensors file is read by tinylm (through tinylm_parity_runner) and by a PyTorch model
built from nn.Embedding / nn.RNN|LSTM|GRU / nn.Linear. Over two consecutive windows with the hidden state carried
from the first to the second (stateful truncated BPTT, state detached between windows), they must agree on logits
and loss of both windows, the gradients of the second window, step-by-step generation logits, and the parameters
after one Adam step — each within a relative error of 1e-4 (max |ours − torch| / max |torch|).

Usage: /usr/bin/python3 tests/parity/test_recurrent.py --runner build/tinylm_parity_runner
"""
import json
import os
import subprocess
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tinylm_safetensors  # noqa: E402
from parity_common import relative_error, run_cases, verdict  # noqa: E402

V, E, H, B, WINDOWS = 23, 12, 20, 3, 2
# 3×7 positions < 2V: tinylm's first layer multiplies every position; 3×16 ≥ 2V: it projects the V embedding rows
# once and gathers. Both paths are checked.
WINDOW_LENGTHS = (7, 16)


class RecurrentLM(torch.nn.Module):
    def __init__(self, arch, layers):
        super().__init__()
        self.embed = torch.nn.Embedding(V, E)
        if arch == "lstm":
            self.rnn = torch.nn.LSTM(E, H, layers, batch_first=True)
        elif arch == "gru":
            self.rnn = torch.nn.GRU(E, H, layers, batch_first=True)
        else:
            self.rnn = torch.nn.RNN(E, H, layers, batch_first=True, nonlinearity=arch.split("_")[1])
        self.head = torch.nn.Linear(H, V)

    def forward(self, inputs, state):
        hidden, state = self.rnn(self.embed(inputs), state)
        return self.head(hidden), state


def check_case(runner, workdir, arch, layers, T):
    torch.manual_seed(zlib.crc32(f"{arch}/{layers}/{T}".encode()))  # the same weights on every run
    model = RecurrentLM(arch, layers).double()
    with torch.no_grad():  # larger than default weights so the gates leave their linear region
        for parameter in model.rnn.parameters():
            parameter.uniform_(-0.6, 0.6)
    config = {"arch": arch, "vocab_size": V, "embed_size": E, "hidden_size": H, "num_layers": layers,
              "dropout": 0.0}
    model_path = os.path.join(workdir, "model.safetensors")
    batch_path = os.path.join(workdir, "batch.safetensors")
    out_path = os.path.join(workdir, "out.safetensors")
    state_dict = {name: tensor.float() for name, tensor in model.state_dict().items()}
    tinylm_safetensors.save(model_path, state_dict, {"config": json.dumps(config)})
    inputs = torch.randint(0, V, (WINDOWS, B, T))
    targets = torch.randint(0, V, (WINDOWS, B, T))
    targets[1, 0, 2] = -1  # an ignored position
    tinylm_safetensors.save(batch_path, {"inputs": inputs.float(), "targets": targets.float()})
    subprocess.run([runner, model_path, batch_path, out_path], check=True)
    ours, _ = tinylm_safetensors.load(out_path)

    # The reference, in float64 from the same float32 weights.
    model.load_state_dict({name: tensor.double() for name, tensor in state_dict.items()})
    state = None
    errors = {}
    for window in range(WINDOWS):
        model.zero_grad()
        logits, state = model(inputs[window], state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets[window].reshape(-1),
                                                 ignore_index=-1)
        loss.backward()
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        errors[f"logits.{window}"] = relative_error(ours[f"logits.{window}"], logits.detach())
        errors[f"loss.{window}"] = relative_error(ours["loss"][window:window + 1], loss.detach().reshape(1))
    for name, parameter in model.named_parameters():
        errors[f"grad.{name}"] = relative_error(ours[f"grad.{name}"], parameter.grad)

    with torch.no_grad():
        step_model = RecurrentLM(arch, layers).double()
        step_model.load_state_dict(model.state_dict())
        step_state = None
        rows = []
        for t in range(T):
            row, step_state = step_model(inputs[0, 0, t].reshape(1, 1), step_state)
            rows.append(row.reshape(V))
        errors["step_logits"] = relative_error(ours["step_logits"], torch.stack(rows))

    # The optimizer is checked on its own: the same gradients in (tinylm's, already compared above) must give the
    # same parameters out. Feeding PyTorch's float64 gradients instead would measure Adam's sensitivity where a
    # gradient is near eps (g / (|g| + 1e-8)), not a difference between the implementations.
    for name, parameter in model.named_parameters():
        parameter.grad = ours[f"grad.{name}"].double()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    optimizer.step()
    for name, parameter in model.named_parameters():
        errors[f"adam.{name}"] = relative_error(ours[f"adam.{name}"], parameter.detach())

    return verdict(errors)


def main():
    cases = [(f"{arch} layers={layers} T={T}", (arch, layers, T))
             for arch in ["rnn_tanh", "rnn_relu", "lstm", "gru"] for layers in (1, 2) for T in WINDOW_LENGTHS]
    run_cases(__doc__.splitlines()[0], cases, check_case)


if __name__ == "__main__":
    main()
