#include "compact_matrices.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "half.hpp"
#include "kernels/kernels.hpp"
#include "memory_limits.hpp"
#include "parallel/parallel_for.hpp"
#include "parallel/parallel_kernels.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

const char* compact_kind_name(CompactKind kind) { return kind == CompactKind::F16 ? "F16" : "int8"; }

// A prompt's batch quantises its rows 8 at a time across the pool (each row's values are its own, so any split gives
// the same bits): serial, it was the one part of a product that did not shrink with more threads. A step's one or two
// rows stay on the caller.
bool QuantizedRows::quantize(ThreadPool* pool, const float* x, int N, int cols) {
  depth = int(q8_panel_depth(cols));
  wide.resize(size_t(N) * size_t(depth));
  scales.resize(size_t(N));
  std::atomic<bool> finite{true};
  parallel_for(N <= 2 ? nullptr : pool, N, 8, [&](int64_t begin, int64_t end) {
    if (!quantize_rows_int16(wide.data() + begin * depth, depth, scales.data() + begin, x + begin * cols,
                             int(end - begin), cols))
      finite = false;
  });
  return finite;
}

namespace {

// y (N,rows) = beta·y + scales ⊙ (x (N,cols) · panelsᵀ) in float: the path of an input that is not finite, whose
// outputs are not finite either, so it only has to carry infinities and NaN where float arithmetic puts them.
void int8_product_in_float(float* y, const MatrixView& view, const float* x, float beta, int N) {
  const int M = view.rows, K = view.cols;
  for (int64_t n = 0; n < N; ++n) {
    for (int r = 0; r < M; ++r) {
      float sum = 0.0f;
      for (int k = 0; k < K; ++k) sum += float(view.int8_panels[q8_panel_index(r, k, K)]) * x[n * K + k];
      sum *= view.scales[r];
      float& out = y[n * M + r];
      out = beta == 0.0f ? sum : beta * out + sum;
    }
  }
}

// y (N,rows) = beta·y + the integer product of the quantised rows and the weight panels, the weight rows split over
// the pool. How many workers take part follows the work, as parallel_kernels.cpp cuts its products: one per ~2¹⁶
// weights for a step and ~2¹⁸ multiply-adds for a batch, whole chunks of 64 rows. Those workers then get equal runs of
// rows, at multiples of kSplitRows: 64-row chunks split SmolLM2's 576 rows 256 / 320 between two threads, a tenth more
// time on the busier one for three of its four products. The sums are exact: the same bits for any split.
constexpr int64_t kSplitRows = 32;  // whole register tiles of every build (quantized_panels.cpp: 8, 16 or 32 rows)

void int8_product(ThreadPool* pool, float* y, const MatrixView& view, const QuantizedRows& rows, float beta, int N) {
  const int M = view.rows, K = view.cols;
  const int64_t panel_bytes = q8_panel_rows() * q8_panel_depth(K);
  const int64_t per_chunk = N <= 2 ? (int64_t(1) << 16) / std::max(K, 1) : (int64_t(1) << 18) / (int64_t(N) * std::max(K, 1));
  const int64_t chunk_rows = (std::max<int64_t>(1, per_chunk) + 63) / 64 * 64;
  const int64_t workers = pool ? std::min<int64_t>(pool->size(), chunk_count(M, chunk_rows)) : 1;
  const int64_t per_worker = (M + workers - 1) / std::max<int64_t>(workers, 1);
  const int64_t grain = std::max<int64_t>(kSplitRows, (per_worker + kSplitRows - 1) / kSplitRows * kSplitRows);
  parallel_for(pool, M, grain, [&](int64_t begin, int64_t end) {
    sgemm_q8_panels(y + begin, M, rows.wide.data(), rows.scales.data(), rows.depth,
                    view.int8_panels + begin / q8_panel_rows() * panel_bytes, view.scales + begin, N, int(end - begin),
                    K, beta);
  });
}

}  // namespace

