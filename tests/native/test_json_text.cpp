// parse_json (io/json_text.cpp) against nlohmann::json::parse, the reference it stands in for: the same values, the
// same callback events at the same depths, the same exceptions with the same messages, and a discarded value where
// exceptions are off.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "io/json_text.hpp"

namespace {

using Json = nlohmann::json;

const char* const kDocuments[] = {
    R"({"a": 1, "b": [true, false, null], "c": {"d": -2, "e": 18446744073709551615, "f": 1.5e-7, "g": "x\u00e9\ud83d\ude00"}})",
    R"([{"k": [[], {}]}, [1, [2, [3, {"deep": [4]}]]], "", 0, -0.0])",
    R"({"dup": 1, "inner": {"dup": [1], "dup": {"last": true}}, "dup": "wins"})",
    R"("a string alone")",
    "42",
    "  null  ",
    R"({"__metadata__": {"format": "pt"}, "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}})",
};

const char* const kBroken[] = {
    "",
    "{",
    R"({"a": })",
    R"({"a": 1,})",
    "[1 2]",
    "{\"a\": \"tab\there\"}",
    R"({"a": 1} trailing)",
    "1e999999",
    R"(["\ud800"])",
    "nul",
};

struct Seen {
  int depth;
  Json::parse_event_t event;
  Json value;
  bool operator==(const Seen& other) const {
    return depth == other.depth && event == other.event &&
           (value == other.value || (value.is_discarded() && other.value.is_discarded()));
  }
};

// The events a callback sees (the reference: nlohmann's own callback parser, asked to keep every value).
std::vector<Seen> events_of(const std::string& text, bool reference) {
  std::vector<Seen> seen;
  Json::parser_callback_t record = [&seen](int depth, Json::parse_event_t event, Json& value) {
    seen.push_back({depth, event, value});
    return true;
  };
  if (reference) Json::parse(text, record);
  else tinylm::parse_json(text, record);
  return seen;
}

std::string message_of(const std::string& text, bool reference) {
  try {
    if (reference) Json::parse(text);
    else tinylm::parse_json(text);
  } catch (const Json::parse_error& error) {
    return std::string("parse_error ") + error.what();
  } catch (const Json::out_of_range& error) {
    return std::string("out_of_range ") + error.what();
  } catch (const Json::exception& error) {
    return std::string("exception ") + error.what();
  }
  return "no exception";
}

}  // namespace

TEST_CASE("parse_json builds the value nlohmann::json::parse builds") {
  for (const char* text : kDocuments) {
    CAPTURE(text);
    const Json expected = Json::parse(text);
    const Json parsed = tinylm::parse_json(text);
    CHECK(parsed == expected);
    CHECK(parsed.dump() == expected.dump());  // the same types too (unsigned, integer, float)
    const std::string bytes(text);
    CHECK(tinylm::parse_json(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) == expected);
  }
}

TEST_CASE("parse_json reports the events nlohmann's callback parser reports, at the same depths") {
  for (const char* text : kDocuments) {
    CAPTURE(text);
    const std::vector<Seen> expected = events_of(text, true);
    const std::vector<Seen> seen = events_of(text, false);
    REQUIRE(seen.size() == expected.size());
    for (size_t i = 0; i < seen.size(); ++i) {
      CAPTURE(i);
      CHECK(seen[i].depth == expected[i].depth);
      CHECK(seen[i].event == expected[i].event);
      CHECK(seen[i] == expected[i]);
    }
  }
}

TEST_CASE("parse_json throws what nlohmann::json::parse throws, or returns a discarded value when told not to") {
  for (const char* text : kBroken) {
    CAPTURE(text);
    const std::string expected = message_of(text, true);
    REQUIRE(expected != "no exception");
    CHECK(message_of(text, false) == expected);
    CHECK(tinylm::parse_json(text, nullptr, false).is_discarded());
  }
}

TEST_CASE("an exception from the callback leaves parse_json as it is") {
  Json::parser_callback_t refuse_deep = [](int depth, Json::parse_event_t, Json&) {
    if (depth > 2) throw std::runtime_error("too deep");
    return true;
  };
  CHECK_THROWS_WITH_AS(tinylm::parse_json("[[[[1]]]]", refuse_deep), "too deep", std::runtime_error);
  CHECK_THROWS_WITH_AS(tinylm::parse_json("[[[[1]]]]", refuse_deep, false), "too deep", std::runtime_error);
  CHECK(tinylm::parse_json("[[1]]", refuse_deep) == Json::parse("[[1]]"));
}
