// Kernel software send timestamps (SO_TIMESTAMPING) for send-only packet sockets.
#pragma once

#include <napi.h>

namespace ndp {

// enableTxTimestamps(fd): numbered software TX timestamps.
void EnableTxTimestamps(const Napi::CallbackInfo& info);

// setReceiveBuffer(fd, bytes): enlarges the receive (and error) queue.
void SetReceiveBuffer(const Napi::CallbackInfo& info);

// readTxTimestamps(fd, out: Uint32Array): drains (id, sec, nsec) triples.
Napi::Value ReadTxTimestamps(const Napi::CallbackInfo& info);

}  // namespace ndp
