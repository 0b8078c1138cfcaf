// The pooled kernels of parallel_kernels.hpp: how each one cuts its work, and why its results do not depend on the
// pool's size. Grains are chosen from the problem's shape alone.
#include "parallel/parallel_kernels.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace tinylm {

namespace {

using index_t = std::ptrdiff_t;

int64_t round_up(int64_t value, int64_t unit) { return (value + unit - 1) / unit * unit; }

// ---- products ------------------------------------------------------------------------------------------------
// Multiply-adds per chunk of a split product: a few µs natively, a few tens in wasm, against ~1 µs (native) to
// ~10 µs (wasm) of waking and joining a thread.
constexpr int64_t kProductChunkWork = int64_t(1) << 18;
// Units of work counted towards kProductChunkWork: whole register tiles of every build (row tiles 3, 4, 6, 8, 14
// rows; column panels 8, 12, 16, 24, 32, 48 floats).
constexpr int64_t kRowUnit = 24;
constexpr int64_t kColumnUnit = 96;
// Where the taking-part workers' blocks meet: on whole rows of 8 (the tall tile, and twice the 4-row ones) or whole
// 96-float column panels, so that two workers' shares differ by at most 8 rows. Equal chunks of kRowUnit rows left
// them 72 and 56 of a 128-row product (C3's C × C and C × 4C weight gradients), 48 and 37 of an 85-row one (its
// tied head's), the larger taking a tenth to a quarter longer. A block boundary is a matter of speed only: a
// product's arithmetic for an element does not depend on its block.
constexpr int64_t kRowSplit = 8;

// block(i0, i1, j0, j1) over blocks of C (M,N): along rows or columns, whichever has more whole units; one worker per
// kProductChunkWork multiply-adds at most, each taking an equal run of the rows (or column panels).
template <typename Block>
void split_product(ThreadPool* pool, int M, int N, int K, Block&& block) {
  if constexpr (!kThreadsAvailable) {  // a build without threads: one call (and no pool code to link)
    block(0, M, 0, N);
  } else {
    const bool by_rows = M / kRowUnit >= N / kColumnUnit;
    const int64_t extent = by_rows ? M : N, unit = by_rows ? kRowUnit : kColumnUnit;
    const int64_t unit_work = unit * int64_t(by_rows ? N : M) * std::max(K, 1);
    const int64_t grain = std::max<int64_t>(1, kProductChunkWork / std::max<int64_t>(unit_work, 1)) * unit;
    const int parts = detail::parallel_parts(pool, chunk_count(extent, grain));
    const int64_t split = by_rows ? kRowSplit : kColumnUnit, pieces = chunk_count(extent, split);
    auto part = [&](int worker) {
      const int64_t first = pieces * worker / parts, last = pieces * (worker + 1) / parts;
      if (first == last) return;
      const int begin = int(first * split), end = int(std::min(last * split, extent));
      if (by_rows) block(begin, end, 0, N);
      else block(0, M, begin, end);
    };
    detail::run_parts(pool, parts, &detail::invoke_part<decltype(part)>, &part);
  }
}

// Matrix-vector products read each weight once, so their chunks are counted in weights: below 2·kGemvChunkWeights
// a product stays on the caller (a model of C = 128 generates without waking a thread). Rows split at multiples of
// 64, which holds whole dot tiles (4 or 8 rows) and whole half-precision panels (8, 16 or 32 rows).
constexpr int64_t kGemvChunkWeights = int64_t(1) << 16;
constexpr int64_t kGemvRowUnit = 64;

template <typename Rows>
void split_rows_of_matrix(ThreadPool* pool, int M, int K, Rows&& rows) {
  if constexpr (!kThreadsAvailable) return rows(0, M);
  const int64_t grain = round_up(std::max<int64_t>(1, kGemvChunkWeights / std::max(K, 1)), kGemvRowUnit);
  parallel_for(pool, M, grain, [&](int64_t begin, int64_t end) { rows(int(begin), int(end)); });
}

// Rows per chunk for a row-wise kernel over rows of `width` floats, as parallel_rows cuts them.
int64_t row_grain(int width) { return std::max<int64_t>(1, kElementGrain / std::max(width, 1)); }


}  // namespace

void sgemm_nn(ThreadPool* pool, float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N,
              int K, float beta) {
  split_product(pool, M, N, K, [&](int i0, int i1, int j0, int j1) {
    sgemm_nn(C + index_t(i0) * ldc + j0, ldc, A + index_t(i0) * lda, lda, B + j0, ldb, i1 - i0, j1 - j0, K, beta);
  });
}

