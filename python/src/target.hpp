#pragma once
// Target: the native half of groutines.testing.Target. The core's scripted target
// (groutines::testing::ScriptedTarget, core/testing/), made the default runtime while it is
// open in a plain python3, with the C++ groutine libraries it loaded.
#include <string>
#include <vector>

#include "groutines/testing/scripted_target.hpp"
#include "libraries.hpp"

namespace groutines::python {

class Target {
 public:
  // Target() makes its runtime the default one unless a debugger (or another host) made one.
  Target();
  // ~Target() closes it (close()).
  ~Target();
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;

  // scripted() is the scripted target: call(), ret(), unwind() and what happened.
  testing::ScriptedTarget& scripted() noexcept { return target_; }
  // runtime() is the target's runtime; it outlives close() (empty).
  Runtime& runtime() noexcept { return target_.runtime(); }
  bool closed() const noexcept { return target_.closed(); }
  // load_library() loads the groutines of the C++ groutine library at path; their ids.
  std::vector<GroutineId> load_library(const std::string& path);
  // close() stops being the default runtime, unloads every groutine (newest first) and closes
  // the C++ groutine libraries. Call leave_default() first under the GIL (see module.cpp).
  void close();
  // leave_default() makes its runtime no longer the default one, if it was.
  void leave_default() noexcept;

 private:
  GroutineLibraries libraries_;      // destroyed after the target: its groutines run their code
  testing::ScriptedTarget target_;
};

}  // namespace groutines::python
