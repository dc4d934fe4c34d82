#pragma once
// The three ways bytes reach a framing_buffer, so the framer targets cover each: a copy (append),
// the caller's chunk parsed in place (borrow, then settle once the caller is done with it), and a
// read straight into the free space (prepare/commit, as the coroutine readers do).
#include <cstdint>
#include <cstring>
#include <string_view>

#include "torsion/protocols/framing_buffer.hpp"

namespace torsion::fuzz {

enum class feed_mode : std::uint8_t { append, borrow, prepare };

inline feed_mode feed_mode_from(std::uint8_t b) noexcept { return static_cast<feed_mode>(b % 3); }

inline void feed(framing_buffer& buf, std::string_view chunk, feed_mode mode) {
  switch (mode) {
    case feed_mode::append: buf.append(chunk); break;
    case feed_mode::borrow: buf.borrow(chunk); break;
    case feed_mode::prepare: {
      const auto space = buf.prepare(chunk.size());
      std::memcpy(space.data(), chunk.data(), chunk.size());
      buf.commit(chunk.size());
      break;
    }
  }
}

}  // namespace torsion::fuzz
