// NETLINK_ROUTE socket subscribed to multicast groups; datagrams go to JS
// unparsed, one onMessages call per datagram.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "fd_watch.h"
#include "polled_socket.h"
#include "util.h"

namespace ndp {

class NetlinkSocket : public PolledSocket<NetlinkSocket> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NetlinkSocket(const Napi::CallbackInfo& info);
  ~NetlinkSocket() override;

 private:
  void Open(Napi::Env env, Napi::Object options);
  void Send(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetPortId(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  static void OnPoll(void* self, int status);
  static void OnTeardown(void* self);
  void Receive(Napi::Env env, Napi::Object self);
  // Reports err to onError; returns false when the socket stopped polling.
  bool Report(Napi::Env env, Napi::Object self, int err, const char* syscall);

  uint32_t port_id_ = 0;
  std::vector<uint8_t> buffer_;
  Napi::AsyncContext async_context_;
};

}  // namespace ndp
