#pragma once
// Twisted's _PauseableMixin: a receiving protocol that is also the producer of what it delivers.
// pauseProducing() stops delivery at once (bytes keep being buffered) and pauses the transport;
// resumeProducing() resumes the transport and delivers what was buffered, as Twisted does with
// dataReceived(b""). LineReceiver and the IntNStringReceivers derive from it.
#include "torsion/protocol/protocol.hpp"

namespace torsion::twisted {

class PauseableMixin : public Protocol, public IProducer {
 public:
  bool paused = false;

  void pauseProducing() override {
    paused = true;
    if (transport) transport->pauseProducing();
  }
  void resumeProducing() override {
    paused = false;
    if (transport) transport->resumeProducing();
    dataReceived({});
  }
  void stopProducing() override {
    paused = true;
    if (transport) transport->stopProducing();
  }
};

}  // namespace torsion::twisted
