// Send side of PacketSocket: whole Ethernet frames out of the bound interface.
#include <errno.h>

#include <algorithm>

#include "packet_socket.h"

namespace ndp {
namespace {

constexpr uint32_t kSendChunk = 1024;  // UIO_MAXIOV, sendmmsg's per-call cap

}  // namespace

void PacketSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes frame = GetBytes(info[0], "frame");
  int fd = CheckOpen(env, "sendto");
  sockaddr_ll address = LinkAddress(ifindex_, 0);
  ssize_t sent;
  do {
    sent = sendto(fd, frame.data, frame.length, 0,
                  reinterpret_cast<sockaddr*>(&address), sizeof(address));
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) throw SysError(env, errno, "sendto");
}

Napi::Value PacketSocket::SendBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes frames = GetBytes(info[0], "frames");
  if (!info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    throw Napi::TypeError::New(env, "lengths must be a Uint32Array");
  }
  Napi::Uint32Array lengths = info[1].As<Napi::Uint32Array>();
  double count_arg = info[2].IsNumber() ? info[2].As<Napi::Number>() : -1.0;
  if (!(count_arg >= 0 && count_arg <= static_cast<double>(lengths.ElementLength())) ||
      count_arg != static_cast<uint32_t>(count_arg)) {
    throw Napi::RangeError::New(env, "count must be an integer within lengths");
  }
  uint32_t count = static_cast<uint32_t>(count_arg);
  size_t total = 0;
  for (uint32_t i = 0; i < count; ++i) total += lengths[i];
  if (total > frames.length) {
    throw Napi::RangeError::New(env, "lengths exceed the frames buffer");
  }
  int fd = CheckOpen(env, "sendmmsg");
  sockaddr_ll address = LinkAddress(ifindex_, 0);
  uint32_t capacity = std::min(count, kSendChunk);
  std::vector<iovec> iovs(capacity);
  std::vector<mmsghdr> headers(capacity);
  uint32_t sent = 0;
  size_t offset = 0;  // where frame `sent` starts
  while (sent < count) {
    uint32_t chunk = std::min(count - sent, kSendChunk);
    size_t at = offset;
    for (uint32_t j = 0; j < chunk; ++j) {
      iovs[j] = iovec{frames.data + at, lengths[sent + j]};
      at += lengths[sent + j];
      headers[j] = mmsghdr{};
      headers[j].msg_hdr.msg_name = &address;
      headers[j].msg_hdr.msg_namelen = sizeof(address);
      headers[j].msg_hdr.msg_iov = &iovs[j];
      headers[j].msg_hdr.msg_iovlen = 1;
    }
    int n = sendmmsg(fd, headers.data(), chunk, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      // A hard error after some frames went out is reported by the next call.
      if (errno == EAGAIN || errno == EWOULDBLOCK || sent > 0) break;
      throw SysError(env, errno, "sendmmsg");
    }
    for (int j = 0; j < n; ++j) offset += lengths[sent + j];
    sent += static_cast<uint32_t>(n);
  }
  return Napi::Number::New(env, sent);
}

}  // namespace ndp
