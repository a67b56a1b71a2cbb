// AF_PACKET socket bound to one interface: filtered receive via recvmmsg,
// whole-frame send via sendto/sendmmsg, memberships, statistics.
#pragma once

#include <linux/if_packet.h>
#include <napi.h>
#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "fd_watch.h"
#include "polled_socket.h"
#include "util.h"

namespace ndp {

// Link-layer address of the bound interface. Protocol 0 on send lets the
// kernel take skb->protocol from the frame's own ethertype.
inline sockaddr_ll LinkAddress(int ifindex, uint16_t protocol) {
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = protocol;
  address.sll_ifindex = ifindex;
  return address;
}

class PacketSocket : public PolledSocket<PacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PacketSocket(const Napi::CallbackInfo& info);
  ~PacketSocket() override;

 private:
  // Per-socket receive slots reused for every recvmmsg call.
  struct Ring {
    uint32_t slot_size = 0;
    std::vector<uint8_t> slots;
    std::vector<uint8_t> control;
    std::vector<iovec> iovs;
    std::vector<mmsghdr> headers;
    void Allocate(uint32_t batch, uint32_t slot_size);
  };

  void Open(Napi::Env env, Napi::Object options);
  void Send(const Napi::CallbackInfo& info);
  Napi::Value SendBatch(const Napi::CallbackInfo& info);
  void Membership(const Napi::CallbackInfo& info);
  void SetFilter(const Napi::CallbackInfo& info);
  Napi::Value Statistics(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  static void OnPoll(void* self, int status);
  static void OnTeardown(void* self);
  void Receive(Napi::Env env, Napi::Object self);
  void Fail(Napi::Env env, Napi::Object self, int err, const char* syscall);
  // The descriptor; throws EBADF (naming `syscall`) once closed.
  int CheckOpen(Napi::Env env, const char* syscall) const;

  int ifindex_ = 0;
  // reuseBuffer: one JS buffer and meta array handed to every onFrames call, so
  // a wake-up allocates nothing (the handler must not keep them past the call).
  bool reuse_ = false;
  Ring ring_;
  Napi::AsyncContext async_context_;
};

}  // namespace ndp