void sgemm_nt(ThreadPool* pool, float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N,
              int K, float beta) {
  split_product(pool, M, N, K, [&](int i0, int i1, int j0, int j1) {
    sgemm_nt(C + index_t(i0) * ldc + j0, ldc, A + index_t(i0) * lda, lda, B + index_t(j0) * ldb, ldb, i1 - i0,
             j1 - j0, K, beta);
  });
}

void sgemm_tn(ThreadPool* pool, float* C, int ldc, const float* A, int lda, const float* B, int ldb, int M, int N,
              int K, float beta) {
  split_product(pool, M, N, K, [&](int i0, int i1, int j0, int j1) {
    sgemm_tn(C + index_t(i0) * ldc + j0, ldc, A + i0, lda, B + j0, ldb, i1 - i0, j1 - j0, K, beta);
  });
}

void sgemm_nt_bias(ThreadPool* pool, float* C, int ldc, const float* A, int lda, const float* B, int ldb,
                   const float* bias, int M, int N, int K) {
  split_product(pool, M, N, K, [&](int i0, int i1, int j0, int j1) {
    sgemm_nt_bias(C + index_t(i0) * ldc + j0, ldc, A + index_t(i0) * lda, lda, B + index_t(j0) * ldb, ldb, bias + j0,
                  i1 - i0, j1 - j0, K);
  });
}

void sgemv(ThreadPool* pool, float* y, const float* A, int lda, const float* x, int M, int K, float beta, int N) {
  split_rows_of_matrix(pool, M, K, [&](int i0, int i1) {
    sgemv(y + i0, A + index_t(i0) * lda, lda, x, i1 - i0, K, beta, N, M);
  });
}

void sgemv_f16(ThreadPool* pool, float* y, const uint16_t* panels, const float* x, int M, int K, float beta, int N) {
  split_rows_of_matrix(pool, M, K, [&](int i0, int i1) {
    sgemv_f16(y + i0, panels + index_t(i0) * K, x, i1 - i0, K, beta, N, M);  // i0: a whole number of panels
  });
}

void sgemv_q8(ThreadPool* pool, float* y, const int8_t* A, const float* scales, int lda, const float* x, int M, int K,
              float beta) {
  split_rows_of_matrix(pool, M, K, [&](int i0, int i1) {
    sgemv_q8(y + i0, A + index_t(i0) * lda, scales + i0, lda, x, i1 - i0, K, beta);
  });
}

namespace {
// Parts (panels) per chunk of a split packing: about kPackChunkFloats floats each, a few tens of µs of copying.
constexpr int64_t kPackChunkFloats = int64_t(1) << 15;
int64_t pack_grain(int parts, int N, int K) {
  const int64_t part_floats = std::max<int64_t>(1, int64_t(N) * K / std::max(parts, 1));
  return std::max<int64_t>(1, kPackChunkFloats / part_floats);
}
}  // namespace

void pack_nt(ThreadPool* pool, PackedMatrix& packed, const float* B, int ldb, int N, int K) {
  const int parts = packed.prepare(N, K);
  parallel_for(pool, parts, pack_grain(parts, N, K),
               [&](int64_t first, int64_t last) { packed.pack_nt_parts(B, ldb, int(first), int(last)); });
}

void pack_nn(ThreadPool* pool, PackedMatrix& packed, const float* B, int ldb, int K, int N) {
  const int parts = packed.prepare(N, K);
  parallel_for(pool, parts, pack_grain(parts, N, K),
               [&](int64_t first, int64_t last) { packed.pack_nn_parts(B, ldb, int(first), int(last)); });
}

// ---- rows ------------------------------------------------------------------------------------------------------

void layernorm_rows_forward(ThreadPool* pool, float* out, float* mean, float* rstd, const float* x,
                            const float* weight, const float* bias, int N, int C) {
  parallel_rows(pool, N, C, [&](int64_t begin, int64_t end) {
    layernorm_rows_forward(out + begin * C, mean + begin, rstd + begin, x + begin * C, weight, bias, int(end - begin),
                           C);
  });
}

void layernorm_rows_backward(ThreadPool* pool, float* dx, float* dweight, float* dbias, const float* dout,
                             const float* x, const float* weight, const float* mean, const float* rstd, int N, int C,
                             std::vector<float>& partials) {
  // Chunk c sums its rows' dweight and dbias terms into partials (c, 2, C), from zero; the partials are then added
  // in chunk order.
  const int64_t grain = row_grain(C), chunks = chunk_count(N, grain);
  if (partials.size() < size_t(chunks * 2 * C)) partials.resize(chunks * 2 * C);
  parallel_for_chunks(pool, N, grain, [&](int64_t chunk, int64_t begin, int64_t end) {
    float* chunk_dweight = partials.data() + chunk * 2 * C;
    float* chunk_dbias = chunk_dweight + C;
    std::fill(chunk_dweight, chunk_dweight + 2 * C, 0.0f);
    layernorm_rows_backward(dx + begin * C, chunk_dweight, dbias ? chunk_dbias : nullptr, dout + begin * C,
                            x + begin * C, weight, mean + begin, rstd + begin, int(end - begin), C);
  });
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const float* chunk_dweight = partials.data() + chunk * 2 * C;
    axpy(dweight, 1.0f, chunk_dweight, C);
    if (dbias) axpy(dbias, 1.0f, chunk_dweight + C, C);
  }
}

