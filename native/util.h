// Shared helpers for the ndp_native addon: errno naming, errors, fds, buffers.
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace ndp {

// Symbolic name of an errno value ("ENETDOWN"), or "UNKNOWN" for unlisted ones.
const char* ErrnoName(int err);

// An Error carrying .code, .errno (positive Linux errno) and .syscall.
Napi::Error SysError(Napi::Env env, int err, const char* syscall);

// Owns one file descriptor; closes it on Reset() or destruction.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int Get() const { return fd_; }
  // Closes the current descriptor (if any) and takes ownership of fd.
  void Reset(int fd = -1);

 private:
  int fd_;
};

// setsockopt that throws SysError (syscall "setsockopt") on failure.
void SetSockOpt(Napi::Env env, int fd, int level, int name, const void* value,
                socklen_t length);

// Reads and clears the socket's pending error (SO_ERROR); 0 when none.
int TakeSocketError(int fd);

// A byte view of a TypedArray argument (the memory stays owned by JS).
struct Bytes {
  uint8_t* data;
  size_t length;
};

// Views a Uint8Array (or Buffer); throws TypeError naming `what` otherwise.
Bytes GetBytes(Napi::Value value, const char* what);

// Attaches a classic BPF program packed as struct sock_filter[] (8 bytes each).
void AttachFilter(Napi::Env env, int fd, Napi::Value program);

// Reads an optional non-negative integer option, range-checked.
// Checks that the constructor's first argument is an options object and keeps its
// `data_callback` and "onError" callbacks on the JS object (not in persistent handles), so
// a reference cycle through them never pins a socket once it stops polling.
Napi::Object TakeCallbackOptions(const Napi::CallbackInfo& info, const char* data_callback);

uint32_t GetUintOption(Napi::Object options, const char* key, uint32_t fallback,
                       uint32_t min, uint32_t max);

// Calls fn from a libuv callback inside an async context, so microtasks and
// nextTicks run afterwards. A throwing callback becomes an uncaught exception
// (process 'uncaughtException'), exactly like a throwing event listener.
// Returns false when the callback threw.
bool CallFromLoop(Napi::Env env, napi_async_context context, Napi::Value fn,
                  Napi::Object receiver, size_t argc, const napi_value* argv);

// Hands an exception caught in a libuv callback to the process, never aborting.
void ReportLoopException(Napi::Env env, const Napi::Error& error);

}  // namespace ndp
