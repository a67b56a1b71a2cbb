// Readability watch on a socket: a libuv poll handle whose memory outlives
// its owner until libuv has closed it, and which closes itself at environment
// teardown (worker exit) so the loop never finds an open handle.
#pragma once

#include <node_api.h>

namespace ndp {

class FdWatch {
 public:
  // status is 0 when readable, negative (UV_EBADF) on POLLERR; libuv has then
  // already stopped the watch.
  using PollCallback = void (*)(void* owner, int status);
  // Called at environment teardown: the owner must close itself (no JS calls).
  using TeardownCallback = void (*)(void* owner);

  FdWatch() = default;
  ~FdWatch() { Close(); }
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;

  // Starts watching fd. Returns 0 or a negative libuv error code.
  int Open(napi_env env, int fd, PollCallback on_poll,
           TeardownCallback on_teardown, void* owner);
  // Restarts delivery after libuv stopped it on POLLERR; 0 or a negative
  // libuv error code.
  int Resume();
  // Stops for good. Idempotent, safe inside on_poll; the fd may be closed
  // right after (uv_close removes it from epoll synchronously).
  void Close();

  struct Box;  // heap state shared with libuv; defined in fd_watch.cc

 private:
  Box* box_ = nullptr;
};

}  // namespace ndp
