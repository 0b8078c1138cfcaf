#include "layers/recurrent.hpp"

#include <algorithm>
#include <cstring>

#include "kernels/kernels.hpp"
#include "layers/linear.hpp"

namespace tinylm {

int gate_count(CellKind kind) {
  switch (kind) {
    case CellKind::Lstm: return 4;
    case CellKind::Gru: return 3;
    default: return 1;
  }
}

const char* cell_kind_name(CellKind kind) {
  switch (kind) {
    case CellKind::RnnTanh: return "rnn_tanh";
    case CellKind::RnnRelu: return "rnn_relu";
    case CellKind::Lstm: return "lstm";
    case CellKind::Gru: return "gru";
  }
  return "?";
}

bool parse_cell_kind(const std::string& name, CellKind* kind) {
  for (CellKind candidate : {CellKind::RnnTanh, CellKind::RnnRelu, CellKind::Lstm, CellKind::Gru}) {
    if (name == cell_kind_name(candidate)) {
      *kind = candidate;
      return true;
    }
  }
  if (name == "rnn") {  // PyTorch's nn.RNN default nonlinearity
    *kind = CellKind::RnnTanh;
    return true;
  }
  return false;
}

namespace {

void grow(std::vector<float>& buffer, size_t size) {
  if (buffer.size() < size) buffer.resize(size);
}

// rows (N, width) = bias, broadcast
void fill_rows(float* rows, const float* bias, int N, int width) {
  for (int n = 0; n < N; ++n) std::memcpy(rows + int64_t(n) * width, bias, sizeof(float) * width);
}

}  // namespace

void recurrent_forward(RecurrentCache& cache, const float* input, const float* h0, const float* c0,
                       const RecurrentWeights& weights, CellKind kind, int T, int B, int I, int H,
                       InputSide input_side) {
  const int G = gate_count(kind), GH = G * H;
  const int64_t step_gates = int64_t(B) * GH, step_state = int64_t(B) * H;
  grow(cache.gates, T * step_gates);
  grow(cache.h, T * step_state);
  cache.h0.assign(h0, h0 + step_state);
  if (kind == CellKind::Lstm) {
    grow(cache.c, T * step_state);
    cache.c0.assign(c0, c0 + step_state);
  }
  if (kind == CellKind::Gru) grow(cache.hgates, T * step_gates);

  // Input side for all steps at once: gates = input·W_ihᵀ + b_ih (+ b_hh, except GRU where b_hn sits inside r⊙·).
  float* gates = cache.gates.data();
  if (input_side == InputSide::Computed) fill_rows(gates, weights.bias_ih, T * B, GH);
  else for (int64_t n = 0; n < int64_t(T) * B; ++n) axpy(gates + n * GH, 1.0f, weights.bias_ih, GH);
  if (kind != CellKind::Gru) {
    for (int64_t n = 0; n < int64_t(T) * B; ++n) axpy(gates + n * GH, 1.0f, weights.bias_hh, GH);
  }
  if (input_side == InputSide::Computed) sgemm_nt(gates, GH, input, I, weights.weight_ih, I, T * B, GH, I, 1.0f);
  PackedMatrix& weight_hh_t = cache.packed_weight_hh;
  weight_hh_t.pack_nt(weights.weight_hh, H, GH, H);

  for (int t = 0; t < T; ++t) {
    const float* h_prev = t ? cache.h.data() + (t - 1) * step_state : cache.h0.data();
    float* h = cache.h.data() + t * step_state;
    float* gates_t = gates + t * step_gates;
    switch (kind) {
      case CellKind::Lstm: {
        const float* c_prev = t ? cache.c.data() + (t - 1) * step_state : cache.c0.data();
        sgemm_packed(gates_t, GH, h_prev, H, weight_hh_t, B, 1.0f);
        lstm_gates_forward(h, cache.c.data() + t * step_state, gates_t, c_prev, B, H);
        break;
      }
      case CellKind::Gru: {
        float* hgates_t = cache.hgates.data() + t * step_gates;
        fill_rows(hgates_t, weights.bias_hh, B, GH);
        sgemm_packed(hgates_t, GH, h_prev, H, weight_hh_t, B, 1.0f);
        gru_gates_forward(h, gates_t, hgates_t, h_prev, B, H);
        break;
      }
      case CellKind::RnnTanh:
      case CellKind::RnnRelu:
        sgemm_packed(gates_t, GH, h_prev, H, weight_hh_t, B, 1.0f);
        if (kind == CellKind::RnnTanh) tanh_forward(h, gates_t, step_state);
        else relu_forward(h, gates_t, step_state);
        break;
    }
  }
}

void recurrent_backward(float* dinput, const RecurrentGrads& grads, float* dh, const float* input,
                        RecurrentCache& cache, const RecurrentWeights& weights, CellKind kind, int T, int B, int I,
                        int H, InputSide input_side) {
  const int G = gate_count(kind), GH = G * H;
  const int64_t step_gates = int64_t(B) * GH, step_state = int64_t(B) * H;
  grow(cache.dgates, T * step_gates);
  grow(cache.dstate, step_state);
  if (kind == CellKind::Gru) grow(cache.dhgates, T * step_gates);
  float* dgates = cache.dgates.data();
  // LSTM, RNN: the hidden side sees the same pre-activation gradient as the input side.
  float* dgates_hidden = kind == CellKind::Gru ? cache.dhgates.data() : dgates;
  float* dstate = cache.dstate.data();
  std::fill(dstate, dstate + step_state, 0.0f);
  PackedMatrix& weight_hh = cache.packed_weight_hh;
  weight_hh.pack_nn(weights.weight_hh, H, GH, H);

  for (int t = T - 1; t >= 0; --t) {
    const float* h_prev = t ? cache.h.data() + (t - 1) * step_state : cache.h0.data();
    const float* dh_t = dh + t * step_state;  // complete: the step above added its share already
    float* dh_prev = t ? dh + (t - 1) * step_state : nullptr;
    float* dgates_t = dgates + t * step_gates;
    float* dgates_hidden_t = dgates_hidden + t * step_gates;
    switch (kind) {
      case CellKind::Lstm: {
        const float* c_prev = t ? cache.c.data() + (t - 1) * step_state : cache.c0.data();
        lstm_gates_backward(dgates_t, dstate, dh_t, dstate, cache.gates.data() + t * step_gates,
                            cache.c.data() + t * step_state, c_prev, B, H);
        break;
      }
      case CellKind::Gru:
        // The direct path z⊙dh goes straight into dh_prev (or into scratch at t = 0, where it is dropped).
        gru_gates_backward(dgates_t, dgates_hidden_t, dh_prev ? dh_prev : dstate, dh_t,
                           cache.gates.data() + t * step_gates, cache.hgates.data() + t * step_gates, h_prev, B, H);
        break;
      case CellKind::RnnTanh:
      case CellKind::RnnRelu: {
        const float* h = cache.h.data() + t * step_state;
        std::fill(dgates_t, dgates_t + step_gates, 0.0f);
        if (kind == CellKind::RnnTanh) tanh_backward(dgates_t, dh_t, h, step_state);
        else relu_backward(dgates_t, dh_t, h, step_state);
        break;
      }
    }
    if (dh_prev) sgemm_packed(dh_prev, H, dgates_hidden_t, GH, weight_hh, B, 1.0f);
  }

  // Weight gradients over all steps: dW_hh += Σ_t dgates_hidden[t]ᵀ·h_prev[t], with h_prev[0] = h0.
  sgemm_tn(grads.weight_hh, H, dgates_hidden, GH, cache.h0.data(), H, GH, H, B, 1.0f);
  if (T > 1) {
    sgemm_tn(grads.weight_hh, H, dgates_hidden + step_gates, GH, cache.h.data(), H, GH, H, (T - 1) * B, 1.0f);
  }
  bias_backward(grads.bias_hh, dgates_hidden, T * B, GH);
  bias_backward(grads.bias_ih, dgates, T * B, GH);
  if (input_side == InputSide::Caller) return;
  sgemm_tn(grads.weight_ih, I, dgates, GH, input, I, GH, I, T * B, 1.0f);
  if (dinput) sgemm_nn(dinput, I, dgates, GH, weights.weight_ih, I, T * B, I, GH, 1.0f);
}

void recurrent_step(float* h, float* c, float* scratch, const float* x, const RecurrentWeights& weights,
                    CellKind kind, int I, int H, const uint16_t* weight_ih_half, const uint16_t* weight_hh_half) {
  const int GH = gate_count(kind) * H;
  auto multiply = [](float* y, const float* weight, const uint16_t* weight_half, const float* v, int rows, int cols) {
    if (weight_half) sgemv_f16(y, weight_half, cols, v, rows, cols, 1.0f);
    else sgemv(y, weight, cols, v, rows, cols, 1.0f);
  };
  float* gates = scratch;
  std::memcpy(gates, weights.bias_ih, sizeof(float) * GH);
  multiply(gates, weights.weight_ih, weight_ih_half, x, GH, I);
  if (kind == CellKind::Gru) {
    float* hgates = scratch + GH;
    std::memcpy(hgates, weights.bias_hh, sizeof(float) * GH);
    multiply(hgates, weights.weight_hh, weight_hh_half, h, GH, H);
    float* h_prev = hgates + GH;  // kernels take distinct input and output buffers
    std::memcpy(h_prev, h, sizeof(float) * H);
    gru_gates_forward(h, gates, hgates, h_prev, 1, H);
    return;
  }
  axpy(gates, 1.0f, weights.bias_hh, GH);
  multiply(gates, weights.weight_hh, weight_hh_half, h, GH, H);
  switch (kind) {
    case CellKind::Lstm: {
      float* c_prev = gates + GH;
      std::memcpy(c_prev, c, sizeof(float) * H);
      lstm_gates_forward(h, c, gates, c_prev, 1, H);
      break;
    }
    case CellKind::RnnTanh: tanh_forward(h, gates, H); break;
    case CellKind::RnnRelu: relu_forward(h, gates, H); break;
    case CellKind::Gru: break;
  }
}

}  // namespace tinylm
