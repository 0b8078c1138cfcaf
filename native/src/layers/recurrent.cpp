#include "layers/recurrent.hpp"

#include <algorithm>
#include <cstring>

#include "layers/linear.hpp"
#include "parallel/parallel_kernels.hpp"

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

void input_side_bias(float* bias, const RecurrentWeights& weights, CellKind kind, int H) {
  const int GH = gate_count(kind) * H;
  std::memcpy(bias, weights.bias_ih, sizeof(float) * GH);
  if (kind != CellKind::Gru) axpy(bias, 1.0f, weights.bias_hh, GH);
}

namespace {

void grow(std::vector<float>& buffer, size_t size) {
  if (buffer.size() < size) buffer.resize(size);
}

// Batch rows per chunk of a step loop: each row is a whole recurrence of T steps, work enough on its own.
constexpr int64_t kBatchGrain = 1;

}  // namespace

void recurrent_forward(ThreadPool* pool, RecurrentCache& cache, const float* input, const float* h0, const float* c0,
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

  // Input side for all steps at once: gates = input·W_ihᵀ + input_side_bias.
  float* gates = cache.gates.data();
  if (input_side == InputSide::Computed) {
    grow(cache.dbias, GH);  // free until backward: holds the bias row here
    input_side_bias(cache.dbias.data(), weights, kind, H);
    sgemm_nt_bias(pool, gates, GH, input, I, weights.weight_ih, I, cache.dbias.data(), T * B, GH, I);
  }
  PackedMatrix& weight_hh_t = cache.packed_weight_hh;
  pack_nt(pool, weight_hh_t, weights.weight_hh, H, GH, H);

  // Batch rows [b0, b1) through all T steps: row b's step reads only row b of the previous state.
  parallel_for(pool, B, kBatchGrain, [&](int64_t b0, int64_t b1) {
    const int rows = int(b1 - b0);
    for (int t = 0; t < T; ++t) {
      const float* h_prev = (t ? cache.h.data() + (t - 1) * step_state : cache.h0.data()) + b0 * H;
      float* h = cache.h.data() + t * step_state + b0 * H;
      float* gates_t = gates + t * step_gates + b0 * GH;
      switch (kind) {
        case CellKind::Lstm: {
          const float* c_prev = (t ? cache.c.data() + (t - 1) * step_state : cache.c0.data()) + b0 * H;
          sgemm_packed(gates_t, GH, h_prev, H, weight_hh_t, rows, 1.0f);
          lstm_gates_forward(h, cache.c.data() + t * step_state + b0 * H, gates_t, c_prev, rows, H);
          break;
        }
        case CellKind::Gru: {
          float* hgates_t = cache.hgates.data() + t * step_gates + b0 * GH;
          sgemm_packed(hgates_t, GH, h_prev, H, weight_hh_t, rows, 0.0f, weights.bias_hh);
          gru_gates_forward(h, gates_t, hgates_t, h_prev, rows, H);
          break;
        }
        case CellKind::RnnTanh:
        case CellKind::RnnRelu:
          sgemm_packed(gates_t, GH, h_prev, H, weight_hh_t, rows, 1.0f);
          for (int b = 0; b < rows; ++b) {  // row by row: the SIMD tail of each row is where one serial pass has it
            if (kind == CellKind::RnnTanh) tanh_forward(h + int64_t(b) * H, gates_t + int64_t(b) * H, H);
            else relu_forward(h + int64_t(b) * H, gates_t + int64_t(b) * H, H);
          }
          break;
      }
    }
  });
}

