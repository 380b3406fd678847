#pragma once
// Libraries: the C++ groutine libraries (GROUTINE(...) in a shared library) that a frontend
// loaded into a runtime, kept open while their groutines may run: `groutine load libx.so` in
// every debugger.
#include <string>
#include <vector>

#include "groutines/export.hpp"
#include "groutines/groutine.hpp"

namespace groutines {

class Runtime;

class GROUTINES_API Libraries {
 public:
  Libraries() = default;
  // ~Libraries() closes the libraries still open: their groutines must be unloaded first.
  ~Libraries();
  Libraries(const Libraries&) = delete;
  Libraries& operator=(const Libraries&) = delete;

  // load() dlopens the library at path (canonical: it names the library) with open_library()
  // and loads every groutine it defines into runtime; a library already loaded from path is
  // unloaded first (a reload). Returns the loaded groutines' ids. Throws Error naming path
  // when it cannot be opened or defines no groutine (then it is closed again).
  std::vector<GroutineId> load(Runtime& runtime, const std::string& path);
  // unload() unloads the groutines loaded from path, then closes the library; false when no
  // library was loaded from path. Throws Error, closing nothing, from a delivery.
  bool unload(Runtime& runtime, const std::string& path);
  // unload_all() unloads every groutine of runtime (Runtime::unload_all()), then closes every
  // library, newest first.
  void unload_all(Runtime& runtime);
  // close() closes every library, newest first, without unloading: their groutines must be
  // unloaded already.
  void close() noexcept;
  // paths() are the paths of the open libraries, in load order.
  std::vector<std::string> paths() const;

 private:
  struct Library {
    std::string path;
    void* handle = nullptr;
  };
  std::vector<Library> open_;  // in load order
};

}  // namespace groutines
