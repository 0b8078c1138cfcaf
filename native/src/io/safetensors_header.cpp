// The safetensors header: its length, its JSON and every entry in it, checked before a data byte is touched; and
// the dtype names it uses. Reading tensors is safetensors.cpp's, writing safetensors_write.cpp's.
//
// Contract (see safetensors.hpp): parse_safetensors_header checks the whole header — length, JSON shape, dtypes,
// shapes, offsets, overlaps, gaps, duplicate names, metadata — and every failure is a tinylm::Error naming the
// tensor and the offending value. Tensor bytes are little-endian; tinylm assumes a little-endian host (x86, ARM,
// WebAssembly) and refuses to run on anything else rather than silently reading or writing byte-swapped files.
// Only F32, F16, BF16 (published checkpoints' dtype) and I8 exist as weights; U8 and BOOL tensors are parsed so
// that files carrying such buffers load, and never read.
#include "io/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <nlohmann/json.hpp>

#include "io/json_text.hpp"

namespace tinylm {

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors copies tensor bytes as they lie in memory, which needs a little-endian host");
#endif

// Compilers without __BYTE_ORDER__ still get the check, once per parse/serialize (folded to a constant anyway).
void check_little_endian_host() {
  const uint16_t probe = 1;
  uint8_t first_byte = 0;
  std::memcpy(&first_byte, &probe, 1);
  check(first_byte == 1, "safetensors: this host is big-endian; tinylm reads and writes little-endian tensor data "
                         "only");
}

namespace {

// The reference implementation's limit: a real header (a few hundred tensors) is kilobytes.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

using Json = nlohmann::json;

// ---- dtype names -------------------------------------------------------------------------------------------

bool parse_dtype(const std::string& name, DType* dtype) {
  for (DType candidate : {DType::F32, DType::F16, DType::BF16, DType::I8, DType::U8, DType::BOOL}) {
    if (name == dtype_name(candidate)) {
      *dtype = candidate;
      return true;
    }
  }
  return false;
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::I8: return "I8";
    case DType::BF16: return "BF16";
    case DType::U8: return "U8";
    case DType::BOOL: return "BOOL";
  }
  fail("dtype_name: invalid DType value ", static_cast<int>(dtype));
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::I8: return 1;
    case DType::BF16: return 2;
    case DType::U8:
    case DType::BOOL: return 1;
  }
  fail("dtype_size: invalid DType value ", static_cast<int>(dtype));
}

// ---- parsing -----------------------------------------------------------------------------------------------

namespace {

uint64_t read_u64_le(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

const char* json_type(const Json& value) { return value.type_name(); }

// Parses the header text, rejecting duplicate keys at any depth (nlohmann would silently keep the last one, and a
// file with two 'head.weight' entries is corrupt, not ambiguous).
Json parse_header_json(const char* text, size_t length) {
  std::vector<std::set<std::string>> keys_of_open_objects;
  std::string duplicate_key;
  bool duplicate_is_tensor_name = false;
  auto on_event = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      keys_of_open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      keys_of_open_objects.pop_back();
    } else if (event == Json::parse_event_t::key && duplicate_key.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys_of_open_objects.back().insert(key).second) {
        duplicate_key = key;
        duplicate_is_tensor_name = keys_of_open_objects.size() == 1;
      }
    }
    return true;
  };
  Json header;
  try {
    header = parse_json(std::string_view(text, length), on_event);
  } catch (const Json::exception& error) {
    fail("safetensors header is not valid JSON (", error.what(),
         ") — HINT: the file is corrupt, truncated, or not a safetensors file");
  }
  if (!duplicate_key.empty()) {
    if (duplicate_is_tensor_name) fail("safetensors header: duplicate tensor name '", duplicate_key, "'");
    fail("safetensors header: duplicate key '", duplicate_key, "' inside an entry");
  }
  return header;
}

std::map<std::string, std::string> parse_metadata(const Json& metadata) {
  check(metadata.is_object(), "safetensors header: __metadata__ must be an object of strings, got ",
        json_type(metadata));
  std::map<std::string, std::string> result;
  for (const auto& [key, value] : metadata.items()) {
    check(value.is_string(), "safetensors header: __metadata__ must be an object of strings, but key '", key,
          "' holds a ", json_type(value), " — HINT: encode structured values (config, tokenizer) as JSON strings");
    result[key] = value.get<std::string>();
  }
  return result;
}

