// One recurrent layer (vanilla RNN, LSTM or GRU) over a window of T steps for B sequences, with PyTorch's
// equations, gate orders (LSTM i,f,g,o; GRU r,z,n) and weight layouts (weight_ih (G·H, I), weight_hh (G·H, H)).
//
// Data is time-major: input (T,B,I), outputs (T,B,H). The input projection of all T steps is one GEMM; each
// step then adds h_prev·W_hhᵀ (a (B,G·H) GEMM) and runs the fused gate kernel. Backward walks the steps in
// reverse, then forms every weight gradient with one GEMM over all T·B rows. Gradients do not flow into the
// initial state (truncated BPTT).
//
// Threads (`pool`, null: serial): a batch row's recurrence reads only its own previous state, so the step loops
// split the B rows over the pool and each thread runs every step of its rows with no synchronisation between
// steps; the GEMMs over all T·B rows split their output (parallel_kernels.hpp). Element-wise passes run row by
// row, so results do not depend on the pool's size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"

namespace tinylm {

class ThreadPool;

enum class CellKind { RnnTanh, RnnRelu, Lstm, Gru };
int gate_count(CellKind kind);  // G: 1, 1, 4, 3
const char* cell_kind_name(CellKind kind);  // "rnn_tanh", "rnn_relu", "lstm", "gru"
bool parse_cell_kind(const std::string& name, CellKind* kind);

struct RecurrentWeights {
  const float* weight_ih;  // (G·H, I)
  const float* weight_hh;  // (G·H, H)
  const float* bias_ih;    // (G·H)
  const float* bias_hh;    // (G·H)
};

struct RecurrentGrads {
  float* weight_ih;  // (G·H, I)
  float* weight_hh;  // (G·H, H)
  float* bias_ih;    // (G·H)
  float* bias_hh;    // (G·H)
};

// Activations kept for backward, plus backward scratch. Buffers only grow, so steady-state steps allocate nothing.
struct RecurrentCache {
  std::vector<float> gates;    // (T,B,G·H) LSTM: activated i,f,g,o; GRU: activated r,z,n; RNN: pre-activation
  std::vector<float> hgates;   // (T,B,3H) GRU only: h_prev·W_hhᵀ + b_hh
  std::vector<float> h;        // (T,B,H) hidden state after each step (the layer's output)
  std::vector<float> c;        // (T,B,H) LSTM cell state after each step
  std::vector<float> h0, c0;   // (B,H) state before the first step
  std::vector<float> dgates;   // (T,B,G·H) backward: gradient w.r.t. input-side pre-activations
  std::vector<float> dhn;      // (T,B,H) backward, GRU: gradient w.r.t. h_n (h_r's and h_z's are dgates')
  std::vector<float> dstate;   // (B,H) backward: dc carry (LSTM) or discarded dh0 (GRU)
  std::vector<float> dbias;    // (G·H) backward: column sums of the gate gradients
  PackedMatrix packed_weight_hn;  // GRU backward: W_hh's n rows (packed_weight_hh then holds its r, z rows)
  PackedMatrix packed_weight_hh;  // W_hh packed once per forward (as W_hhᵀ) and once per backward (as W_hh, or
                                  // [W_hh | W_ih] when backward forms dinput step by step)
  std::vector<float> hidden_and_input;  // (G·H, H+I) backward: W_hh and W_ih side by side, before packing
  std::vector<float> step_product;      // (B, H+I) backward: [dh_prev | dinput_t] of one step
};

// Who forms the input side and its gradients. Computed: the layer does (GEMMs over all T·B rows). Caller: the
// caller has a cheaper way — an embedding layer below can project its V rows once instead of T·B — so forward
// expects cache.gates (T,B,G·H) to hold the whole input side already, x·W_ihᵀ + input_side_bias(), and backward
// leaves dW_ih and dinput to the caller, who reads cache.dgates.
enum class InputSide { Computed, Caller };
// The bias the input side carries (G·H): b_ih + b_hh, or b_ih alone for GRU (whose b_hn sits inside r⊙(·)).
void input_side_bias(float* bias, const RecurrentWeights& weights, CellKind kind, int H);

// input (T,B,I); h0, c0 (B,H) (c0 ignored unless LSTM). Fills cache; outputs are cache.h.
void recurrent_forward(ThreadPool* pool, RecurrentCache& cache, const float* input, const float* h0, const float* c0,
                       const RecurrentWeights& weights, CellKind kind, int T, int B, int I, int H,
                       InputSide input_side = InputSide::Computed);

// dh (T,B,H): gradient w.r.t. the outputs; used as workspace (clobbered). Accumulates into grads and, when
// dinput is not null, into dinput (T,B,I). On return cache.dgates (T,B,G·H) holds the gradient w.r.t. x·W_ihᵀ.
void recurrent_backward(ThreadPool* pool, float* dinput, const RecurrentGrads& grads, float* dh, const float* input,
                        RecurrentCache& cache, const RecurrentWeights& weights, CellKind kind, int T, int B, int I,
                        int H, InputSide input_side = InputSide::Computed);

// A compact copy of a weight matrix (rows, cols) that generation reads instead of the floats, for less memory
// traffic per token: half precision, or int8 with per-row scales. All null = read the floats.
struct CompactMatrix {
  const uint16_t* half = nullptr;  // (rows, cols) as half-precision panels (convert_to_half_panels)
  const int8_t* int8 = nullptr;    // (rows, cols), weight ≈ scales[row]·int8
  const float* scales = nullptr;   // (rows), with int8
};
// y (rows) += W (rows, cols) · x (cols), reading W's compact copy when there is one; rows split over pool when the
// matrix is large enough to gain.
void matrix_vector_accumulate(ThreadPool* pool, float* y, const float* weight, const CompactMatrix& compact,
                              const float* x, int rows, int cols);

// One generation step for a single sequence (B = 1): x (I) → h, c (H) updated in place. scratch holds ≥ 2·G·H + H
// floats. The products read weight_ih_compact / weight_hh_compact (copies of the same matrices) when given.
void recurrent_step(ThreadPool* pool, float* h, float* c, float* scratch, const float* x,
                    const RecurrentWeights& weights, CellKind kind, int I, int H,
                    const CompactMatrix& weight_ih_compact = {}, const CompactMatrix& weight_hh_compact = {});

}  // namespace tinylm
