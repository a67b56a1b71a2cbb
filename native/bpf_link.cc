// bpf(2) for attaching: XDP and tcx links, link detach, program queries on a
// device, object info and id lookups. System calls only.
#include <errno.h>
#include <string.h>

#include <string>

#include "bpf_attr.h"
#include "bpf_syscall.h"

namespace ndp {
namespace {

int IdCommand(Napi::Env env, Napi::Value kind, bool next) {
  switch (Uint(env, kind, "kind", 2)) {
    case 0: return next ? kProgGetNextId : kProgGetFdById;
    case 1: return next ? kMapGetNextId : kMapGetFdById;
    default: return next ? kLinkGetNextId : kLinkGetFdById;
  }
}

// Revisions count attach/detach operations: a JS number holds them exactly up to 2^53.
uint64_t OptionalRevision(Napi::Object options, const char* key) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined()) return 0;
  double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  bool exact = number == static_cast<double>(static_cast<uint64_t>(number));
  if (!(number >= 0 && number <= 9007199254740991.0) || !exact) {
    throw Napi::RangeError::New(options.Env(),
                                std::string(key) + " must be a safe non-negative integer");
  }
  return static_cast<uint64_t>(number);
}

// An optional Uint32Array for ids; all given arrays must share one length (the query's count).
uint64_t IdsArgument(Napi::Env env, Napi::Value value, const char* what, uint32_t* capacity) {
  if (value.IsUndefined() || value.IsNull()) return 0;
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    throw Napi::TypeError::New(env, std::string(what) + " must be a Uint32Array");
  }
  Napi::Uint32Array ids = value.As<Napi::Uint32Array>();
  uint32_t length = static_cast<uint32_t>(ids.ElementLength());
  if (*capacity != 0 && length != *capacity) {
    throw Napi::RangeError::New(env, "progIds and linkIds must be the same length");
  }
  *capacity = length;
  return Address(ids.Data());
}

}  // namespace

Napi::Value BpfLinkCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = Options(env, info[0]);
  LinkCreateAttr attr{};
  attr.prog_fd = Fd(env, options.Get("progFd"), "progFd");
  attr.target_ifindex = Uint(env, options.Get("ifindex"), "ifindex");
  attr.attach_type = Uint(env, options.Get("attachType"), "attachType");
  attr.flags = OptionalUint(options, "flags", 0);
  attr.relative_fd = OptionalUint(options, "relativeFd", 0);
  attr.expected_revision = OptionalRevision(options, "expectedRevision");
  long fd = BpfOrThrow(env, kLinkCreate, &attr, sizeof(attr));
  return Napi::Number::New(env, static_cast<double>(fd));
}

Napi::Value BpfObjGetInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes out = GetBytes(info[1], "info");
  memset(out.data, 0, out.length);  // the kernel rejects non-zero input fields it does not know
  InfoAttr attr{};
  attr.bpf_fd = Fd(env, info[0], "fd");
  attr.info_len = Length32(env, out, "info");
  attr.info = Address(out.data);
  BpfOrThrow(env, kObjGetInfoByFd, &attr, sizeof(attr));
  return Napi::Number::New(env, attr.info_len);
}

Napi::Value BpfProgQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  QueryAttr attr{};
  attr.target_ifindex = Uint(env, info[0], "ifindex");
  attr.attach_type = Uint(env, info[1], "attachType");
  uint32_t capacity = 0;
  attr.prog_ids = IdsArgument(env, info[2], "progIds", &capacity);
  attr.link_ids = IdsArgument(env, info[3], "linkIds", &capacity);
  attr.count = capacity;
  long result = Bpf(kProgQuery, &attr, sizeof(attr));
  // ENOSPC: more programs than room; count still says how many there are.
  if (result < 0 && result != -ENOSPC) throw BpfError(env, static_cast<int>(-result), kProgQuery);
  Napi::Object out = Napi::Object::New(env);
  out.Set("count", Napi::Number::New(env, attr.count));
  out.Set("revision", Napi::Number::New(env, static_cast<double>(attr.revision)));
  return out;
}

Napi::Value BpfGetNextId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int command = IdCommand(env, info[0], true);
  IdAttr attr{};
  attr.id = Uint(env, info[1], "startId");
  long result = Bpf(command, &attr, sizeof(attr));
  if (result == -ENOENT) return Napi::Number::New(env, 0);
  if (result < 0) throw BpfError(env, static_cast<int>(-result), command);
  return Napi::Number::New(env, attr.next_id);
}

Napi::Value BpfGetFdById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int command = IdCommand(env, info[0], false);
  IdAttr attr{};
  attr.id = Uint(env, info[1], "id");
  return Napi::Number::New(env, static_cast<double>(BpfOrThrow(env, command, &attr, sizeof(attr))));
}

}  // namespace ndp
