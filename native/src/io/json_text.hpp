// parse_json(text, ...) — JSON text to nlohmann::json over a range of chars, the one input type every JSON reader in
// tinylm parses through. nlohmann instantiates its lexer and parser once per input type (std::string,
// std::vector<uint8_t>, pointers of either char type each make one), and in the wasm engine each copy weighs about
// 20 KB.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tinylm {

// As nlohmann::json::parse(first, last, callback, allow_exceptions), with one difference: the callback observes
// (what it returns is not consulted; no reader discards values). json_text.cpp says why it is not that call.
nlohmann::json parse_json(std::string_view text, const nlohmann::json::parser_callback_t& callback = nullptr,
                          bool allow_exceptions = true);

inline nlohmann::json parse_json(const uint8_t* bytes, size_t size,
                                 const nlohmann::json::parser_callback_t& callback = nullptr,
                                 bool allow_exceptions = true) {
  return parse_json(std::string_view(reinterpret_cast<const char*>(bytes), size), callback, allow_exceptions);
}

}  // namespace tinylm