// Validates one header entry against the data section size and returns it; nothing is read from the data.
SafetensorsEntry parse_entry(const std::string& name, const Json& entry, uint64_t data_size) {
  check(entry.is_object(), "tensor '", name, "': header entry must be an object, got ", json_type(entry));
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    check(entry.contains(field), "tensor '", name, "': missing '", field, "' in header entry");
  }
  const Json& dtype_json = entry["dtype"];
  const Json& shape_json = entry["shape"];
  const Json& offsets_json = entry["data_offsets"];

  check(dtype_json.is_string(), "tensor '", name, "': 'dtype' must be a string, got ", json_type(dtype_json));
  SafetensorsEntry result;
  result.name = name;
  const std::string& dtype_text = dtype_json.get_ref<const std::string&>();
  check(parse_dtype(dtype_text, &result.dtype), "tensor '", name, "': unknown dtype '", dtype_text,
        "' (supported: F32, F16, BF16, I8, U8, BOOL) — HINT: convert in PyTorch with tensor.float() or tensor.half() ",
        "before saving");

  check(shape_json.is_array(), "tensor '", name, "': 'shape' must be an array of integers, got ",
        json_type(shape_json));
  // Every prefix product must fit int64, so shape_numel (which multiplies left to right in int64) stays exact.
  uint64_t numel = 1;
  // The messages' dump()s run only on failure (check's arguments would be built for every tensor and dimension).
  for (const Json& dim_json : shape_json) {
    if (!dim_json.is_number_integer()) {
      fail("tensor '", name, "': shape ", shape_json.dump(), " must hold integers, found ", dim_json.dump());
    }
    if (!dim_json.is_number_unsigned()) {
      fail("tensor '", name, "': negative dimension ", dim_json.dump(), " in shape ", shape_json.dump());
    }
    const uint64_t dim = dim_json.get<uint64_t>();
    const uint64_t int64_limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (!(dim <= int64_limit && (dim == 0 || numel <= int64_limit / dim))) {
      fail("tensor '", name, "': shape ", shape_json.dump(), " has too many elements (element count overflows)");
    }
    result.shape.push_back(static_cast<int64_t>(dim));
    numel *= dim;
  }
  const uint64_t element_size = dtype_size(result.dtype);
  if (numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / element_size) {
    fail("tensor '", name, "': shape ", shape_json.dump(), " has too many elements (element count overflows)");
  }
  const uint64_t expected_bytes = numel * element_size;

  if (!(offsets_json.is_array() && offsets_json.size() == 2)) {
    fail("tensor '", name, "': 'data_offsets' must be an array [begin, end], got ", offsets_json.dump());
  }
  for (const Json& offset : offsets_json) {
    if (!offset.is_number_unsigned()) {
      fail("tensor '", name, "': data_offsets ", offsets_json.dump(), " must be non-negative integers");
    }
  }
  const uint64_t begin = offsets_json[0].get<uint64_t>();
  const uint64_t end = offsets_json[1].get<uint64_t>();
  if (begin > end) fail("tensor '", name, "': data_offsets ", offsets_json.dump(), " begin ", begin, " is after end ", end);
  check(end <= data_size, "truncated file: tensor '", name, "' ends at byte ", end, " but the data section has ",
        data_size, " bytes — HINT: the file was cut short (interrupted download or copy?)");
  if (end - begin != expected_bytes) {
    fail("tensor '", name, "': data_offsets ", offsets_json.dump(), " span ", end - begin, " bytes but shape ",
         shape_json.dump(), " of ", dtype_text, " needs ", expected_bytes, " bytes");
  }
  result.begin = static_cast<size_t>(begin);
  result.end = static_cast<size_t>(end);
  return result;
}

// Entries sorted by offset must tile the data section exactly: no overlaps (two tensors sharing bytes), no gaps
// and no trailing bytes (both mean the header and the data disagree).
void check_tiling(const std::vector<SafetensorsEntry>& sorted_entries, uint64_t data_size) {
  size_t covered_until = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& entry : sorted_entries) {
    if (entry.begin < covered_until) {
      fail("safetensors header: tensors '", previous->name, "' [", previous->begin, ", ", previous->end, ") and '",
           entry.name, "' [", entry.begin, ", ", entry.end, ") overlap");
    }
    check(entry.begin == covered_until, "safetensors header: gap before tensor '", entry.name, "': it starts at byte ",
          entry.begin, " but the previous tensor ends at byte ", covered_until);
    covered_until = entry.end;
    previous = &entry;
  }
  check(covered_until == data_size, "safetensors file: the data section has ", data_size,
        " bytes but the tensors cover only ", covered_until, " — HINT: trailing bytes mean a corrupt file");
}

}  // namespace

uint64_t safetensors_header_length(const uint8_t* first_bytes, uint64_t file_size) {
  check(file_size >= 8, "file too short for safetensors: ", file_size,
        " bytes, but the 8-byte header length alone needs 8 — HINT: the file is empty or truncated");
  const uint64_t header_length = read_u64_le(first_bytes);
  check(header_length <= kMaxHeaderBytes, "safetensors header length ", header_length, " bytes is absurd (limit ",
        kMaxHeaderBytes, ") — HINT: this is not a safetensors file, or its first 8 bytes are corrupt");
  check(header_length <= file_size - 8, "safetensors header length ", header_length, " is larger than the file (",
        file_size - 8, " bytes after the 8-byte length) — HINT: the file is truncated or not a safetensors file");
  return header_length;
}

SafetensorsFile parse_safetensors_header(const uint8_t* bytes, uint64_t file_size) {
  check_little_endian_host();
  const uint64_t header_length = safetensors_header_length(bytes, file_size);
  const char* header_text = reinterpret_cast<const char*>(bytes + 8);
  const Json header = parse_header_json(header_text, static_cast<size_t>(header_length));
  check(header.is_object(), "safetensors header must be a JSON object, got ", json_type(header));

  const uint64_t data_size = file_size - 8 - header_length;
  SafetensorsFile file;
  for (const auto& [name, entry] : header.items()) {
    if (name == kSafetensorsMetadataKey) {
      file.metadata = parse_metadata(entry);
    } else {
      file.tensors.push_back(parse_entry(name, entry, data_size));
    }
  }
  std::sort(file.tensors.begin(), file.tensors.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  check_tiling(file.tensors, data_size);
  return file;
}

}  // namespace tinylm
