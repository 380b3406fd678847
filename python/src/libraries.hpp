#pragma once
// GroutineLibraries: the C++ groutine libraries (GROUTINE(...) in a shared library) that a
// Python-hosted runtime loaded, kept open while their groutines may run.
#include <string>
#include <vector>

#include "groutines/groutine.hpp"
#include "groutines/runtime.hpp"

namespace groutines::python {

class GroutineLibraries {
 public:
  GroutineLibraries() = default;
  // ~GroutineLibraries() closes the libraries still open (see close()).
  ~GroutineLibraries();
  GroutineLibraries(const GroutineLibraries&) = delete;
  GroutineLibraries& operator=(const GroutineLibraries&) = delete;

  // load() dlopens the library at path and loads every groutine it defines into runtime;
  // their ids. Throws Error naming path when it cannot be opened or defines no groutine.
  std::vector<GroutineId> load(Runtime& runtime, const std::string& path);
  // close() dlcloses every library, newest first. Their groutines must be unloaded first.
  void close() noexcept;

 private:
  std::vector<void*> handles_;  // in load order
};

}  // namespace groutines::python