void recurrent_backward(ThreadPool* pool, float* dinput, const RecurrentGrads& grads, float* dh, const float* input,
                        RecurrentCache& cache, const RecurrentWeights& weights, CellKind kind, int T, int B, int I,
                        int H, InputSide input_side) {
  const int G = gate_count(kind), GH = G * H;
  const int64_t step_gates = int64_t(B) * GH, step_state = int64_t(B) * H;
  const bool gru = kind == CellKind::Gru;
  grow(cache.dgates, T * step_gates);
  grow(cache.dstate, step_state);
  if (gru) grow(cache.dhn, T * step_state);
  float* dgates = cache.dgates.data();
  // LSTM, RNN: the hidden side sees the same pre-activation gradient as the input side. GRU: the same for r and z;
  // only h_n's differs (dhn, (T,B,H)), so W_hh's product is split into its r,z rows and its n rows.
  float* dhn = gru ? cache.dhn.data() : nullptr;
  float* dstate = cache.dstate.data();
  std::fill(dstate, dstate + step_state, 0.0f);
  // Where both sides share the gate gradient (LSTM, RNN) and the caller wants dinput, each step forms
  // [dh_prev | dinput_t] = dgates_t · [W_hh | W_ih] in one product with the gradient still in cache, instead of a
  // separate (T·B, I) product over all of dgates afterwards.
  const bool fused_input = dinput && !gru && input_side == InputSide::Computed;
  const int out_width = fused_input ? H + I : H;  // columns of the per-step product
  PackedMatrix& packed = cache.packed_weight_hh;
  if (fused_input) {
    grow(cache.hidden_and_input, size_t(GH) * out_width);
    float* combined = cache.hidden_and_input.data();  // (G·H, H+I): W_hh then W_ih, side by side
    parallel_rows(pool, GH, out_width, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        std::memcpy(combined + row * out_width, weights.weight_hh + row * H, sizeof(float) * H);
        std::memcpy(combined + row * out_width + H, weights.weight_ih + row * I, sizeof(float) * I);
      }
    });
    pack_nn(pool, packed, combined, out_width, GH, out_width);
    grow(cache.step_product, size_t(B) * out_width);
  } else if (gru) {
    pack_nn(pool, packed, weights.weight_hh, H, 2 * H, H);  // rows r, z
    pack_nn(pool, cache.packed_weight_hn, weights.weight_hh + int64_t(2) * H * H, H, H, H);
  } else {
    pack_nn(pool, packed, weights.weight_hh, H, GH, H);
  }

  // Batch rows [b0, b1) back through all T steps, as in the forward.
  parallel_for(pool, B, kBatchGrain, [&](int64_t b0, int64_t b1) {
    const int rows = int(b1 - b0);
    float* dstate_rows = dstate + b0 * H;
    for (int t = T - 1; t >= 0; --t) {
      const float* h_prev = (t ? cache.h.data() + (t - 1) * step_state : cache.h0.data()) + b0 * H;
      const float* dh_t = dh + t * step_state + b0 * H;  // complete: the step above added its share already
      float* dh_prev = t ? dh + (t - 1) * step_state + b0 * H : nullptr;
      float* dgates_t = dgates + t * step_gates + b0 * GH;
      const float* gates_t = cache.gates.data() + t * step_gates + b0 * GH;
      switch (kind) {
        case CellKind::Lstm: {
          const float* c_prev = (t ? cache.c.data() + (t - 1) * step_state : cache.c0.data()) + b0 * H;
          lstm_gates_backward(dgates_t, dstate_rows, dh_t, dstate_rows, gates_t,
                              cache.c.data() + t * step_state + b0 * H, c_prev, rows, H);
          break;
        }
        case CellKind::Gru:
          // The direct path z⊙dh goes straight into dh_prev (or into scratch at t = 0, where it is dropped).
          gru_gates_backward(dgates_t, dhn + t * step_state + b0 * H, dh_prev ? dh_prev : dstate_rows, dh_t, gates_t,
                             cache.hgates.data() + t * step_gates + b0 * GH, h_prev, rows, H);
          break;
        case CellKind::RnnTanh:
        case CellKind::RnnRelu: {
          const float* h = cache.h.data() + t * step_state + b0 * H;
          std::fill(dgates_t, dgates_t + int64_t(rows) * GH, 0.0f);
          for (int b = 0; b < rows; ++b) {  // row by row, as in the forward
            const int64_t at = int64_t(b) * H;
            if (kind == CellKind::RnnTanh) tanh_backward(dgates_t + at, dh_t + at, h + at, H);
            else relu_backward(dgates_t + at, dh_t + at, h + at, H);
          }
          break;
        }
      }
      if (fused_input) {
        float* product = cache.step_product.data() + b0 * out_width;  // (rows, H+I)
        sgemm_packed(product, out_width, dgates_t, GH, packed, rows, 0.0f);
        for (int b = 0; b < rows; ++b) {
          const float* row = product + int64_t(b) * out_width;
          if (dh_prev) axpy(dh_prev + int64_t(b) * H, 1.0f, row, H);
          axpy(dinput + (int64_t(t) * B + b0 + b) * I, 1.0f, row + H, I);
        }
      } else if (dh_prev && gru) {
        sgemm_packed(dh_prev, H, dgates_t, GH, packed, rows, 1.0f);  // r, z columns: K = 2H
        sgemm_packed(dh_prev, H, dhn + t * step_state + b0 * H, H, cache.packed_weight_hn, rows, 1.0f);
      } else if (dh_prev) {
        sgemm_packed(dh_prev, H, dgates_t, GH, packed, rows, 1.0f);
      }
    }
  });

  // Weight gradients over all steps: dW_hh += Σ_t (hidden-side gate gradients)[t]ᵀ·h_prev[t], with h_prev[0] =
  // h0; the first 2H rows of a GRU's from dgates' r, z columns, the last H from dhn.
  const int shared_rows = gru ? 2 * H : GH;
  auto add_weight_gradient = [&](float* dweight, const float* dside, int ld, int rows) {
    sgemm_tn(pool, dweight, H, dside, ld, cache.h0.data(), H, rows, H, B, 1.0f);
    if (T > 1) sgemm_tn(pool, dweight, H, dside + int64_t(B) * ld, ld, cache.h.data(), H, rows, H, (T - 1) * B, 1.0f);
  };
  add_weight_gradient(grads.weight_hh, dgates, GH, shared_rows);
  if (gru) add_weight_gradient(grads.weight_hh + int64_t(2) * H * H, dhn, H, H);
  // Bias gradients: column sums of the gate gradients, one pass for what both sides share.
  grow(cache.dbias, GH);
  float* column_sums = cache.dbias.data();
  std::fill(column_sums, column_sums + GH, 0.0f);
  bias_backward(pool, column_sums, dgates, T * B, GH);
  axpy(grads.bias_ih, 1.0f, column_sums, GH);
  axpy(grads.bias_hh, 1.0f, column_sums, shared_rows);
  if (gru) bias_backward(pool, grads.bias_hh + 2 * H, dhn, T * B, H);
  if (input_side == InputSide::Caller) return;
  sgemm_tn(pool, grads.weight_ih, I, dgates, GH, input, I, GH, I, T * B, 1.0f);
  if (dinput && !fused_input) sgemm_nn(pool, dinput, I, dgates, GH, weights.weight_ih, I, T * B, I, GH, 1.0f);
}

