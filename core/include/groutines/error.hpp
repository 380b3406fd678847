#pragma once
#include <stdexcept>
#include <string>

#include "groutines/export.hpp"

namespace groutines {

// Error is what the runtime throws at a groutine (or at the debugger boundary) for anything a
// user, a script or the target can cause: a stale handle, an unknown register, a fire nested
// too deep. Uncaught in a groutine, it marks that groutine failed; the others go on.
class GROUTINES_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Location is a place in a groutine's source: file and line.
struct Location {
  std::string file;
  unsigned line = 0;
};

// RequireFailure is thrown by GROUTINE_REQUIRE and GROUTINE_FAIL: it ends the groutine as
// failed, with the message and the location of the check.
class GROUTINES_API RequireFailure : public Error {
 public:
  RequireFailure(std::string message, Location where)
      : Error(std::move(message)), where_(std::move(where)) {}
  // where() is the file:line of the failed check.
  const Location& where() const noexcept { return where_; }

 private:
  Location where_;
};

}  // namespace groutines
