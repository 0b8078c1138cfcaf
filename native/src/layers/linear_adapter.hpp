// The hook a model offers beside each of its linear layers, so a trainable term (LoRA, lora/lora_adapter.hpp) can
// be added to a frozen matrix without the model knowing what the term is. A model numbers its adaptable linears
// (TrainableModel::linear_modules() lists them in that order) and, for linear `module` with input in (N,I) and
// output out (N,O):
//   forward:  after out = in·Wᵀ + b, calls forward(module, out, ldo, in, N), which adds the term to out;
//   backward: after the linear's own backward wrote din (N,I), calls backward(module, din, dout, ldo, in, N), which
//             adds the term's input gradient to din and accumulates the term's parameter gradients.
// ldo is the row stride of out and dout: a linear stored inside a fused matrix (Llama's q/k/v_proj in one qkv
// matrix) writes a column range of a wider row. pool is the model's (null: serial); the term's products split over
// it as the linear's own do, so results stay the same whatever the pool's size.
#pragma once

namespace tinylm {

class ThreadPool;

class LinearAdapter {
 public:
  virtual ~LinearAdapter() = default;
  virtual void forward(ThreadPool* pool, int module, float* out, int ldo, const float* in, int N) = 0;
  virtual void backward(ThreadPool* pool, int module, float* din, const float* dout, int ldo, const float* in,
                        int N) = 0;
};

// One linear's place in the model: the adapter attached (null: none, and both calls do nothing) and its index.
struct AdapterSlot {
  LinearAdapter* adapter = nullptr;
  int module = 0;

  void forward(ThreadPool* pool, float* out, int ldo, const float* in, int N) const {
    if (adapter) adapter->forward(pool, module, out, ldo, in, N);
  }
  void backward(ThreadPool* pool, float* din, const float* dout, int ldo, const float* in, int N) const {
    if (adapter) adapter->backward(pool, module, din, dout, ldo, in, N);
  }
};

}  // namespace tinylm