double softmax_xent_forward(ThreadPool* pool, float* probs, float* losses, const float* logits,
                            const int32_t* targets, int N, int V) {
  // One serial call adds its losses in row order, in double: the sum below.
  if constexpr (!kThreadsAvailable) return softmax_xent_forward(probs, losses, logits, targets, N, V);
  parallel_rows(pool, N, V, [&](int64_t begin, int64_t end) {
    softmax_xent_forward(probs + begin * V, losses + begin, logits + begin * V, targets + begin, int(end - begin), V);
  });
  double total = 0.0;
  for (int row = 0; row < N; ++row) total += losses[row];
  return total;
}

void softmax_xent_backward(ThreadPool* pool, float* dlogits, const float* probs, const int32_t* targets, float dloss,
                           int N, int V) {
  parallel_rows(pool, N, V, [&](int64_t begin, int64_t end) {
    softmax_xent_backward(dlogits + begin * V, probs + begin * V, targets + begin, dloss, int(end - begin), V);
  });
}

void column_sums_accumulate(ThreadPool* pool, float* dsum, const float* rows, int N, int C) {
  // Chunks of rows (at most kMaxChunks, of a size that depends on N and C alone) each summed from zero in row order
  // into a partial (chunk, C), then the partials added to dsum in chunk order. Each thread reads its own rows,
  // whole: split by columns, both threads streamed every row (a gate gradient, 8 MB for C1) for half of it, and two
  // threads took 2.4-3.4× the CPU time of one.
  constexpr int64_t kMaxChunks = 16;
  const int64_t grain = std::max(row_grain(C), (int64_t(N) + kMaxChunks - 1) / kMaxChunks);
  const int64_t chunks = chunk_count(N, grain);
  thread_local std::vector<float> partials;  // grows once per shape, on the calling thread
  if (partials.size() < size_t(chunks * C)) partials.resize(size_t(chunks * C));
  float* sums = partials.data();
  parallel_for_chunks(pool, N, grain, [&](int64_t chunk, int64_t begin, int64_t end) {
    float* partial = sums + chunk * C;
    std::fill(partial, partial + C, 0.0f);
    for (int64_t n = begin; n < end; ++n) axpy(partial, 1.0f, rows + n * C, C);
  });
  for (int64_t chunk = 0; chunk < chunks; ++chunk) axpy(dsum, 1.0f, sums + chunk * C, C);
}

void scatter_rows_accumulate(ThreadPool* pool, float* dtable, const float* rows, const int32_t* ids, int N, int C) {
  parallel_columns(pool, N, C, [&](int64_t begin, int64_t end) {
    for (int n = 0; n < N; ++n)
      axpy(dtable + int64_t(ids[n]) * C + begin, 1.0f, rows + int64_t(n) * C + begin, end - begin);
  });
}

// ---- element-wise ----------------------------------------------------------------------------------------------

void axpy(ThreadPool* pool, float* y, float alpha, const float* x, int64_t n) {
  parallel_elementwise(pool, n, [&](int64_t begin, int64_t end) { axpy(y + begin, alpha, x + begin, end - begin); });
}

void assign_zeros(ThreadPool* pool, std::vector<float>& buffer, int64_t size) {
  buffer.resize(size_t(size));
  float* values = buffer.data();
  parallel_elementwise(pool, size, [&](int64_t begin, int64_t end) { std::fill(values + begin, values + end, 0.0f); });
}

double sum_squares(ThreadPool* pool, const float* x, int64_t n) {
  constexpr int64_t kMaxChunks = 64;
  const int64_t grain = round_up(std::max<int64_t>(kElementGrain, (n + kMaxChunks - 1) / kMaxChunks), kElementGrain);
  std::array<double, kMaxChunks> partials{};
  parallel_for_chunks(pool, n, grain, [&](int64_t chunk, int64_t begin, int64_t end) {
    partials[chunk] = sum_squares(x + begin, end - begin);
  });
  double total = 0.0;
  for (int64_t chunk = 0; chunk < chunk_count(n, grain); ++chunk) total += partials[chunk];
  return total;
}

}  // namespace tinylm
