#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "groutines/error.hpp"
#include "groutines/export.hpp"

namespace groutines {

// Definition is a groutine as written: a name, a body and where it was defined. source is the
// library that registered it ("" for the main program).
struct Definition {
  std::string name;
  std::function<void()> body;
  Location location;
  std::string source;
  std::uint64_t serial = 0;  // registration order, process-wide
};

// Registry holds every GROUTINE(...) registered at static-initialisation time, by the program
// and by each shared library as it is loaded, the way Catch2 collects TEST_CASEs.
class GROUTINES_API Registry {
 public:
  // global() is the process-wide registry.
  static Registry& global();

  // add() registers a definition under the source being captured (see Capture); returns its
  // serial.
  std::uint64_t add(std::string name, std::function<void()> body, Location location);
  // remove() forgets serial (a library's static destructors run on dlclose).
  void remove(std::uint64_t serial);
  // definitions() lists every definition, in registration order.
  std::vector<Definition> definitions() const;
  // definitions_of() lists the definitions registered while capturing source.
  std::vector<Definition> definitions_of(std::string_view source) const;

  // Capture tags every definition registered during its lifetime with source: make one
  // around dlopen() of a groutine library.
  class GROUTINES_API Capture {
   public:
    explicit Capture(std::string source);
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

   private:
    std::string previous_;
  };

 private:
  mutable std::mutex mutex_;
  std::vector<Definition> definitions_;
  std::string capturing_;
  std::uint64_t next_serial_ = 1;
};

// Registrar registers one definition for as long as it lives: GROUTINE(...) makes a static one.
class GROUTINES_API Registrar {
 public:
  Registrar(const char* name, void (*body)(), const char* file, unsigned line);
  ~Registrar();
  Registrar(const Registrar&) = delete;
  Registrar& operator=(const Registrar&) = delete;

 private:
  std::uint64_t serial_;
};

}  // namespace groutines
