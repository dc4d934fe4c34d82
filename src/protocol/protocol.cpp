#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "torsion/protocol/factory.hpp"
#include "torsion/protocol/failure.hpp"
#include "torsion/protocol/protocol.hpp"

namespace torsion::twisted {
namespace {
std::string class_name(const std::type_info& t) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
  std::string full = status == 0 && name ? name.get() : t.name();
  // Twisted prints the bare class name: drop namespaces.
  const auto colon = full.rfind("::");
  return colon == std::string::npos ? full : full.substr(colon + 2);
}
}  // namespace

std::string Failure::getErrorMessage() const {
  std::string msg = code_.message();
  if (exception_) {
    try {
      std::rethrow_exception(exception_);
    } catch (const std::exception& e) {
      msg += ": ";
      msg += e.what();
    } catch (...) {
    }
  }
  return msg;
}

std::string Protocol::logPrefix() const { return class_name(typeid(*this)); }
std::string Factory::logPrefix() const { return class_name(typeid(*this)); }

std::unique_ptr<Protocol> Factory::buildProtocol(const Address&) {
  if (!protocol) return nullptr;
  auto p = protocol();
  if (p) p->factory = this;
  return p;
}

std::unique_ptr<Protocol> build_protocol_logged(Factory& factory, const tcp_stream& s) {
  const auto peer = s.peer_endpoint();
  try {
    return factory.buildProtocol(peer ? Address::from(peer.value()) : Address{});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Unhandled Error in %s.buildProtocol: %s\n", factory.logPrefix().c_str(), e.what());
    return nullptr;
  }
}

void Factory::doStart() {
  if (!numPorts) {
    if (noisy) std::fprintf(stderr, "Starting factory %s\n", logPrefix().c_str());
    startFactory();
  }
  ++numPorts;
}

void Factory::doStop() {
  if (numPorts == 0) return;
  --numPorts;
  if (!numPorts) {
    if (noisy) std::fprintf(stderr, "Stopping factory %s\n", logPrefix().c_str());
    stopFactory();
  }
}

}  // namespace torsion::twisted
