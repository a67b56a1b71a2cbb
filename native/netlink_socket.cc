#include "netlink_socket.h"

#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <climits>

namespace ndp {
namespace {

constexpr uint32_t kDefaultReceiveBuffer = 4 * 1024 * 1024;
// The kernel caps dump datagrams near 32 KiB; larger ones grow the buffer.
constexpr size_t kInitialDatagramSize = 64 * 1024;
constexpr int kMaxDatagramsPerWake = 256;

sockaddr_nl KernelAddress(uint32_t groups) {
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = groups;
  return address;
}

}  // namespace

Napi::Function NetlinkSocket::Define(Napi::Env env) {
  return DefineClass(env, "NetlinkSocket",
                     {
                         InstanceMethod<&NetlinkSocket::Send>("send"),
                         InstanceMethod<&NetlinkSocket::Close>("close"),
                         InstanceAccessor<&NetlinkSocket::GetFd>("fd"),
                         InstanceAccessor<&NetlinkSocket::GetPortId>("portId"),
                     });
}

NetlinkSocket::NetlinkSocket(const Napi::CallbackInfo& info)
    : PolledSocket<NetlinkSocket>(info),
      async_context_(info.Env(), "ndp_native.NetlinkSocket") {
  Napi::Env env = info.Env();
  Napi::Object options = TakeCallbackOptions(info, "onMessages");
  Open(env, options);
}

NetlinkSocket::~NetlinkSocket() { Shutdown(true); }

void NetlinkSocket::Open(Napi::Env env, Napi::Object options) {
  uint32_t groups = GetUintOption(options, "groups", 0, 0, UINT32_MAX);
  auto receive_buffer = static_cast<int>(GetUintOption(
      options, "receiveBuffer", kDefaultReceiveBuffer, 4096, INT_MAX / 2));
  fd_.Reset(socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                   NETLINK_ROUTE));
  int fd = fd_.Get();
  if (fd < 0) throw SysError(env, errno, "socket");
  // FORCE passes rmem_max (needs CAP_NET_ADMIN); otherwise take what is allowed.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer,
                 sizeof(receive_buffer)) != 0) {
    SetSockOpt(env, fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer,
               sizeof(receive_buffer));
  }
  sockaddr_nl local = KernelAddress(groups);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    throw SysError(env, errno, "bind");
  }
  socklen_t length = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    throw SysError(env, errno, "getsockname");
  }
  port_id_ = local.nl_pid;
  buffer_.resize(kInitialDatagramSize);
  int err = watch_.Open(env, fd, OnPoll, OnTeardown, this);
  if (err != 0) throw SysError(env, -err, "uv_poll_start");
  Ref();
  pinned_ = true;
}

void NetlinkSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes message = GetBytes(info[0], "message");
  if (closed_) throw SysError(env, EBADF, "sendto");
  sockaddr_nl kernel = KernelAddress(0);
  ssize_t sent;
  do {
    sent = sendto(fd_.Get(), message.data, message.length, 0,
                  reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) throw SysError(env, errno, "sendto");
}

Napi::Value NetlinkSocket::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), closed_ ? -1 : fd_.Get());
}

Napi::Value NetlinkSocket::GetPortId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), port_id_);
}

void NetlinkSocket::Close(const Napi::CallbackInfo& /*info*/) { Shutdown(false); }

void NetlinkSocket::OnPoll(void* opaque, int status) {
  auto* socket = static_cast<NetlinkSocket*>(opaque);
  Napi::Env env = socket->Env();
  Napi::HandleScope scope(env);
  Napi::Object self = socket->Value();  // keeps `socket` alive while JS runs
  try {
    if (status < 0) {
      // POLLERR: libuv stopped the watch. An overrun (ENOBUFS) is survivable.
      int err = TakeSocketError(socket->fd_.Get());
      if (!socket->Report(env, self, err != 0 ? err : EIO, "poll")) return;
      if (socket->watch_.Resume() != 0) {
        socket->StopPolling();
        return;
      }
    }
    socket->Receive(env, self);
  } catch (const Napi::Error& error) {
    ReportLoopException(env, error);
  } catch (...) {
    socket->StopPolling();  // out of memory: never spin on an undrained socket
  }
}

void NetlinkSocket::OnTeardown(void* opaque) {
  static_cast<NetlinkSocket*>(opaque)->Shutdown(true);
}

void NetlinkSocket::Receive(Napi::Env env, Napi::Object self) {
  for (int i = 0; i < kMaxDatagramsPerWake && !closed_ && pinned_; ++i) {
    sockaddr_nl sender{};
    iovec iov{buffer_.data(), buffer_.size()};
    msghdr header{};
    header.msg_name = &sender;
    header.msg_namelen = sizeof(sender);
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    // MSG_TRUNC makes the kernel return the full datagram length.
    ssize_t n = recvmsg(fd_.Get(), &header, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (!Report(env, self, errno, "recvmsg")) return;
      continue;
    }
    if (static_cast<size_t>(n) > buffer_.size()) {
      buffer_.resize(static_cast<size_t>(n));  // the next one will fit
      if (!Report(env, self, EMSGSIZE, "recvmsg")) return;
      continue;
    }
    // Only the kernel (port 0) may speak: drop unicast spoofed by local processes.
    if (sender.nl_pid != 0) continue;
    napi_value argv[] = {Napi::Buffer<uint8_t>::Copy(env, buffer_.data(),
                                                     static_cast<size_t>(n))};
    CallFromLoop(env, async_context_, self.Get("onMessages"), self, 1, argv);
  }
}

bool NetlinkSocket::Report(Napi::Env env, Napi::Object self, int err,
                           const char* syscall) {
  // Overruns and oversized datagrams lose events; JS re-dumps, we keep going.
  bool survivable = err == ENOBUFS || err == EMSGSIZE;
  if (!survivable) StopPolling();
  napi_value argv[] = {SysError(env, err, syscall).Value()};
  CallFromLoop(env, async_context_, self.Get("onError"), self, 1, argv);
  return survivable && !closed_ && pinned_;
}

}  // namespace ndp
