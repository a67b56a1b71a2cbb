// What the addon's sockets share: the fd, its libuv watch, and the strong reference that
// keeps the JS object alive while callbacks can still fire.
#pragma once

#include <napi.h>

#include "fd_watch.h"
#include "util.h"

namespace ndp {

template <typename Derived>
class PolledSocket : public Napi::ObjectWrap<Derived> {
 public:
  explicit PolledSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}

 protected:
  // Stops the watch and drops the strong reference; the fd stays open.
  void StopPolling() {
    watch_.Close();
    if (pinned_) {
      pinned_ = false;
      this->Unref();
    }
  }

  // Closes for good. At teardown or in the destructor there is no reference left to drop.
  void Shutdown(bool teardown) {
    if (closed_) return;
    closed_ = true;
    watch_.Close();  // before the fd closes: uv_close takes it out of epoll
    fd_.Reset();
    if (pinned_) {
      pinned_ = false;
      if (!teardown) this->Unref();
    }
  }

  UniqueFd fd_;
  bool closed_ = false;
  bool pinned_ = false;  // strong ref held while callbacks can still fire
  FdWatch watch_;        // declared after fd_, so it is destroyed first
};

}  // namespace ndp
