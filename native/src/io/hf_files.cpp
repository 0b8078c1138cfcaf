// HfFiles on disk (hf_files.hpp): a directory's regular files.
#include "io/hf_files.hpp"

#include <sys/stat.h>

namespace tinylm {

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
