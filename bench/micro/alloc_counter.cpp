// Replacement global operator new/delete that count calls per thread (see alloc_counter.hpp).
// Every replaceable form is defined, so nothing (aligned, nothrow, array, sized) bypasses the count.
#include "alloc_counter.hpp"

#include <cstdlib>
#include <new>

namespace {

// Constant-initialised, so usable from the very first allocation of the process.
thread_local std::uint64_t tls_allocs = 0;
thread_local std::uint64_t tls_frees = 0;

void* counted_alloc(std::size_t n) {
  ++tls_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}

void* counted_alloc_nothrow(std::size_t n) noexcept {
  ++tls_allocs;
  return std::malloc(n ? n : 1);
}

void* counted_aligned_alloc(std::size_t n, std::align_val_t al) {
  ++tls_allocs;
  std::size_t a = static_cast<std::size_t>(al);
  if (a < sizeof(void*)) a = sizeof(void*);
  void* p = nullptr;
  if (::posix_memalign(&p, a, n ? n : 1) != 0) throw std::bad_alloc();
  return p;
}

void* counted_aligned_alloc_nothrow(std::size_t n, std::align_val_t al) noexcept {
  try {
    return counted_aligned_alloc(n, al);
  } catch (...) {
    return nullptr;
  }
}

void counted_free(void* p) noexcept {
  if (!p) return;
  ++tls_frees;
  std::free(p);
}

}  // namespace

namespace torsion_bench {
std::uint64_t heap_allocations() noexcept { return tls_allocs; }
std::uint64_t heap_frees() noexcept { return tls_frees; }
}  // namespace torsion_bench

// ---- allocation
void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc_nothrow(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc_nothrow(n); }
void* operator new(std::size_t n, std::align_val_t al) { return counted_aligned_alloc(n, al); }
void* operator new[](std::size_t n, std::align_val_t al) { return counted_aligned_alloc(n, al); }
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_aligned_alloc_nothrow(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_aligned_alloc_nothrow(n, al);
}

// ---- deallocation
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
