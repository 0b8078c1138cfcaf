// Tests for io/safetensors on bad input and on disk: every malformed file parse_safetensors must reject, each with
// the phrase its message must contain, and the file helpers: write_file_atomic leaves the old content or the new,
// never a mix or a temp file, and read_file_bytes names the path it cannot read. Round trips and the byte layout
// are test_safetensors.cpp's.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "io/safetensors.hpp"
#include "safetensors_forge.hpp"
#include "temp_dir.hpp"

namespace {

using namespace tinylm;
using namespace tinylm::testing;
namespace fs = std::filesystem;

// The Error message parse_safetensors throws, or a marker saying it accepted the bytes.
std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    parse_safetensors(bytes.data(), bytes.size());
  } catch (const Error& error) {
    return error.what();
  }
  return "<parsed without error>";
}

// A macro, not a function, so a failure reports the test's own line together with the actual message.
#define CHECK_REJECTED(bytes, phrase)                                                         \
  do {                                                                                        \
    const std::string rejection_message = parse_error(bytes);                                 \
    CHECK_MESSAGE(rejection_message.find(phrase) != std::string::npos,                        \
                  "expected '" << (phrase) << "' in message: " << rejection_message);         \
  } while (0)

std::vector<uint8_t> bytes_of(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

}  // namespace

// ---- malformed files -----------------------------------------------------------------------------------------

