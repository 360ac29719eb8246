// Result<T, E>: a value or an error, for expected failures (bad input, EAGAIN, API errors).
// A plain value type: owned by whoever holds it, no thread rules beyond those of T and E.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "common/check.h"

namespace l2a {

// The default error: a short machine-readable code and a human context line.
struct Error {
  std::string code;
  std::string message;
};

template <typename E>
struct Unexpected {
  E error;
};

template <typename E>
Unexpected<std::decay_t<E>> fail(E&& error) {
  return {std::forward<E>(error)};
}

inline Unexpected<Error> fail(std::string code, std::string message) {
  return {Error{std::move(code), std::move(message)}};
}

template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  template <typename F>
  Result(Unexpected<F> error) : state_(std::in_place_index<1>, std::move(error.error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    L2A_CHECK(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    L2A_CHECK(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    L2A_CHECK(ok());
    return std::get<0>(std::move(state_));
  }
  const E& error() const {
    L2A_CHECK(!ok());
    return std::get<1>(state_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> state_;
};

// Result<void>: success or an error.
struct Ok {};
template <typename E = Error>
using Status = Result<Ok, E>;

}  // namespace l2a
