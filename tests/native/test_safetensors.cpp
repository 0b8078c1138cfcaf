// Tests for io/safetensors: IEEE half conversions (exhaustively and against a nearest-value reference), F32, F16,
// BF16 and metadata round trips, and the byte layout serialize_safetensors writes. Malformed files and the file
// helpers (atomic writes, reads) are test_safetensors_errors.cpp's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/safetensors.hpp"
#include "safetensors_forge.hpp"

namespace {

using namespace tinylm;
using namespace tinylm::testing;

uint32_t float_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float float_from_bits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// Nearest binary16 by search over every finite half, ties to the even bit pattern: slow, obviously correct, and
// independent of float_to_half's bit tricks. Relies on half_to_float, which the exhaustive test pins down.
uint16_t reference_float_to_half(float value, const std::vector<double>& positive_halves) {
  const uint16_t sign = std::signbit(value) ? 0x8000 : 0;
  const double magnitude = std::fabs(static_cast<double>(value));
  if (magnitude >= 65520.0) return sign | 0x7c00;  // 65504 + half an ulp (32 / 2) and up round to infinity
  auto upper = std::lower_bound(positive_halves.begin(), positive_halves.end(), magnitude);
  const uint16_t above = static_cast<uint16_t>(upper - positive_halves.begin());
  if (*upper == magnitude || above == 0) return sign | above;
  const uint16_t below = above - 1;
  const double distance_below = magnitude - positive_halves[below];
  const double distance_above = positive_halves[above] - magnitude;
  if (distance_below < distance_above) return sign | below;
  if (distance_above < distance_below) return sign | above;
  return sign | ((below & 1) ? above : below);
}

}  // namespace

// ---- half conversions ----------------------------------------------------------------------------------------

TEST_CASE("safetensors: half conversions") {
  SUBCASE("every non-NaN half survives half -> float -> half, and NaNs stay NaN") {
    for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
      const uint16_t half = static_cast<uint16_t>(bits);
      const float value = half_to_float(half);
      const bool is_nan = (half & 0x7c00) == 0x7c00 && (half & 0x03ff) != 0;
      if (is_nan) {
        REQUIRE(std::isnan(value));
        REQUIRE(std::signbit(value) == bool(half & 0x8000));
        const uint16_t back = float_to_half(value);
        REQUIRE(((back & 0x7c00) == 0x7c00 && (back & 0x03ff) != 0));
      } else {
        REQUIRE_MESSAGE(float_to_half(value) == half, "half bits 0x" << std::hex << bits);
      }
    }
  }

  SUBCASE("known values, infinities and overflow") {
    CHECK(half_to_float(0x3c00) == 1.0f);
    CHECK(half_to_float(0xc000) == -2.0f);
    CHECK(half_to_float(0x7bff) == 65504.0f);
    CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));
    CHECK(half_to_float(0x03ff) == std::ldexp(1023.0f, -24));
    CHECK(float_to_half(0.0f) == 0x0000);
    CHECK(float_to_half(-0.0f) == 0x8000);
    CHECK(float_to_half(std::numeric_limits<float>::infinity()) == 0x7c00);
    CHECK(float_to_half(-std::numeric_limits<float>::infinity()) == 0xfc00);
    CHECK(float_to_half(65519.99f) == 0x7bff);
    CHECK(float_to_half(65520.0f) == 0x7c00);  // the tie above 65504 rounds to even, which is infinity
    CHECK(float_to_half(1e9f) == 0x7c00);
    CHECK(float_to_half(-1e9f) == 0xfc00);
    CHECK(float_to_half(1e-10f) == 0x0000);
  }

  SUBCASE("ties round to even, in normals and subnormals") {
    CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);      // halfway 1 .. 1+2^-10: down to even
    CHECK(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);  // halfway 1+2^-10 .. 1+2^-9: up to even
    CHECK(float_to_half(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)) == 0x3c01);  // just above a tie
    CHECK(float_to_half(std::ldexp(1.0f, -25)) == 0x0000);             // halfway 0 .. 2^-24: down to zero
    CHECK(float_to_half(std::ldexp(3.0f, -25)) == 0x0002);             // halfway 2^-24 .. 2^-23: up to even
    CHECK(float_to_half(std::ldexp(1.0001f, -25)) == 0x0001);          // just above the smallest tie
    CHECK(float_to_half(std::ldexp(1023.5f, -24)) == 0x0400);          // largest subnormal carries into normal
    CHECK(float_to_half(-std::ldexp(1023.5f, -24)) == 0x8400);
  }

  SUBCASE("float_to_half matches a nearest-value search across the float range") {
    std::vector<double> positive_halves;
    for (uint16_t bits = 0; bits <= 0x7bff; ++bits) positive_halves.push_back(half_to_float(bits));
    positive_halves.push_back(65536.0);  // stands for infinity as the upper neighbour of 65504
    // A prime stride visits every exponent and many mantissa patterns, including ties, in a few million steps.
    for (uint64_t bits = 0; bits <= 0xffffffffull; bits += 997) {
      const float value = float_from_bits(static_cast<uint32_t>(bits));
      if (std::isnan(value)) continue;
      REQUIRE_MESSAGE(float_to_half(value) == reference_float_to_half(value, positive_halves),
                      "float bits 0x" << std::hex << bits);
    }
  }
}

