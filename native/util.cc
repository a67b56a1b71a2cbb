#include "util.h"

#include <errno.h>
#include <linux/filter.h>
#include <string.h>
#include <unistd.h>

#include <string>

namespace ndp {

const char* ErrnoName(int err) {
  switch (err) {
#define NDP_ERRNO(name) \
  case name:            \
    return #name;
    NDP_ERRNO(EPERM)
    NDP_ERRNO(ENOENT)
    NDP_ERRNO(ESRCH)
    NDP_ERRNO(EINTR)
    NDP_ERRNO(EIO)
    NDP_ERRNO(ENXIO)
    NDP_ERRNO(EBADF)
    NDP_ERRNO(EAGAIN)
    NDP_ERRNO(ENOMEM)
    NDP_ERRNO(EACCES)
    NDP_ERRNO(EFAULT)
    NDP_ERRNO(EBUSY)
    NDP_ERRNO(EEXIST)
    NDP_ERRNO(ENODEV)
    NDP_ERRNO(EINVAL)
    NDP_ERRNO(ENFILE)
    NDP_ERRNO(EMFILE)
    NDP_ERRNO(ENOSPC)
    NDP_ERRNO(ERANGE)
    NDP_ERRNO(ENOTSOCK)
    NDP_ERRNO(EMSGSIZE)
    NDP_ERRNO(EPROTOTYPE)
    NDP_ERRNO(ENOPROTOOPT)
    NDP_ERRNO(EPROTONOSUPPORT)
    NDP_ERRNO(ESOCKTNOSUPPORT)
    NDP_ERRNO(EOPNOTSUPP)
    NDP_ERRNO(EAFNOSUPPORT)
    NDP_ERRNO(EADDRINUSE)
    NDP_ERRNO(EADDRNOTAVAIL)
    NDP_ERRNO(ENETDOWN)
    NDP_ERRNO(ENETUNREACH)
    NDP_ERRNO(ENETRESET)
    NDP_ERRNO(ECONNRESET)
    NDP_ERRNO(ENOBUFS)
    NDP_ERRNO(ENOTCONN)
    NDP_ERRNO(ETIMEDOUT)
    NDP_ERRNO(ECONNREFUSED)
    NDP_ERRNO(EHOSTDOWN)
    NDP_ERRNO(EHOSTUNREACH)
#undef NDP_ERRNO
    default:
      return "UNKNOWN";
  }
}

Napi::Error SysError(Napi::Env env, int err, const char* syscall) {
  std::string message = std::string(syscall) + " " + ErrnoName(err) + " (" +
                        strerror(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

void UniqueFd::Reset(int fd) {
  // Linux releases the descriptor even when close() reports EINTR: no retry.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void SetSockOpt(Napi::Env env, int fd, int level, int name, const void* value,
                socklen_t length) {
  if (setsockopt(fd, level, name, value, length) != 0) {
    throw SysError(env, errno, "setsockopt");
  }
}

int TakeSocketError(int fd) {
  int err = 0;
  socklen_t length = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &length) != 0) return errno;
  return err;
}

Bytes GetBytes(Napi::Value value, const char* what) {
  if (!value.IsTypedArray() ||
      value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(value.Env(),
                               std::string(what) + " must be a Uint8Array");
  }
  Napi::Uint8Array array = value.As<Napi::Uint8Array>();
  return Bytes{array.Data(), array.ByteLength()};
}

void AttachFilter(Napi::Env env, int fd, Napi::Value program) {
  Bytes bytes = GetBytes(program, "filter");
  size_t count = bytes.length / sizeof(sock_filter);
  if (count == 0 || count > BPF_MAXINSNS ||
      bytes.length % sizeof(sock_filter) != 0) {
    throw Napi::RangeError::New(env, "filter must hold 1..4096 instructions");
  }
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(count);
  fprog.filter = reinterpret_cast<sock_filter*>(bytes.data);
  SetSockOpt(env, fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog));
}

uint32_t GetUintOption(Napi::Object options, const char* key, uint32_t fallback,
                       uint32_t min, uint32_t max) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return fallback;
  double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (!(number >= min && number <= max) ||
      number != static_cast<double>(static_cast<uint32_t>(number))) {
    throw Napi::RangeError::New(options.Env(),
                                std::string(key) + " must be an integer in " +
                                    std::to_string(min) + ".." +
                                    std::to_string(max));
  }
  return static_cast<uint32_t>(number);
}

bool CallFromLoop(Napi::Env env, napi_async_context context, Napi::Value fn,
                  Napi::Object receiver, size_t argc, const napi_value* argv) {
  if (!fn.IsFunction()) return true;
  napi_value result;
  napi_status status =
      napi_make_callback(env, context, receiver, fn, argc, argv, &result);
  if (status == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
  return false;
}

void ReportLoopException(Napi::Env env, const Napi::Error& error) {
  napi_fatal_exception(env, error.Value());
}

Napi::Object TakeCallbackOptions(const Napi::CallbackInfo& info, const char* data_callback) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) {
    throw Napi::TypeError::New(env, "options must be an object");
  }
  Napi::Object options = info[0].As<Napi::Object>();
  info.This().As<Napi::Object>().DefineProperties({
      Napi::PropertyDescriptor::Value(data_callback, options.Get(data_callback)),
      Napi::PropertyDescriptor::Value("onError", options.Get("onError")),
  });
  return options;
}

}  // namespace ndp
