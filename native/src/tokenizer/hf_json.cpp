// Bounded parsing and typed field access for Hugging Face tokenizer files. See hf_json.hpp.
#include "tokenizer/hf_json.hpp"

#include "io/json_text.hpp"
#include "tinylm/error.hpp"

namespace tinylm::hf {

nlohmann::json parse_document(std::string_view text, const char* file) {
  check(text.size() <= kMaxDocumentBytes, file, " is ", text.size(), " bytes; tinylm reads at most ",
        kMaxDocumentBytes, " (no published tokenizer is that large)");
  // The parser and the value's destructor are iterative in nlohmann::json 3.11, so depth is bounded only to keep
  // printing and copying cheap; the callback fails before the value grows deeper.
  auto limit_depth = [file](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    check(depth <= kMaxDocumentDepth, file, " nests deeper than ", kMaxDocumentDepth, " levels");
    return true;
  };
  try {
    return parse_json(text, limit_depth);
  } catch (const nlohmann::json::exception& error) {
    fail(file, " is not valid JSON: ", error.what());
  }
}

std::string describe(const nlohmann::json& value) {
  if (value.is_object()) return "an object of " + std::to_string(value.size()) + " fields";
  if (value.is_array()) return "an array of " + std::to_string(value.size()) + " values";
  if (value.is_string() && value.get_ref<const std::string&>().size() > 60) {
    return nlohmann::json(value.get_ref<const std::string&>().substr(0, 60))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "...";
  }
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {
const nlohmann::json kNull;
}  // namespace

Field Field::at(const char* key) const {
  const nlohmann::json& container = object();
  auto found = container.find(key);
  return {found == container.end() ? kNull : *found, path + "." + key};
}

Field Field::at(size_t index) const { return {array()[index], path + "[" + std::to_string(index) + "]"}; }

void Field::fail_expected(const char* expected) const {
  fail(path, " must be ", expected, ", got ", describe(value));
}

const nlohmann::json& Field::object() const {
  if (!value.is_object()) fail_expected("an object");
  return value;
}

const nlohmann::json& Field::array() const {
  if (!value.is_array()) fail_expected("an array");
  return value;
}

std::string Field::string() const {
  if (!value.is_string()) fail_expected("a string");
  return value.get<std::string>();
}

std::string Field::string_or(const std::string& if_null) const { return is_null() ? if_null : string(); }

bool Field::boolean(bool if_null) const {
  if (is_null()) return if_null;
  if (!value.is_boolean()) fail_expected("true or false");
  return value.get<bool>();
}

int64_t Field::integer(int64_t low, int64_t high) const {
  bool in_range = false;
  if (value.is_number_unsigned()) {
    const uint64_t number = value.get<uint64_t>();
    in_range = number <= static_cast<uint64_t>(high) && (low <= 0 || number >= static_cast<uint64_t>(low));
  } else if (value.is_number_integer()) {
    const int64_t number = value.get<int64_t>();
    in_range = number >= low && number <= high;
  }
  if (!in_range) fail(path, " must be an integer in [", low, ", ", high, "], got ", describe(value));
  return value.get<int64_t>();
}

}  // namespace tinylm::hf
