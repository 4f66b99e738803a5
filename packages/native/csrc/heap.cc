#include "heap.h"

#include <cmath>

namespace tessera {

Args::Args(napi_env env, napi_callback_info info, size_t expected) : env_(env) {
  if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) throw ArgError("cannot read arguments");
  if (argc_ != expected) {
    throw ArgError("expected " + std::to_string(expected) + " arguments, got " + std::to_string(argc_));
  }
}

Heap Args::heap() const {
  bool isBuffer = false;
  napi_is_arraybuffer(env_, argv_[0], &isBuffer);
  if (!isBuffer) throw ArgError("argument 0 must be the wasm heap ArrayBuffer");
  Heap heap;
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_arraybuffer_info(env_, argv_[0], &data, &length) != napi_ok) throw ArgError("cannot read the heap");
  // A detached buffer (the heap grew since it was fetched) has no data: refuse it.
  if (data == nullptr && length > 0) throw ArgError("the heap ArrayBuffer is detached; fetch it again");
  heap.data = static_cast<uint8_t*>(data);
  heap.bytes = static_cast<int64_t>(length);
  return heap;
}

double Args::number(size_t i, const char* what) const {
  double value = 0;
  if (napi_get_value_double(env_, argv_[i], &value) != napi_ok || !std::isfinite(value)) {
    throw ArgError(std::string(what) + " must be a finite number");
  }
  return value;
}

int64_t Args::integer(size_t i, const char* what) const {
  double value = number(i, what);
  if (value != std::floor(value) || std::fabs(value) > 9007199254740991.0) {
    throw ArgError(std::string(what) + " must be an integer");
  }
  return static_cast<int64_t>(value);
}

const double* Args::doubles(size_t i, size_t count, const char* what) const {
  bool isTyped = false;
  napi_is_typedarray(env_, argv_[i], &isTyped);
  if (!isTyped) throw ArgError(std::string(what) + " must be a Float64Array");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_get_typedarray_info(env_, argv_[i], &type, &length, &data, nullptr, nullptr);
  if (type != napi_float64_array || length < count) {
    throw ArgError(std::string(what) + " must be a Float64Array of at least " + std::to_string(count) + " values");
  }
  return static_cast<const double*>(data);
}

}  // namespace tessera
