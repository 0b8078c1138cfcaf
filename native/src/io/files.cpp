// Model-file I/O on disk: whole files, safetensors files header first, and atomic writes (safetensors.hpp states
// the contracts). POSIX calls throughout; the wasm build links none of this (model bytes arrive as typed arrays).
#include <dirent.h>    // opendir: stale temp files
#include <signal.h>    // kill(pid, 0): is a temp file's writer alive
#include <sys/stat.h>  // fstat: a model file's size before its data is read
#include <unistd.h>    // getpid, fsync

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "io/safetensors.hpp"
#include "tinylm/error.hpp"

namespace tinylm {

namespace {

using FileHandle = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// Opens `path` for reading and returns its size; Error naming the path if it is missing, unreadable, or not a
// regular file (a directory, a device such as /dev/zero, a pipe: none has a size to check a header against).
FileHandle open_regular_file(const std::string& path, uint64_t* size) {
  FileHandle stream(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!stream) fail("cannot open '", path, "' for reading: ", std::strerror(errno));
  struct stat status {};
  const bool stated = fstat(fileno(stream.get()), &status) == 0;
  check(stated && S_ISREG(status.st_mode), "cannot read '", path, "': ",
        stated && S_ISDIR(status.st_mode) ? "it is a directory" : "it is not a regular file",
        " — HINT: pass the path of a file");
  *size = static_cast<uint64_t>(status.st_size);
  return stream;
}

// Reads exactly `count` bytes into `out`; Error naming the path if the file ends early or a read fails.
void read_exactly(std::FILE* stream, const std::string& path, uint8_t* out, uint64_t count) {
  errno = 0;
  if (count == 0 || std::fread(out, 1, static_cast<size_t>(count), stream) == count) return;
  fail("cannot read '", path, "': ", errno ? std::strerror(errno) : "it ended early (changed while read?)");
}

}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  uint64_t size = 0;
  FileHandle stream = open_regular_file(path, &size);
  check(size <= std::numeric_limits<size_t>::max(), "cannot read '", path, "': ", size,
        " bytes do not fit in memory");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  read_exactly(stream.get(), path, bytes.data(), size);
  return bytes;
}

SafetensorsFile read_safetensors_file(const std::string& path) {
  uint64_t size = 0;
  FileHandle stream = open_regular_file(path, &size);
  std::vector<uint8_t> prefix(8);
  if (size >= 8) read_exactly(stream.get(), path, prefix.data(), 8);
  const uint64_t header_length = safetensors_header_length(prefix.data(), size);
  prefix.resize(8 + static_cast<size_t>(header_length));
  read_exactly(stream.get(), path, prefix.data() + 8, header_length);
  SafetensorsFile file = parse_safetensors_header(prefix.data(), size);
  // Only now, with every tensor's range checked against the file's size, is the data read.
  const uint64_t data_size = data_section_size(file);
  file.data.resize(static_cast<size_t>(data_size));
  read_exactly(stream.get(), path, file.data.data(), data_size);
  return file;
}

namespace {

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : path_(path), stream_(open_regular_file(path, &size_)) {}
  uint64_t size() const override { return size_; }
  const std::string& label() const override { return path_; }
  void read(uint64_t offset, uint8_t* out, uint64_t count) override {
    check(offset <= size_ && count <= size_ - offset && offset <= uint64_t(std::numeric_limits<off_t>::max()) &&
              fseeko(stream_.get(), off_t(offset), SEEK_SET) == 0,
          "cannot read '", path_, "': bytes [", offset, ", ", offset + count, ") are not in its ", size_, " bytes");
    read_exactly(stream_.get(), path_, out, count);
  }

 private:
  std::string path_;
  uint64_t size_ = 0;
  FileHandle stream_;
};

}  // namespace

std::unique_ptr<ByteSource> open_file_source(const std::string& path) { return std::make_unique<FileSource>(path); }

void remove_stale_temp_files(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp-";
  DIR* listing = opendir(directory.c_str());
  if (!listing) return;  // the write itself will say what is wrong with the directory
  while (const dirent* entry = readdir(listing)) {
    const std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || *end != '\0' || pid == static_cast<long>(getpid())) continue;
    // Only the files of processes that no longer exist: a live writer's temp file becomes its result.
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::remove((slash == std::string::npos ? name : directory + name).c_str());
    }
  }
  closedir(listing);
}

void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  remove_stale_temp_files(path);
  // Same directory as `path`, so the final rename never crosses file systems (which would not be atomic).
  const std::string temp_path = path + ".tmp-" + std::to_string(static_cast<long>(getpid()));
  auto fail_and_clean_up = [&](const char* step, int error_number) {
    std::remove(temp_path.c_str());
    fail("cannot write '", path, "': ", step, " '", temp_path, "' failed: ", std::strerror(error_number),
         " — the previous contents of '", path, "', if any, are unchanged");
  };

  std::FILE* stream = std::fopen(temp_path.c_str(), "wb");
  if (!stream) fail_and_clean_up("creating", errno);
  const bool written = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), stream) == bytes.size();
  if (!written) {
    const int write_errno = errno;
    std::fclose(stream);
    fail_and_clean_up("writing", write_errno);
  }
  // fsync before rename: otherwise a crash after the rename can leave `path` naming a file whose data never
  // reached the disk.
  if (std::fflush(stream) != 0 || fsync(fileno(stream)) != 0) {
    const int flush_errno = errno;
    std::fclose(stream);
    fail_and_clean_up("flushing", flush_errno);
  }
  if (std::fclose(stream) != 0) fail_and_clean_up("closing", errno);
  if (std::rename(temp_path.c_str(), path.c_str()) != 0) fail_and_clean_up("renaming", errno);
}

}  // namespace tinylm
