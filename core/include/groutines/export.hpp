#pragma once
// GROUTINES_API marks what the core shared library exports; everything else is hidden.
#define GROUTINES_API __attribute__((visibility("default")))
