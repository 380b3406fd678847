#define CATCH_CONFIG_MAIN
// Catch's own fatal-signal handlers, installed anew for every test case, would take SIGSEGV and
// SIGABRT before the runtime's containment (containment.tests.cpp) sees them.
#define CATCH_CONFIG_NO_POSIX_SIGNALS
#include <catch2/catch.hpp>