TEST_CASE("safetensors: malformed files are rejected with a message naming the problem") {
  const std::vector<uint8_t> sixteen_bytes(16, 0);
  const std::string good_entry = tensor_entry("F32", "[4]", "[0,16]");

  SUBCASE("file shorter than 8 bytes") { CHECK_REJECTED(std::vector<uint8_t>(7, 0), "too short"); }
  SUBCASE("header length larger than the file") {
    CHECK_REJECTED(forge_file("{}", {}, 1000), "header length 1000 is larger than the file");
  }
  SUBCASE("absurd header length") { CHECK_REJECTED(forge_file("{}", {}, 200'000'000), "absurd"); }
  SUBCASE("header is not JSON") { CHECK_REJECTED(forge_file("{not json"), "not valid JSON"); }
  SUBCASE("header is not valid UTF-8") { CHECK_REJECTED(forge_file("{\"\xff\":1}"), "not valid JSON"); }
  SUBCASE("header is not an object") { CHECK_REJECTED(forge_file("[1,2]"), "must be a JSON object, got array"); }
  SUBCASE("entry is not an object") { CHECK_REJECTED(forge_file(R"({"x":3})"), "tensor 'x': header entry must be"); }
  SUBCASE("entry missing dtype") {
    CHECK_REJECTED(forge_file(R"({"x":{"shape":[4],"data_offsets":[0,16]}})", sixteen_bytes), "missing 'dtype'");
  }
  SUBCASE("entry missing shape") {
    CHECK_REJECTED(forge_file(R"({"x":{"dtype":"F32","data_offsets":[0,16]}})", sixteen_bytes), "missing 'shape'");
  }
  SUBCASE("entry missing data_offsets") {
    CHECK_REJECTED(forge_file(R"({"x":{"dtype":"F32","shape":[4]}})", sixteen_bytes), "missing 'data_offsets'");
  }
  SUBCASE("dtype of the wrong type") {
    CHECK_REJECTED(forge_file(R"({"x":{"dtype":4,"shape":[4],"data_offsets":[0,16]}})", sixteen_bytes),
                   "'dtype' must be a string, got number");
  }
  SUBCASE("shape of the wrong type") {
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "\"4\"", "[0,16]") + "}", sixteen_bytes),
                   "'shape' must be an array");
  }
  SUBCASE("shape holding a non-integer") {
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[4.5]", "[0,16]") + "}", sixteen_bytes),
                   "must hold integers, found 4.5");
  }
  SUBCASE("data_offsets of the wrong type or length") {
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[4]", "[16]") + "}", sixteen_bytes),
                   "'data_offsets' must be an array [begin, end], got [16]");
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[4]", "[\"0\",16]") + "}", sixteen_bytes),
                   "must be non-negative integers");
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[4]", "[-16,0]") + "}", sixteen_bytes),
                   "must be non-negative integers");
  }
  SUBCASE("unknown dtype") {
    const std::string message = parse_error(forge_file("{\"x\":" + tensor_entry("F64", "[2]", "[0,16]") + "}",
                                                       sixteen_bytes));
    CHECK_MESSAGE(message.find("unknown dtype 'F64'") != std::string::npos, message);
    CHECK_MESSAGE(message.find("F32, F16, BF16, I8, U8, BOOL") != std::string::npos, message);
  }
  SUBCASE("negative dimension") {
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[-2,2]", "[0,16]") + "}", sixteen_bytes),
                   "negative dimension -2");
  }
  SUBCASE("element count overflow") {
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[4294967296,4294967296]", "[0,16]") + "}",
                              sixteen_bytes),
                   "too many elements");
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[18446744073709551615]", "[0,16]") + "}",
                              sixteen_bytes),
                   "too many elements");
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[4611686018427387904]", "[0,16]") + "}",
                              sixteen_bytes),
                   "too many elements");  // fits int64 as a count, but not once multiplied by 4 bytes
  }
  SUBCASE("data_offsets begin after end") {
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[1]", "[8,4]") + "}", sixteen_bytes),
                   "begin 8 is after end 4");
  }
  SUBCASE("tensor ends beyond the data section") {
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[4]", "[0,16]") + "}", std::vector<uint8_t>(8)),
                   "truncated file: tensor 'x' ends at byte 16 but the data section has 8 bytes");
  }
  SUBCASE("byte size disagrees with the shape") {
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F32", "[2,2]", "[0,12]") + "}", std::vector<uint8_t>(12)),
                   "span 12 bytes but shape [2,2] of F32 needs 16 bytes");
    CHECK_REJECTED(forge_file("{\"x\":" + tensor_entry("F16", "[4]", "[0,16]") + "}", sixteen_bytes),
                   "span 16 bytes but shape [4] of F16 needs 8 bytes");
  }
  SUBCASE("overlapping tensors") {
    CHECK_REJECTED(forge_file("{\"a\":" + good_entry + ",\"b\":" + tensor_entry("F32", "[4]", "[8,24]") + "}",
                              std::vector<uint8_t>(24)),
                   "tensors 'a' [0, 16) and 'b' [8, 24) overlap");
    CHECK_REJECTED(forge_file("{\"a\":" + good_entry + ",\"b\":" + good_entry + "}", sixteen_bytes), "overlap");
  }
  SUBCASE("gap between tensors") {
    CHECK_REJECTED(forge_file("{\"a\":" + tensor_entry("F32", "[2]", "[0,8]") + ",\"b\":" +
                                  tensor_entry("F32", "[2]", "[16,24]") + "}",
                              std::vector<uint8_t>(24)),
                   "gap before tensor 'b': it starts at byte 16 but the previous tensor ends at byte 8");
  }
  SUBCASE("trailing bytes after the last tensor") {
    CHECK_REJECTED(forge_file("{\"a\":" + good_entry + "}", std::vector<uint8_t>(20)),
                   "the data section has 20 bytes but the tensors cover only 16");
  }
  SUBCASE("duplicate tensor names") {
    CHECK_REJECTED(forge_file("{\"a\":" + good_entry + ",\"a\":" + good_entry + "}", std::vector<uint8_t>(32)),
                   "duplicate tensor name 'a'");
  }
  SUBCASE("duplicate key inside an entry") {
    CHECK_REJECTED(forge_file(R"({"a":{"dtype":"F32","dtype":"F16","shape":[4],"data_offsets":[0,16]}})",
                              sixteen_bytes),
                   "duplicate key 'dtype'");
  }
  SUBCASE("__metadata__ is not an object") {
    CHECK_REJECTED(forge_file(R"({"__metadata__":["v"]})"), "__metadata__ must be an object of strings, got array");
  }
  SUBCASE("__metadata__ value is not a string") {
    CHECK_REJECTED(forge_file(R"({"__metadata__":{"version":1}})"), "key 'version' holds a number");
  }
}

