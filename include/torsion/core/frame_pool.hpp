#pragma once
// Per-thread free lists for coroutine frames: after warm-up a hot task allocates nothing.
// Frames are size-bucketed in 64-byte steps; anything above the largest bucket goes to the heap.
#include <cstddef>

namespace torsion::frame_pool {

void* allocate(std::size_t size);
void deallocate(void* p, std::size_t size) noexcept;

// Heap allocations the pool has made on this thread (misses), for the allocation benchmarks.
std::size_t heap_allocations() noexcept;

}  // namespace torsion::frame_pool
