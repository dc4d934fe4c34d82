#pragma once
// One dataReceived call of a framing protocol. The chunk is parsed where it lies (borrowed); data
// handed to dataReceived from inside a callback is queued and parsed by the outer loop, as
// Twisted's LineReceiver does, so views passed to callbacks are never invalidated under them. When
// the call ends, whatever is left of the chunk is copied and the queued data joins the buffer.
#include <string>
#include <string_view>

#include "torsion/protocols/framing_buffer.hpp"

namespace torsion::detail {

struct receive_state {
  std::string reentrant;
  bool busy = false;

  // Queue `data` and return false if a call is already running.
  bool enter(framing_buffer& buf, std::string_view data) {
    if (busy) {
      reentrant.append(data);
      return false;
    }
    busy = true;
    buf.borrow(data);
    return true;
  }
  // Between callbacks: add what arrived re-entrantly.
  void merge(framing_buffer& buf) {
    if (reentrant.empty()) return;
    buf.append(reentrant);
    reentrant.clear();
  }
};

class receive_scope {
 public:
  receive_scope(receive_state& st, framing_buffer& buf) : st_(st), buf_(buf) {}
  receive_scope(const receive_scope&) = delete;
  ~receive_scope() {
    buf_.settle();
    st_.merge(buf_);
    st_.busy = false;
  }

 private:
  receive_state& st_;
  framing_buffer& buf_;
};

}  // namespace torsion::detail