// ---- files ---------------------------------------------------------------------------------------------------

TEST_CASE("safetensors: file helpers") {
  TempDir temp("tinylm-safetensors");
  const std::string path = (temp.path / "model.safetensors").string();

  SUBCASE("write, read back and parse") {
    const std::vector<float> values = {0.25f, -8.0f, 3.0f};
    const std::vector<uint8_t> bytes = serialize_safetensors({{"w", {3}, values.data()}}, {{"format", "1"}});
    write_file_atomic(path, bytes);
    const std::vector<uint8_t> read = read_file_bytes(path);
    CHECK(read == bytes);
    const SafetensorsFile file = parse_safetensors(read.data(), read.size());
    CHECK(file.read_f32(*file.find("w")) == values);
    CHECK(temp.entries() == std::vector<std::string>{"model.safetensors"});
  }

  SUBCASE("overwriting leaves the new content and no temp file") {
    write_file_atomic(path, bytes_of("old content"));
    write_file_atomic(path, bytes_of("new"));
    CHECK(read_file_bytes(path) == bytes_of("new"));
    write_file_atomic(path, {});
    CHECK(read_file_bytes(path).empty());
    CHECK(temp.entries() == std::vector<std::string>{"model.safetensors"});
  }

  SUBCASE("a concurrent reader sees the old or the new content, never a mix") {
    const std::vector<uint8_t> old_content(1 << 18, 'o');
    const std::vector<uint8_t> new_content((1 << 18) + 7, 'n');
    write_file_atomic(path, old_content);
    std::atomic<bool> writing{true};
    std::thread writer([&] {
      for (int i = 0; i < 40; ++i) write_file_atomic(path, i % 2 ? old_content : new_content);
      writing = false;
    });
    int torn_reads = 0;
    int reads = 0;
    while (writing) {
      const std::vector<uint8_t> seen = read_file_bytes(path);
      torn_reads += seen != old_content && seen != new_content;
      ++reads;
    }
    writer.join();
    CAPTURE(reads);
    CHECK(torn_reads == 0);
    CHECK(read_file_bytes(path) == old_content);
    CHECK(temp.entries() == std::vector<std::string>{"model.safetensors"});
  }

  SUBCASE("writing into a missing directory throws and leaves nothing behind") {
    const std::string missing = (temp.path / "no-such-dir" / "model.safetensors").string();
    const std::string message = error_message_of([&] { write_file_atomic(missing, bytes_of("data")); });
    CHECK_MESSAGE(message.find(missing) != std::string::npos, message);
    CHECK_MESSAGE(message.find(std::strerror(ENOENT)) != std::string::npos, message);
    CHECK(temp.entries().empty());
  }

  SUBCASE("a failed rename removes the temp file and keeps what was at the path") {
    fs::create_directory(path);  // renaming a file over a directory fails after the temp file is written
    const std::string message = error_message_of([&] { write_file_atomic(path, bytes_of("data")); });
    CHECK_MESSAGE(message.find("cannot write '" + path + "'") != std::string::npos, message);
    CHECK(fs::is_directory(path));
    CHECK(temp.entries() == std::vector<std::string>{"model.safetensors"});
  }

  SUBCASE("reading a missing or unreadable file throws naming the path") {
    const std::string missing = (temp.path / "absent.safetensors").string();
    const std::string message = error_message_of([&] { read_file_bytes(missing); });
    CHECK_MESSAGE(message.find("cannot open '" + missing + "'") != std::string::npos, message);
    CHECK_MESSAGE(message.find(std::strerror(ENOENT)) != std::string::npos, message);
    const std::string directory_message = error_message_of([&] { read_file_bytes(temp.path.string()); });
    CHECK_MESSAGE(directory_message.find(temp.path.string()) != std::string::npos, directory_message);
  }
}
