// Kernel software send timestamps for a packet socket (SO_TIMESTAMPING, used
// by the benchmark sender). The kernel queues one (id, time) report per sent
// frame on the socket's error queue; ReadTxTimestamps drains it into a
// JS-owned Uint32Array, so the hot path allocates nothing.
//
// Only for send-only sockets: a polled socket would see POLLERR for every
// queued report, and libuv stops polling on POLLERR.
#include <errno.h>
#include <time.h>  // before linux/errqueue.h, which uses struct timespec
#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>
#include <climits>

#include "tx_timestamps.h"
#include "util.h"

namespace ndp {
namespace {

constexpr unsigned kChunk = 256;
constexpr size_t kControlSize = 256;  // scm_timestamping + sock_extended_err, with room

int FdArgument(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "fd must be a number");
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd < 0) throw SysError(info.Env(), EBADF, "setsockopt");
  return fd;
}

// Fills (id, sec, nsec) from one error-queue message; false when it is not a timestamp report.
bool ParseReport(msghdr* header, uint32_t* out) {
  bool have_time = false;
  bool have_id = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(header); c != nullptr; c = CMSG_NXTHDR(header, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
        c->cmsg_len >= CMSG_LEN(sizeof(scm_timestamping))) {
      scm_timestamping stamps;
      memcpy(&stamps, CMSG_DATA(c), sizeof(stamps));
      out[1] = static_cast<uint32_t>(stamps.ts[0].tv_sec);  // ts[0]: software
      out[2] = static_cast<uint32_t>(stamps.ts[0].tv_nsec);
      have_time = stamps.ts[0].tv_sec != 0 || stamps.ts[0].tv_nsec != 0;
    } else if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_TX_TIMESTAMP &&
               c->cmsg_len >= CMSG_LEN(sizeof(sock_extended_err))) {
      sock_extended_err report;
      memcpy(&report, CMSG_DATA(c), sizeof(report));
      if (report.ee_errno == ENOMSG && report.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
        out[0] = report.ee_data;  // SOF_TIMESTAMPING_OPT_ID: index of the frame on this socket
        have_id = true;
      }
    }
  }
  return have_time && have_id;
}

}  // namespace

// enableTxTimestamps(fd): software TX timestamps numbered per frame
// (OPT_ID), reports without payload (OPT_TSONLY).
void EnableTxTimestamps(const Napi::CallbackInfo& info) {
  int fd = FdArgument(info);
  int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
              SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
  SetSockOpt(info.Env(), fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags));
}

// setReceiveBuffer(fd, bytes): SO_RCVBUFFORCE (CAP_NET_ADMIN), else SO_RCVBUF.
// The error queue of timestamp reports is charged to it too.
void SetReceiveBuffer(const Napi::CallbackInfo& info) {
  int fd = FdArgument(info);
  int bytes = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (bytes <= 0) throw Napi::RangeError::New(info.Env(), "bytes must be a positive number");
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0) {
    SetSockOpt(info.Env(), fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }
}

// readTxTimestamps(fd, out: Uint32Array) -> reports written, as (id, sec, nsec)
// triples; stops when the queue is empty or `out` is full.
Napi::Value ReadTxTimestamps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArgument(info);
  if (!info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    throw Napi::TypeError::New(env, "out must be a Uint32Array");
  }
  Napi::Uint32Array out = info[1].As<Napi::Uint32Array>();
  size_t capacity = out.ElementLength() / 3;
  static mmsghdr headers[kChunk];
  static uint8_t control[kChunk][kControlSize];
  size_t written = 0;
  while (written < capacity) {
    unsigned want = static_cast<unsigned>(std::min<size_t>(kChunk, capacity - written));
    for (unsigned i = 0; i < want; ++i) {
      headers[i] = mmsghdr{};
      headers[i].msg_hdr.msg_control = control[i];
      headers[i].msg_hdr.msg_controllen = kControlSize;
    }
    int n = recvmmsg(fd, headers, want, MSG_ERRQUEUE | MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      throw SysError(env, errno, "recvmmsg");
    }
    for (int i = 0; i < n; ++i) {
      if (ParseReport(&headers[i].msg_hdr, out.Data() + written * 3)) ++written;
    }
    if (static_cast<unsigned>(n) < want) break;
  }
  return Napi::Number::New(env, static_cast<double>(written));
}

}  // namespace ndp
