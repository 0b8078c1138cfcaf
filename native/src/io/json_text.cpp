// parse_json: JSON text → nlohmann::json through nlohmann's SAX interface, with the document built here. See
// json_text.hpp for why there is one entry point; this file is why it builds the value itself.
//
// nlohmann::json::parse(first, last, callback, allow_exceptions) compiles two parsers, one building the value with a
// callback and one without, whichever the call asks for (the choice is made at run time). Each is ~10 KB of wasm,
// and the engine's first download holds every parser it links. One builder that takes an optional callback is one
// parser. It reports the events nlohmann's callback parser does, with the same depths: readers observe them (depth
// limits, duplicate keys), and none discards a value, so what a callback returns is not consulted.
#include "io/json_text.hpp"

#include <utility>
#include <vector>

namespace tinylm {
namespace {

using Json = nlohmann::json;
using Event = Json::parse_event_t;

class DocumentBuilder {
 public:
  DocumentBuilder(Json& root, const Json::parser_callback_t& callback) : root_(root), callback_(callback) {}

  bool null() { return add(Json(nullptr)); }
  bool boolean(bool value) { return add(Json(value)); }
  bool number_integer(Json::number_integer_t value) { return add(Json(value)); }
  bool number_unsigned(Json::number_unsigned_t value) { return add(Json(value)); }
  bool number_float(Json::number_float_t value, const Json::string_t&) { return add(Json(value)); }
  bool string(Json::string_t& value) { return add(Json(std::move(value))); }
  bool binary(Json::binary_t& value) { return add(Json::binary(std::move(value))); }

  bool start_object(std::size_t) { return open(Json::value_t::object, Event::object_start); }
  bool start_array(std::size_t) { return open(Json::value_t::array, Event::array_start); }
  bool end_object() { return close(Event::object_end); }
  bool end_array() { return close(Event::array_end); }

  bool key(Json::string_t& name) {
    if (callback_) {
      Json as_value(name);
      callback_(depth(), Event::key, as_value);
    }
    key_ = std::move(name);
    return true;
  }

  // The parser's error (its own type: parse_error, out_of_range), thrown as nlohmann::json::parse throws it.
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& error) {
    throw error;
  }

 private:
  int depth() const { return static_cast<int>(open_.size()); }

  // Places `value` in the innermost open container (under the last key, in an object), or as the document.
  Json* place(Json&& value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& container = *open_.back();
    if (container.is_array()) {
      container.push_back(std::move(value));
      return &container.back();
    }
    Json& slot = container[key_];  // a repeated key keeps the last value, as nlohmann::json::parse does
    slot = std::move(value);
    return &slot;
  }

  bool add(Json&& value) {
    Json* placed = place(std::move(value));
    if (callback_) callback_(depth(), Event::value, *placed);
    return true;
  }

  bool open(Json::value_t type, Event event) {
    if (callback_) {
      Json nothing(Json::value_t::discarded);
      callback_(depth(), event, nothing);
    }
    open_.push_back(place(Json(type)));
    return true;
  }

  bool close(Event event) {
    Json* finished = open_.back();
    open_.pop_back();
    if (callback_) callback_(depth(), event, *finished);
    return true;
  }

  Json& root_;
  const Json::parser_callback_t& callback_;
  std::vector<Json*> open_;  // the containers being filled, outermost first
  Json::string_t key_;       // the key of the value that comes next, in an object
};

}  // namespace

Json parse_json(std::string_view text, const Json::parser_callback_t& callback, bool allow_exceptions) {
  Json document;
  DocumentBuilder builder(document, callback);
  try {
    Json::sax_parse(text.data(), text.data() + text.size(), &builder);
  } catch (const Json::exception&) {
    if (allow_exceptions) throw;
    return Json(Json::value_t::discarded);
  }
  return document;
}

}  // namespace tinylm
