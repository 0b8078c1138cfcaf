// The Embind seam's helpers, shared by the binding files (wasm/bindings*.cpp): guarded() turns any
// C++ exception into a returned JS Error with a code, well_formed() makes text safe to cross, and typed arrays
// cross in one bulk copy each way.
#pragma once
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "memory_limits.hpp"
#include "tokenizer/utf8.hpp"

namespace tinylm::wasm {

using emscripten::val;

// ---- the seam -------------------------------------------------------------------------------------------------
//
// A failed call RETURNS a JS Error instead of throwing one: a JS exception unwinding through wasm frames skips the
// destructors of Embind's argument temporaries (a training text, an options struct) and would leak them on every
// failure. web/lib/engine.ts turns a returned Error into a thrown one, on the JS side of the seam.

inline val js_error(const std::string& message, const char* code) {
  val error = val::global("Error").new_(message);
  error.set("code", std::string(code));
  return error;
}

inline val as_val(val value) { return value; }
template <typename T>
val as_val(T* handle) {  // a class handle JS owns and frees with .delete()
  return val(handle);
}
template <typename T>
val as_val(T value) {  // strings, numbers, value_objects
  return val(std::move(value));
}

// Runs body() and returns its result as a val, or a JS Error carrying the message of any C++ exception.
template <typename Body>
val guarded(Body&& body) {
  std::string message;
  const char* code = "ENGINE_ERROR";
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      return val::undefined();
    } else {
      return as_val(body());
    }
  } catch (const LimitError& error) {  // sized before any buffer: the message names the bytes and the cap
    message = error.what();
    code = error.kind == LimitKind::ModelTooLarge ? "MODEL_TOO_LARGE" : "OUT_OF_MEMORY";
  } catch (const std::bad_alloc&) {
    message = "out of memory: the engine's heap is capped at " + format_bytes(TINYLM_MAXIMUM_MEMORY) +
              " and holds other models too; use a smaller model, batch or sequence length, or dispose of models";
    code = "OUT_OF_MEMORY";
  } catch (const std::length_error&) {  // libc++'s bare "vector": a size no container can hold
    message = "out of memory: a buffer larger than the engine can address was requested; use a smaller model, "
              "batch or text";
    code = "OUT_OF_MEMORY";
  } catch (const std::exception& error) {
    message = error.what();
  } catch (...) {
    message = "the tinylm engine failed with an unknown error";
  }
  return js_error(message, code);
}

// Embind passes a std::string to JS through Emscripten 3.1.6's UTF8ToString, whose short-string path turns invalid
// UTF-8 into lone surrogates (and its TextDecoder path into U+FFFD): every text that crosses is made well-formed
// here first, each invalid sequence one U+FFFD as TextDecoder would, so JS only ever sees well-formed UTF-16.
inline std::string well_formed(std::string text) {
  if (utf8::is_valid(text)) return text;
  return utf8::encode(utf8::decode(text));
}

// ---- typed-array transfer: one bulk copy each way -----------------------------------------------------------

template <typename T>
std::vector<T> copy_from_js(const val& typed_array) {
  std::vector<T> out(typed_array["length"].as<size_t>());
  if (!out.empty()) val(emscripten::typed_memory_view(out.size(), out.data())).call<void>("set", typed_array);
  return out;
}

// Bytes from a JS typed array in wasm memory, for the file readers: unlike a std::vector, the buffer is not first
// zero-filled (a model file is megabytes, and `set` writes every byte of it).
struct JsBytes {
  std::unique_ptr<uint8_t[]> data;
  size_t size = 0;
};

inline JsBytes bytes_from_js(const val& typed_array) {
  JsBytes bytes;
  bytes.size = typed_array["length"].as<size_t>();
  bytes.data.reset(new uint8_t[bytes.size]);
  if (bytes.size > 0) val(emscripten::typed_memory_view(bytes.size, bytes.data.get())).call<void>("set", typed_array);
  return bytes;
}

// A JS-owned copy (slice), so it stays valid when the heap grows or the C++ storage is freed.
template <typename T>
val copy_to_js(const T* data, size_t count) {
  return val(emscripten::typed_memory_view(count, data)).call<val>("slice");
}

}  // namespace tinylm::wasm
