#include "fd_watch.h"

#include <uv.h>

namespace ndp {

struct FdWatch::Box {
  uv_poll_t poll;
  napi_async_cleanup_hook_handle hook = nullptr;
  void* owner = nullptr;  // null once the owner let go
  PollCallback on_poll = nullptr;
  TeardownCallback on_teardown = nullptr;
};

namespace {

void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
  auto* box = static_cast<FdWatch::Box*>(handle->data);
  if (box->owner != nullptr) box->on_poll(box->owner, status);
}

void OnClosed(uv_handle_t* handle) {
  auto* box = static_cast<FdWatch::Box*>(handle->data);
  // Also tells Node that an in-progress teardown of this handle is finished.
  if (box->hook != nullptr) napi_remove_async_cleanup_hook(box->hook);
  delete box;
}

void OnTeardown(napi_async_cleanup_hook_handle /*handle*/, void* arg) {
  auto* box = static_cast<FdWatch::Box*>(arg);
  // An owner that already let go has a close in flight; OnClosed finishes it.
  if (box->owner != nullptr) box->on_teardown(box->owner);
}

}  // namespace

int FdWatch::Open(napi_env env, int fd, PollCallback on_poll,
                  TeardownCallback on_teardown, void* owner) {
  uv_loop_t* loop = nullptr;
  if (box_ != nullptr || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    return UV_EINVAL;
  }
  Box* box = new Box();
  box->owner = owner;
  box->on_poll = on_poll;
  box->on_teardown = on_teardown;
  int err = uv_poll_init(loop, &box->poll, fd);
  if (err != 0) {
    delete box;  // never became a live handle
    return err;
  }
  box->poll.data = box;
  box_ = box;
  err = uv_poll_start(&box->poll, UV_READABLE, OnPoll);
  if (err == 0 &&
      napi_add_async_cleanup_hook(env, OnTeardown, box, &box->hook) != napi_ok) {
    box->hook = nullptr;
    err = UV_EINVAL;
  }
  if (err != 0) Close();
  return err;
}

int FdWatch::Resume() {
  return box_ == nullptr ? UV_EBADF
                         : uv_poll_start(&box_->poll, UV_READABLE, OnPoll);
}

void FdWatch::Close() {
  if (box_ == nullptr) return;
  box_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&box_->poll), OnClosed);
  box_ = nullptr;
}

}  // namespace ndp
