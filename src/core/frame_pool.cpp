#include "torsion/core/frame_pool.hpp"

#include <array>
#include <new>

namespace torsion::frame_pool {
namespace {

constexpr std::size_t buckets = 32;  // frames up to 2 KiB are pooled

struct free_node {
  free_node* next;
};

struct pool {
  std::array<free_node*, buckets> heads{};
  std::array<std::size_t, buckets> counts{};
  std::size_t misses = 0;

  ~pool() {
    for (auto*& head : heads) {
      while (head) {
        auto* n = head->next;
        ::operator delete(head);
        head = n;
      }
    }
  }
};

thread_local pool tls_pool;


}  // namespace

#ifdef TORSION_NO_FRAME_POOL
void* allocate(std::size_t size) {
  ++tls_pool.misses;
  return ::operator new(size);
}
void deallocate(void* p, std::size_t) noexcept { ::operator delete(p); }
#else
namespace {
constexpr std::size_t granule = 64;
constexpr std::size_t max_cached_per_bucket = 4096;
constexpr std::size_t bucket_of(std::size_t size) { return (size + granule - 1) / granule - 1; }
}  // namespace

void* allocate(std::size_t size) {
  const std::size_t b = bucket_of(size);
  if (b >= buckets) {
    ++tls_pool.misses;
    return ::operator new(size);
  }
  if (free_node* n = tls_pool.heads[b]) {
    tls_pool.heads[b] = n->next;
    --tls_pool.counts[b];
    return n;
  }
  ++tls_pool.misses;
  return ::operator new((b + 1) * granule);
}

void deallocate(void* p, std::size_t size) noexcept {
  const std::size_t b = bucket_of(size);
  if (b >= buckets || tls_pool.counts[b] >= max_cached_per_bucket) {
    ::operator delete(p);
    return;
  }
  auto* n = static_cast<free_node*>(p);
  n->next = tls_pool.heads[b];
  tls_pool.heads[b] = n;
  ++tls_pool.counts[b];
}
#endif

std::size_t heap_allocations() noexcept { return tls_pool.misses; }

}  // namespace torsion::frame_pool
