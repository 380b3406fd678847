#pragma once
// target_state: the target's memory map and threads as the core's MemoryRegion and
// ThreadState, for Frame::memory_regions() and Frame::threads() of both transports.
#include <lldb/API/LLDB.h>
#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "groutines/event.hpp"

namespace groutines::plugin {

// regions_of_process() are process's mapped regions as LLDB reports them, in address order,
// the agent's own left out.
std::vector<MemoryRegion> regions_of_process(lldb::SBProcess& process);
// threads_of_process() are the stopped process's threads with their stack pointers and
// 64-bit general purpose registers, first's first (its registers as LLDB sees them).
std::vector<ThreadState> threads_of_process(lldb::SBProcess& process, std::uint64_t first);

}  // namespace groutines::plugin