void matrix_vector(ThreadPool* pool, float* y, const MatrixView& view, const float* x, float beta, int N,
                   QuantizedRows* scratch) {
  const int M = view.rows, K = view.cols;
  if (view.f32) {
    sgemv(pool, y, view.f32, K, x, M, K, beta, N);
  } else if (view.f16_panels) {
    sgemv_f16(pool, y, view.f16_panels, x, M, K, beta, N);
  } else {
    QuantizedRows local;
    QuantizedRows& rows = scratch ? *scratch : local;
    if (rows.quantize(pool, x, N, K)) return int8_product(pool, y, view, rows, beta, N);
    int8_product_in_float(y, view, x, beta, N);  // NaN or infinity reach the outputs as float arithmetic carries them
  }
}

uint64_t CompactMatrices::bytes_for(CompactKind kind, uint64_t rows, uint64_t cols) {
  if (kind == CompactKind::Int8) {  // whole panels of 8 rows, each row an even number of bytes
    const uint64_t panel_rows = uint64_t(q8_panel_rows()), padded = rows / panel_rows + (rows % panel_rows != 0);
    return saturating_add(saturating_product(padded, panel_rows, cols + (cols & 1)), saturating_mul(rows, 4));
  }
  const uint64_t P = uint64_t(half_panel_rows());
  return saturating_product(2, rows / P + (rows % P != 0), P, cols);  // whole panels of P rows
}

size_t CompactMatrices::add(int rows, int cols) {
  check(offsets_.empty(), "CompactMatrices::add after allocate");
  shapes_.push_back({rows, cols});
  return shapes_.size() - 1;
}

uint64_t CompactMatrices::bytes() const {
  uint64_t total = 0;
  for (const Shape2& shape : shapes_) total = saturating_add(total, bytes_for(kind_, shape.rows, shape.cols));
  return total;
}

void CompactMatrices::allocate() {
  // ParameterTable::add checked the total against the cap (memory_limits.hpp) before any slot was declared.
  size_t at = 0, rows = 0;
  offsets_.clear();
  row_offsets_.clear();
  for (const Shape2& shape : shapes_) {
    offsets_.push_back(at);
    row_offsets_.push_back(rows);
    at += kind_ == CompactKind::F16 ? size_t(half_panels_size(shape.rows, shape.cols))
                                    : size_t(q8_panels_size(shape.rows, shape.cols));
    rows += size_t(shape.rows);
  }
  if (kind_ == CompactKind::F16) {
    halves_.assign(at, 0);
  } else {
    bytes_.assign(at, 0);
    scales_.assign(rows, 0.0f);
  }
}

bool CompactMatrices::set_rows(size_t slot, int first, int count, const float* values) {
  check(slot < offsets_.size() && first >= 0 && count >= 0 && first + int64_t(count) <= shapes_[slot].rows,
        "CompactMatrices::set_rows: rows [", first, ", ", first + int64_t(count), ") are not in slot ", slot);
  const int64_t K = shapes_[slot].cols;
  if (kind_ == CompactKind::Int8) {  // each row quantised on its own, then laid into its panel
    std::vector<int8_t> quantised(static_cast<size_t>(K));
    for (int i = 0; i < count; ++i) {
      float* scale = scales_.data() + row_offsets_[slot] + first + i;
      if (!quantize_rows_int8(quantised.data(), scale, values + i * K, 1, int(K))) return false;
      pack_q8_panel_rows(bytes_.data() + offsets_[slot], quantised.data(), first + i, 1, int(K));
    }
    return true;
  }
  // Row r is lane r % P of its group of P rows, stored depth by depth (kernels.hpp: convert_to_half_panels).
  const int64_t P = half_panel_rows();
  for (int i = 0; i < count; ++i) {
    const int64_t r = int64_t(first) + i;
    uint16_t* group = halves_.data() + offsets_[slot] + (r / P) * P * K;
    const float* row = values + i * K;
    for (int64_t k = 0; k < K; ++k) {
      if (!(std::fabs(row[k]) <= 65504.0f)) return false;  // also rejects NaN
      group[k * P + r % P] = float_to_half(row[k]);
    }
  }
  return true;
}

