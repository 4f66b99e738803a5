// Access to the tfjs wasm heap (an ArrayBuffer passed on every call) with bounds checks.
#pragma once
#include <node_api.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace tessera {

// Thrown by argument parsing and bounds checks; turned into a JS Error by the wrapper.
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Heap {
  uint8_t* data = nullptr;
  int64_t bytes = 0;

  // Float32 (or int32) view of `count` elements at byte `offset`; throws if any is outside.
  template <typename T>
  T* at(int64_t offset, int64_t count, const char* what) const {
    if (offset < 0 || count < 0 || offset % static_cast<int64_t>(sizeof(T)) != 0 ||
        offset > bytes || count > (bytes - offset) / static_cast<int64_t>(sizeof(T))) {
      throw ArgError(std::string(what) + ": offset " + std::to_string(offset) + " + " + std::to_string(count) +
                     " elements is outside the wasm heap (" + std::to_string(bytes) + " bytes)");
    }
    return reinterpret_cast<T*>(data + offset);
  }
};

// Reads the call's arguments: args[0] is the heap ArrayBuffer, the rest are numbers or typed arrays.
class Args {
 public:
  Args(napi_env env, napi_callback_info info, size_t expected);
  Heap heap() const;
  int64_t integer(size_t i, const char* what) const;
  double number(size_t i, const char* what) const;
  // Int64 metadata passed as a Float64Array (shapes, strides).
  const double* doubles(size_t i, size_t count, const char* what) const;

 private:
  napi_env env_;
  napi_value argv_[16];
  size_t argc_ = 16;
};

}  // namespace tessera
