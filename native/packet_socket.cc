#include "packet_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <time.h>

#include <climits>

namespace ndp {
namespace {

constexpr uint32_t kDefaultBatch = 64;
constexpr uint32_t kMaxBatch = 1024;
constexpr uint32_t kDefaultSlotSize = 16384;
constexpr uint32_t kMinSlotSize = 64;
constexpr uint32_t kMaxSlotSize = 262144;
constexpr size_t kMaxRingBytes = size_t{64} << 20;  // batch * slotSize
constexpr size_t kControlSize = CMSG_SPACE(sizeof(timespec));
constexpr uint32_t kFlagTruncated = 1;
constexpr int kMaxDrain = 4096;

timespec FrameTimestamp(msghdr* header) {
  for (cmsghdr* c = CMSG_FIRSTHDR(header); c != nullptr;
       c = CMSG_NXTHDR(header, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
        c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
      timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof(ts));
      return ts;
    }
  }
  return timespec{};
}

// Discards anything queued before the filter was attached.
void DrainQueue(int fd) {
  char byte;
  for (int i = 0; i < kMaxDrain; ++i) {
    if (recv(fd, &byte, sizeof(byte), MSG_DONTWAIT | MSG_TRUNC) < 0 &&
        errno != EINTR) {
      return;
    }
  }
}

}  // namespace

void PacketSocket::Ring::Allocate(uint32_t batch, uint32_t size) {
  slot_size = size;
  slots.assign(static_cast<size_t>(batch) * size, 0);
  control.assign(batch * kControlSize, 0);
  iovs.resize(batch);
  headers.assign(batch, mmsghdr{});
  for (uint32_t i = 0; i < batch; ++i) {
    iovs[i] = iovec{slots.data() + static_cast<size_t>(i) * size, size};
    headers[i].msg_hdr.msg_iov = &iovs[i];
    headers[i].msg_hdr.msg_iovlen = 1;
    headers[i].msg_hdr.msg_control = control.data() + i * kControlSize;
  }
}

Napi::Function PacketSocket::Define(Napi::Env env) {
  return DefineClass(
      env, "PacketSocket",
      {
          InstanceMethod<&PacketSocket::Send>("send"),
          InstanceMethod<&PacketSocket::SendBatch>("sendBatch"),
          InstanceMethod<&PacketSocket::Membership>("membership"),
          InstanceMethod<&PacketSocket::SetFilter>("setFilter"),
          InstanceMethod<&PacketSocket::Statistics>("statistics"),
          InstanceMethod<&PacketSocket::Close>("close"),
          InstanceAccessor<&PacketSocket::GetFd>("fd"),
      });
}

PacketSocket::PacketSocket(const Napi::CallbackInfo& info)
    : PolledSocket<PacketSocket>(info),
      async_context_(info.Env(), "ndp_native.PacketSocket") {
  Napi::Env env = info.Env();
  Napi::Object options = TakeCallbackOptions(info, "onFrames");
  Open(env, options);
  if (reuse_) {
    size_t batch = ring_.headers.size();
    info.This().As<Napi::Object>().DefineProperties({
        Napi::PropertyDescriptor::Value(
            "frameBuffer", Napi::Buffer<uint8_t>::New(env, batch * ring_.slot_size)),
        Napi::PropertyDescriptor::Value("frameMeta", Napi::Uint32Array::New(env, batch * 4)),
    });
  }
}

PacketSocket::~PacketSocket() { Shutdown(true); }

void PacketSocket::Open(Napi::Env env, Napi::Object options) {
  if (options.Get("ifindex").IsUndefined()) {
    throw Napi::TypeError::New(env, "ifindex is required");
  }
  ifindex_ = static_cast<int>(GetUintOption(options, "ifindex", 0, 1, INT_MAX));
  uint32_t batch = GetUintOption(options, "batch", kDefaultBatch, 1, kMaxBatch);
  uint32_t slot_size = GetUintOption(options, "slotSize", kDefaultSlotSize,
                                     kMinSlotSize, kMaxSlotSize);
  Napi::Value receive_option = options.Get("receive");
  bool receive = receive_option.IsUndefined() || receive_option.ToBoolean();
  if (static_cast<size_t>(batch) * slot_size > kMaxRingBytes) {
    throw Napi::RangeError::New(env, "batch * slotSize must not exceed 64 MiB");
  }

  // Protocol 0 registers no receive hook, so nothing can queue unfiltered:
  // the hook appears only at bind(), after the filter is attached.
  fd_.Reset(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int fd = fd_.Get();
  if (fd < 0) throw SysError(env, errno, "socket");
  int one = 1;
  if (receive || !options.Get("filter").IsUndefined()) {
    AttachFilter(env, fd, options.Get("filter"));
  }
  if (receive) {
    SetSockOpt(env, fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    DrainQueue(fd);
  }
  if (options.Get("qdiscBypass").ToBoolean()) {
    SetSockOpt(env, fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
  }
  // A send-only socket binds with protocol 0: no receive queue accumulates.
  sockaddr_ll address = LinkAddress(ifindex_, receive ? htons(ETH_P_IPV6) : 0);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw SysError(env, errno, "bind");
  }
  if (!receive) return;
  reuse_ = options.Get("reuseBuffer").ToBoolean();
  ring_.Allocate(batch, slot_size);
  int err = watch_.Open(env, fd, OnPoll, OnTeardown, this);
  if (err != 0) throw SysError(env, -err, "uv_poll_start");
  Ref();
  pinned_ = true;
}

int PacketSocket::CheckOpen(Napi::Env env, const char* syscall) const {
  if (closed_) throw SysError(env, EBADF, syscall);
  return fd_.Get();
}

void PacketSocket::Membership(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool add = info[0].ToBoolean();
  uint32_t type = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value()
                                     : UINT32_MAX;
  if (type != PACKET_MR_MULTICAST && type != PACKET_MR_ALLMULTI) {
    throw Napi::RangeError::New(env, "membership type must be multicast or allmulti");
  }
  packet_mreq request{};
  request.mr_ifindex = ifindex_;
  request.mr_type = static_cast<unsigned short>(type);
  if (type == PACKET_MR_MULTICAST) {
    Bytes mac = GetBytes(info[2], "mac");
    if (mac.length != ETH_ALEN) throw Napi::RangeError::New(env, "mac must be 6 bytes");
    request.mr_alen = ETH_ALEN;
    memcpy(request.mr_address, mac.data, ETH_ALEN);
  }
  int fd = CheckOpen(env, "setsockopt");
  int name = add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP;
  SetSockOpt(env, fd, SOL_PACKET, name, &request, sizeof(request));
}

void PacketSocket::SetFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AttachFilter(env, CheckOpen(env, "setsockopt"), info[0]);
}

Napi::Value PacketSocket::Statistics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = CheckOpen(env, "getsockopt");
  tpacket_stats stats{};
  socklen_t length = sizeof(stats);
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &stats, &length) != 0) {
    throw SysError(env, errno, "getsockopt");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("packets", Napi::Number::New(env, stats.tp_packets));
  result.Set("drops", Napi::Number::New(env, stats.tp_drops));
  return result;
}