void matrix_vector_accumulate(ThreadPool* pool, float* y, const float* weight, const CompactMatrix& compact,
                              const float* x, int rows, int cols) {
  if (compact.int8) sgemv_q8(pool, y, compact.int8, compact.scales, cols, x, rows, cols, 1.0f);
  else if (compact.half) sgemv_f16(pool, y, compact.half, x, rows, cols, 1.0f);
  else sgemv(pool, y, weight, cols, x, rows, cols, 1.0f);
}

void recurrent_step(ThreadPool* pool, float* h, float* c, float* scratch, const float* x,
                    const RecurrentWeights& weights, CellKind kind, int I, int H,
                    const CompactMatrix& weight_ih_compact, const CompactMatrix& weight_hh_compact) {
  const int GH = gate_count(kind) * H;
  float* gates = scratch;
  std::memcpy(gates, weights.bias_ih, sizeof(float) * GH);
  matrix_vector_accumulate(pool, gates, weights.weight_ih, weight_ih_compact, x, GH, I);
  if (kind == CellKind::Gru) {
    float* hgates = scratch + GH;
    std::memcpy(hgates, weights.bias_hh, sizeof(float) * GH);
    matrix_vector_accumulate(pool, hgates, weights.weight_hh, weight_hh_compact, h, GH, H);
    float* h_prev = hgates + GH;  // kernels take distinct input and output buffers
    std::memcpy(h_prev, h, sizeof(float) * H);
    gru_gates_forward(h, gates, hgates, h_prev, 1, H);
    return;
  }
  axpy(gates, 1.0f, weights.bias_hh, GH);
  matrix_vector_accumulate(pool, gates, weights.weight_hh, weight_hh_compact, h, GH, H);
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
