// A line-based chat server in the callback style: Twisted's classic chat example, ported line for
// line onto Torsion's LineReceiver.
//   chat_server [--host 127.0.0.1] [--port 0]
// Prints one line "listening on HOST:PORT" once ready; SIGINT/SIGTERM stop it (exit 0).
//
// The protocol: lines end in "\r\n". A new client is told its name ("* you are guest1"). Every line
// it sends goes to every other client as "NAME: line". "/nick NAME" renames (1 to 32 letters,
// digits, '_' or '-'; unique): the sender hears "* you are NAME", the others
// "* OLD is now known as NAME"; a bad or taken name gets "! invalid name" or "! name taken". A line
// longer than 16384 bytes ends that client's connection (LineReceiver's default).
#include <cstdio>
#include <map>
#include <string>
#include <torsion/protocol/reactor.hpp>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/torsion.hpp>

#include "common/cli.hpp"
#include "common/server.hpp"

using namespace torsion;

namespace {

class Chat;

// The users, by name: what the factory shares between connections.
class ChatFactory : public twisted::ServerFactory {
 public:
  std::unique_ptr<twisted::Protocol> buildProtocol(const twisted::Address& addr) override;
  std::map<std::string, Chat*> users;
  int guests = 0;
};

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

class Chat : public twisted::LineReceiver {
 public:
  explicit Chat(ChatFactory& f) : users_(f.users), name_("guest" + std::to_string(++f.guests)) {}

  void connectionMade() override {
    users_[name_] = this;
    sendLine("* you are " + name_);
  }

  void connectionLost(const twisted::Failure&) override { leave(); }

  // The client is being dropped: its name is free from now on, not only once the close completes
  // (another client may ask for it in between).
  void lineLengthExceeded(std::string_view line) override {
    leave();
    LineReceiver::lineLengthExceeded(line);
  }

  void lineReceived(std::string_view line) override {
    if (line.starts_with("/nick ")) return rename(line.substr(6));
    broadcast(name_ + ": " + std::string(line));
  }

 private:
  void rename(std::string_view wanted) {
    if (!valid_name(wanted)) return sendLine("! invalid name");
    const std::string name(wanted);
    if (users_.count(name)) return sendLine("! name taken");
    const std::string old = std::exchange(name_, name);
    users_.erase(old);
    users_[name_] = this;
    sendLine("* you are " + name_);
    broadcast("* " + old + " is now known as " + name_);
  }

  void leave() {
    auto it = users_.find(name_);
    if (it != users_.end() && it->second == this) users_.erase(it);
  }

  void broadcast(const std::string& message) {
    for (auto& [name, user] : users_)
      if (user != this) user->sendLine(message);
  }

  std::map<std::string, Chat*>& users_;
  std::string name_;
};

std::unique_ptr<twisted::Protocol> ChatFactory::buildProtocol(const twisted::Address&) {
  return std::make_unique<Chat>(*this);
}

}  // namespace

int main(int argc, char** argv) {
  example::cli args(argc, argv, {"host", "port"});
  const std::string host = args.str("host", "127.0.0.1");
  const auto port = args.num<std::uint16_t>("port", 0, 0, 65535);
  auto px = proactor::create();
  if (!px) {
    std::fprintf(stderr, "chat_server: %s\n", px.error().message().c_str());
    return 1;
  }
  auto where = example::listen_endpoint(*px.value(), "chat_server", host, port);
  if (!where) return 1;
  ChatFactory factory;  // outlives the reactor, whose shutdown still reaches the protocols
  return example::serve_callback(*px.value(), "chat_server", where.value(), factory);
}
