// HfFiles on disk (hf_files.hpp): a directory's regular files; and HfWeightReader's strided reads.
#include "io/hf_files.hpp"

#include <sys/stat.h>

#include <cstring>

#include "half.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

HfWeightReader::HfWeightReader(std::unique_ptr<ByteSource> source)
    : source_(source.get()), reader_(std::move(source)) {
  uint8_t prefix[8];
  source_->read(0, prefix, 8);  // the header's length, which the reader already checked
  uint64_t length = 0;
  std::memcpy(&length, prefix, 8);
  data_start_ = 8 + length;
}

void HfWeightReader::read_f32_columns(const SafetensorsEntry& entry, uint64_t first, uint64_t count, float* out) {
  const std::string& label = source_->label();
  check(entry.dtype == DType::F32 || entry.dtype == DType::F16 || entry.dtype == DType::BF16, "'", label,
        "': tensor '", entry.name, "' is ", dtype_name(entry.dtype), ", not a float tensor read_f32 converts");
  check(entry.shape.size() == 2, "'", label, "': tensor '", entry.name, "' is not a matrix");
  const uint64_t rows = uint64_t(entry.shape[0]), cols = uint64_t(entry.shape[1]);
  const uint64_t width = dtype_size(entry.dtype);
  check(first <= cols && count <= cols - first && entry.end - entry.begin == rows * cols * width, "'", label,
        "': columns [", first, ", ", first + count, ") are not in tensor '", entry.name, "' ",
        shape_string(entry.shape));
  if (rows == 0 || count == 0) return;
  const uint64_t start = data_start_ + entry.begin + first * width;
  check(start + (rows - 1) * cols * width + count * width <= source_->size(), "'", label, "': tensor '", entry.name,
        "' runs past the end of the file");
  uint8_t* bytes = reinterpret_cast<uint8_t*>(out);
  if (entry.dtype != DType::F32) {
    bits_.resize(size_t(rows * count));
    bytes = reinterpret_cast<uint8_t*>(bits_.data());
  }
  if (auto* strided = dynamic_cast<StridedByteSource*>(source_)) {
    strided->read_strided(start, cols * width, count * width, rows, bytes);
  } else {
    for (uint64_t r = 0; r < rows; ++r) source_->read(start + r * cols * width, bytes + r * count * width, count * width);
  }
  if (entry.dtype == DType::F32) return;
  const bool bfloat = entry.dtype == DType::BF16;
  for (size_t i = 0; i < bits_.size(); ++i) out[i] = bfloat ? bfloat16_to_float(bits_[i]) : half_to_float(bits_[i]);
}

namespace {

class DirectoryFiles final : public HfFiles {
 public:
  explicit DirectoryFiles(const std::string& dir) : HfFiles(dir) {}
  bool has(const std::string& name) const override {
    struct stat info;
    return stat(path(name).c_str(), &info) == 0 && S_ISREG(info.st_mode);
  }
  std::vector<uint8_t> read(const std::string& name) const override { return read_file_bytes(path(name)); }
  std::unique_ptr<HfWeightReader> open_weights(const std::string& name) const override {
    return std::make_unique<HfWeightReader>(open_file_source(path(name)));
  }
};

}  // namespace

std::shared_ptr<const HfFiles> directory_files(const std::string& dir) {
  return std::make_shared<DirectoryFiles>(dir);
}

}  // namespace tinylm