MatrixView CompactMatrices::view(size_t slot) const {
  MatrixView view;
  view.rows = shapes_[slot].rows;
  view.cols = shapes_[slot].cols;
  if (kind_ == CompactKind::F16) {
    view.f16_panels = halves_.data() + offsets_[slot];
  } else {
    view.int8_panels = bytes_.data() + offsets_[slot];
    view.scales = scales_.data() + row_offsets_[slot];
  }
  return view;
}

void CompactMatrices::row(size_t slot, int r, float* out) const {
  const MatrixView v = view(slot);
  const int64_t K = v.cols;
  if (v.int8_panels) {
    for (int64_t k = 0; k < K; ++k) out[k] = v.scales[r] * float(v.int8_panels[q8_panel_index(r, k, K)]);
    return;
  }
  // Row r is lane r % P of its group of P rows, stored depth by depth (kernels.hpp: convert_to_half_panels).
  const int64_t P = half_panel_rows();
  const uint16_t* group = v.f16_panels + (r / P) * P * K;
  for (int64_t k = 0; k < K; ++k) out[k] = half_to_float(group[k * P + r % P]);
}

void CompactMatrices::int8_rows(size_t slot, int first, int count, int8_t* out) const {
  const MatrixView v = view(slot);
  check(v.int8_panels && first >= 0 && count >= 0 && first + int64_t(count) <= v.rows,
        "CompactMatrices::int8_rows: rows [", first, ", ", first + int64_t(count), ") are not int8 rows of slot ", slot);
  const int64_t K = v.cols;
  for (int64_t i = 0; i < count; ++i)
    for (int64_t k = 0; k < K; ++k) out[i * K + k] = v.int8_panels[q8_panel_index(first + i, k, K)];
}

namespace {
// half_to_float's bits, with the normal numbers (all but zeros, subnormals, infinities and NaNs) converted in line:
// the exponent rebiased from 15 to 127 by one add. The conversion runs over every F16 weight twice per training step.
inline float half_to_float_inline(uint16_t bits) {
  const uint32_t exponent = bits & 0x7c00u;
  if (exponent == 0 || exponent == 0x7c00u) return half_to_float(bits);
  const uint32_t float_bits = (uint32_t(bits & 0x8000u) << 16) | ((uint32_t(bits & 0x7fffu) << 13) + (112u << 23));
  float value;
  std::memcpy(&value, &float_bits, sizeof value);
  return value;
}
}  // namespace

void CompactMatrices::to_float(size_t slot, float* out) const { to_float_rows(slot, 0, shapes_[slot].rows, out); }

int CompactMatrices::conversion_rows() { return half_panel_rows(); }

void CompactMatrices::to_float_rows(size_t slot, int first, int count, float* out) const {
  const MatrixView v = view(slot);
  const int64_t K = v.cols, P = half_panel_rows();
  int r = first;
  const int end = first + count;
  if (v.f16_panels) {
    // Whole groups of P rows depth by depth, as stored (row(): one strided row at a time, for the ragged ends).
    for (; r % P != 0 && r < end; ++r) row(slot, r, out + (r - first) * K);
    for (; r + P <= end; r += int(P)) {
      const uint16_t* group = v.f16_panels + int64_t(r) * K;  // group r / P starts at (r / P) · P · K
      float* rows_out = out + int64_t(r - first) * K;
      for (int64_t k = 0; k < K; ++k)
        for (int64_t lane = 0; lane < P; ++lane) rows_out[lane * K + k] = half_to_float_inline(group[k * P + lane]);
    }
  }
  for (; r < end; ++r) row(slot, r, out + int64_t(r - first) * K);
}

}  // namespace tinylm