// ---- round trips and layout ----------------------------------------------------------------------------------

TEST_CASE("safetensors: F32 round trip is bit-exact and keeps tensor order") {
  const std::vector<float> weight = {1.5f, -0.0f, std::numeric_limits<float>::infinity(),
                                     std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::denorm_min(),
                                     std::numeric_limits<float>::max()};
  const std::vector<float> scalar = {42.0f};
  const std::vector<TensorToWrite> tensors = {
      {"z.weight", {2, 3}, weight.data()},  // names deliberately not alphabetical: the order must be kept
      {"a.scalar", {}, scalar.data()},
      {"m.empty", {0, 3}, nullptr},
  };
  const std::vector<uint8_t> bytes = serialize_safetensors(tensors, {});
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());

  REQUIRE(file.tensors.size() == 3);
  CHECK(file.tensors[0].name == "z.weight");
  CHECK(file.tensors[1].name == "a.scalar");
  CHECK(file.tensors[2].name == "m.empty");
  CHECK(file.metadata.empty());

  const SafetensorsEntry* entry = file.find("z.weight");
  REQUIRE(entry != nullptr);
  CHECK(entry->dtype == DType::F32);
  CHECK(entry->shape == Shape{2, 3});
  const std::vector<float> read = file.read_f32(*entry);
  REQUIRE(read.size() == weight.size());
  for (size_t i = 0; i < weight.size(); ++i) CHECK(float_bits(read[i]) == float_bits(weight[i]));

  CHECK(file.read_f32(*file.find("a.scalar")) == scalar);
  CHECK(file.find("a.scalar")->shape.empty());
  CHECK(file.read_f32(*file.find("m.empty")).empty());
  CHECK(file.find("missing") == nullptr);
}

TEST_CASE("safetensors: F16 round trip") {
  // Representable in binary16: must come back exactly.
  const std::vector<float> exact = {0.0f, -0.0f, 1.0f, -2.0f, 0.5f, 65504.0f, std::ldexp(1.0f, -24),
                                    std::ldexp(1023.0f, -24), 1.0f + std::ldexp(1.0f, -10),
                                    std::numeric_limits<float>::infinity()};
  // Not representable: ties and off-grid values, with the halves they must round to.
  const std::vector<float> rounded = {1.0f + std::ldexp(1.0f, -11), 1.0f + 3 * std::ldexp(1.0f, -11), 0.1f,
                                      70000.0f};
  const std::vector<uint16_t> rounded_bits = {0x3c00, 0x3c02, 0x2e66, 0x7c00};
  const std::vector<uint8_t> bytes = serialize_safetensors(
      {{"exact", {2, 5}, exact.data(), DType::F16}, {"rounded", {4}, rounded.data(), DType::F16}}, {});
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());

  const SafetensorsEntry& exact_entry = *file.find("exact");
  CHECK(exact_entry.dtype == DType::F16);
  CHECK(exact_entry.end - exact_entry.begin == exact.size() * 2);
  const std::vector<float> exact_read = file.read_f32(exact_entry);
  for (size_t i = 0; i < exact.size(); ++i) CHECK(float_bits(exact_read[i]) == float_bits(exact[i]));

  const std::vector<float> rounded_read = file.read_f32(*file.find("rounded"));
  for (size_t i = 0; i < rounded.size(); ++i) CHECK(float_to_half(rounded_read[i]) == rounded_bits[i]);
}

TEST_CASE("safetensors: BF16 round trip") {
  // BF16 keeps float's exponent and the top 7 mantissa bits: values on that grid come back exactly, others round
  // to the nearest (ties to even), NaN stays NaN, and the largest floats round up to infinity.
  const float big = std::numeric_limits<float>::max();
  const std::vector<float> exact = {0.0f, -0.0f, 1.0f, -2.0f, 1.0f + std::ldexp(1.0f, -7), std::ldexp(1.0f, -133),
                                    std::ldexp(255.0f, 120), std::numeric_limits<float>::infinity()};
  const std::vector<float> rounded = {1.0f + std::ldexp(1.0f, -8), 1.0f + 3 * std::ldexp(1.0f, -8), 0.1f, big,
                                      std::numeric_limits<float>::quiet_NaN()};
  const std::vector<uint16_t> rounded_bits = {0x3f80, 0x3f82, 0x3dcd, 0x7f80};
  const std::vector<uint8_t> bytes = serialize_safetensors(
      {{"exact", {8}, exact.data(), DType::BF16}, {"rounded", {5}, rounded.data(), DType::BF16}}, {});
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  const SafetensorsEntry& exact_entry = *file.find("exact");
  CHECK(exact_entry.dtype == DType::BF16);
  CHECK(exact_entry.end - exact_entry.begin == exact.size() * 2);
  const std::vector<float> exact_read = file.read_f32(exact_entry);
  for (size_t i = 0; i < exact.size(); ++i) CHECK(float_bits(exact_read[i]) == float_bits(exact[i]));
  const std::vector<float> rounded_read = file.read_f32(*file.find("rounded"));
  for (size_t i = 0; i < 4; ++i) CHECK((float_bits(rounded_read[i]) >> 16) == rounded_bits[i]);
  CHECK(std::isnan(rounded_read[4]));
}