Napi::Value PacketSocket::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), closed_ ? -1 : fd_.Get());
}

void PacketSocket::Close(const Napi::CallbackInfo& /*info*/) { Shutdown(false); }

void PacketSocket::OnPoll(void* opaque, int status) {
  auto* socket = static_cast<PacketSocket*>(opaque);
  Napi::Env env = socket->Env();
  Napi::HandleScope scope(env);
  // A local handle keeps the object (and so `socket`) alive while JS runs.
  Napi::Object self = socket->Value();
  try {
    if (status < 0) {
      int err = TakeSocketError(socket->fd_.Get());
      socket->Fail(env, self, err != 0 ? err : EIO, "poll");
    } else {
      socket->Receive(env, self);
    }
  } catch (const Napi::Error& error) {
    ReportLoopException(env, error);
  } catch (...) {
    socket->StopPolling();  // out of memory: never spin on a socket we cannot drain
  }
}

void PacketSocket::OnTeardown(void* opaque) {
  static_cast<PacketSocket*>(opaque)->Shutdown(true);
}

void PacketSocket::Receive(Napi::Env env, Napi::Object self) {
  auto batch = static_cast<unsigned>(ring_.headers.size());
  for (mmsghdr& header : ring_.headers) {
    header.msg_hdr.msg_controllen = kControlSize;
    header.msg_hdr.msg_flags = 0;
    header.msg_len = 0;
  }
  int count;
  do {
    count = recvmmsg(fd_.Get(), ring_.headers.data(), batch, MSG_DONTWAIT, nullptr);
  } while (count < 0 && errno == EINTR);
  if (count < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) Fail(env, self, errno, "recvmmsg");
    return;
  }
  if (count == 0) return;
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += ring_.headers[i].msg_len;
  // Frames back to back in a JS-owned buffer: a fresh one per wake-up, or with
  // reuseBuffer the same one (sized batch * slotSize) every time.
  Napi::Buffer<uint8_t> data;
  Napi::Uint32Array meta_array;
  if (reuse_) {
    data = self.Get("frameBuffer").As<Napi::Buffer<uint8_t>>();
    meta_array = self.Get("frameMeta").As<Napi::Uint32Array>();
  } else {
    data = Napi::Buffer<uint8_t>::New(env, total);
    meta_array = Napi::Uint32Array::New(env, static_cast<size_t>(count) * 4);
  }
  uint32_t* meta = meta_array.Data();
  size_t offset = 0;
  for (int i = 0; i < count; ++i) {
    mmsghdr& header = ring_.headers[i];
    if (header.msg_len > 0) {
      memcpy(data.Data() + offset, ring_.iovs[i].iov_base, header.msg_len);
    }
    offset += header.msg_len;
    timespec ts = FrameTimestamp(&header.msg_hdr);
    meta[i * 4] = header.msg_len;
    meta[i * 4 + 1] = (header.msg_hdr.msg_flags & MSG_TRUNC) ? kFlagTruncated : 0;
    meta[i * 4 + 2] = static_cast<uint32_t>(ts.tv_sec);
    meta[i * 4 + 3] = static_cast<uint32_t>(ts.tv_nsec);
  }
  napi_value argv[] = {data, Napi::Number::New(env, count), meta_array};
  CallFromLoop(env, async_context_, self.Get("onFrames"), self, 3, argv);
}

void PacketSocket::Fail(Napi::Env env, Napi::Object self, int err,
                        const char* syscall) {
  StopPolling();
  napi_value argv[] = {SysError(env, err, syscall).Value()};
  CallFromLoop(env, async_context_, self.Get("onError"), self, 1, argv);
}

}  // namespace ndp
