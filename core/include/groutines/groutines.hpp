#pragma once
// groutines.hpp: everything a C++ groutine library includes.
#include "groutines/api.hpp"