TEST_CASE("safetensors: metadata round trip") {
  const std::map<std::string, std::string> metadata = {
      {"format_version", "1"},
      {"config", R"({"kind":"lstm","hidden_size":256,"vocab":"a\"b\\c"})"},
      {"empty", ""},
      {"unicode", "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x90\x8b"},
      {"control", std::string("tab\tnewline\nnul", 15) + std::string(1, '\0') + "end"},
  };
  const std::vector<float> values = {1.0f, 2.0f};
  const std::vector<uint8_t> bytes = serialize_safetensors({{"w", {2}, values.data()}}, metadata);
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  CHECK(file.metadata == metadata);
  CHECK(file.read_f32(*file.find("w")) == values);
}

TEST_CASE("safetensors: serialized layout follows the spec") {
  const std::vector<float> first = {1, 2, 3};
  const std::vector<float> second = {4, 5};
  for (size_t name_length = 1; name_length <= 8; ++name_length) {  // every header padding remainder
    CAPTURE(name_length);
    const std::string first_name(name_length, 'x');
    const std::vector<uint8_t> bytes = serialize_safetensors(
        {{first_name, {3}, first.data()}, {"second", {2}, second.data(), DType::F16}}, {{"k", "v"}});
    uint64_t header_length = 0;
    for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | bytes[i];
    CHECK(header_length % 8 == 0);
    REQUIRE(8 + header_length + 3 * 4 + 2 * 2 == bytes.size());

    const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(header_length));
    const size_t json_end = header.find_last_of('}') + 1;
    CHECK(header.find_first_not_of(' ', json_end) == std::string::npos);  // padding is spaces only
    CHECK(json_end + 8 > header.size());                                  // and less than 8 of them

    const auto json = nlohmann::ordered_json::parse(header);
    std::vector<std::string> keys;
    for (const auto& item : json.items()) keys.push_back(item.key());
    CHECK(keys == std::vector<std::string>{"__metadata__", first_name, "second"});
    CHECK(json[first_name]["data_offsets"] == nlohmann::ordered_json::array({0, 12}));
    CHECK(json["second"]["data_offsets"] == nlohmann::ordered_json::array({12, 16}));
    CHECK(json["second"]["dtype"] == "F16");

    float stored;  // little-endian float 1.0 right after the header
    std::memcpy(&stored, bytes.data() + 8 + header_length, 4);
    CHECK(stored == 1.0f);
  }
}

TEST_CASE("safetensors: serialize rejects what it cannot write") {
  const std::vector<float> values = {1.0f};
  CHECK(error_message_of([&] { serialize_safetensors({{"a", {1}, values.data()}, {"a", {1}, values.data()}}, {}); })
            .find("duplicate tensor name 'a'") != std::string::npos);
  CHECK(error_message_of([&] { serialize_safetensors({{"__metadata__", {1}, values.data()}}, {}); })
            .find("reserved") != std::string::npos);
  CHECK(error_message_of([&] { serialize_safetensors({{"q", {1}, values.data(), DType::I8}}, {}); })
            .find("no int8_values pointer") != std::string::npos);
  CHECK(error_message_of([&] { serialize_safetensors({{"n", {-1}, values.data()}}, {}); })
            .find("negative dimension -1") != std::string::npos);
  CHECK(error_message_of([&] { serialize_safetensors({{"bad\xff", {1}, values.data()}}, {}); })
            .find("UTF-8") != std::string::npos);
}

TEST_CASE("safetensors: empty and zero-sized files parse") {
  const std::vector<uint8_t> no_tensors = forge_file("{}");
  const SafetensorsFile empty = parse_safetensors(no_tensors.data(), no_tensors.size());
  CHECK(empty.tensors.empty());
  const std::vector<uint8_t> zero_sized = forge_file("{\"z\":" + tensor_entry("F32", "[0]", "[0,0]") + "}    ");
  CHECK(parse_safetensors(zero_sized.data(), zero_sized.size()).find("z") != nullptr);
}

TEST_CASE("safetensors: read_f32 rejects I8 tensors") {
  const std::vector<uint8_t> bytes = forge_file("{\"q\":" + tensor_entry("I8", "[4]", "[0,4]") + "}", {1, 2, 3, 4});
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size());
  REQUIRE(file.find("q") != nullptr);
  CHECK(file.find("q")->dtype == DType::I8);
  CHECK(error_message_of([&] { file.read_f32(*file.find("q")); }).find("is I8") != std::string::npos);
}
