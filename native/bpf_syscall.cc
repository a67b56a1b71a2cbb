// bpf(2) for generated programs: maps, program load, test runs, and the
// argument helpers shared with bpf_link.cc. System calls only; every buffer is
// a Uint8Array owned by JS.
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "bpf_attr.h"
#include "bpf_syscall.h"

namespace ndp {
namespace {

constexpr int kLoadRetries = 5;  // the verifier returns EAGAIN on a pending signal

// errno names bpf(2) returns that util.cc's general list leaves out.
const char* BpfErrnoName(int err) {
  const char* name = ErrnoName(err);
  if (strcmp(name, "UNKNOWN") != 0) return name;
  switch (err) {
    case E2BIG: return "E2BIG";
    case ELOOP: return "ELOOP";
    case EOVERFLOW: return "EOVERFLOW";
    case 524: return "ENOTSUPP";  // kernel-internal, leaks out of some bpf paths
    default: return name;
  }
}

}  // namespace

const char* CommandName(int command) {
  switch (command) {
    case kMapCreate: return "BPF_MAP_CREATE";
    case kMapLookupElem: return "BPF_MAP_LOOKUP_ELEM";
    case kMapUpdateElem: return "BPF_MAP_UPDATE_ELEM";
    case kMapDeleteElem: return "BPF_MAP_DELETE_ELEM";
    case kMapGetNextKey: return "BPF_MAP_GET_NEXT_KEY";
    case kProgLoad: return "BPF_PROG_LOAD";
    case kProgTestRun: return "BPF_PROG_TEST_RUN";
    case kProgGetNextId: return "BPF_PROG_GET_NEXT_ID";
    case kMapGetNextId: return "BPF_MAP_GET_NEXT_ID";
    case kProgGetFdById: return "BPF_PROG_GET_FD_BY_ID";
    case kMapGetFdById: return "BPF_MAP_GET_FD_BY_ID";
    case kObjGetInfoByFd: return "BPF_OBJ_GET_INFO_BY_FD";
    case kProgQuery: return "BPF_PROG_QUERY";
    case kLinkCreate: return "BPF_LINK_CREATE";
    case kLinkGetFdById: return "BPF_LINK_GET_FD_BY_ID";
    case kLinkGetNextId: return "BPF_LINK_GET_NEXT_ID";
    default: return "BPF_UNKNOWN";
  }
}

// Like SysError, with syscall "bpf" and the command: "bpf(BPF_PROG_LOAD) EACCES (...)".
Napi::Error BpfError(Napi::Env env, int err, int command) {
  const char* code = BpfErrnoName(err);
  std::string message = std::string("bpf(") + CommandName(command) + ") " + code + " (" +
                        strerror(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, "bpf"));
  error.Set("command", Napi::String::New(env, CommandName(command)));
  return error;
}

// One bpf(2) call; returns the result or -errno.
long Bpf(int command, void* attr, size_t size) {
  long result = syscall(SYS_bpf, command, attr, static_cast<unsigned>(size));
  return result < 0 ? -errno : result;
}

// bpf(2) that throws BpfError on failure.
long BpfOrThrow(Napi::Env env, int command, void* attr, size_t size) {
  long result = Bpf(command, attr, size);
  if (result < 0) throw BpfError(env, static_cast<int>(-result), command);
  return result;
}

uint64_t Address(const void* pointer) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(pointer));
}

// An unsigned 32-bit integer argument, range-checked.
uint32_t Uint(Napi::Env env, Napi::Value value, const char* what, uint32_t max) {
  double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (!(number >= 0 && number <= max) ||
      number != static_cast<double>(static_cast<uint32_t>(number))) {
    throw Napi::RangeError::New(env, std::string(what) + " must be an integer in 0.." +
                                         std::to_string(max));
  }
  return static_cast<uint32_t>(number);
}

uint32_t OptionalUint(Napi::Object options, const char* key, uint32_t fallback) {
  Napi::Value value = options.Get(key);
  return value.IsUndefined() ? fallback : Uint(options.Env(), value, key);
}

int Fd(Napi::Env env, Napi::Value value, const char* what) {
  return static_cast<int>(Uint(env, value, what, INT32_MAX));
}

Napi::Object Options(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  return value.As<Napi::Object>();
}

// An optional Uint8Array option: {nullptr, 0} when undefined.
Bytes OptionalBytes(Napi::Object options, const char* key) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined() || value.IsNull()) return Bytes{nullptr, 0};
  return GetBytes(value, key);
}

uint32_t Length32(Napi::Env env, const Bytes& bytes, const char* what) {
  if (bytes.length > UINT32_MAX) {
    throw Napi::RangeError::New(env, std::string(what) + " is too long");
  }
  return static_cast<uint32_t>(bytes.length);
}

// Copies an object name (truncated to 15 bytes, NUL-terminated) into a kernel name field.
void CopyName(Napi::Object options, char (&name)[kObjectNameLength]) {
  Napi::Value value = options.Get("name");
  if (value.IsUndefined()) return;
  if (!value.IsString()) throw Napi::TypeError::New(options.Env(), "name must be a string");
  std::string text = value.As<Napi::String>();
  strncpy(name, text.c_str(), kObjectNameLength - 1);
}

// Elements of a map key or value buffer: the kernel reads exactly key_size/value_size bytes.
void* RequireBytes(Napi::Env env, Napi::Value value, const char* what) {
  Bytes bytes = GetBytes(value, what);
  if (bytes.length == 0) throw Napi::RangeError::New(env, std::string(what) + " must not be empty");
  return bytes.data;
}

Napi::Value BpfMapCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = Options(env, info[0]);
  MapCreateAttr attr{};
  attr.map_type = Uint(env, options.Get("type"), "type");
  attr.key_size = Uint(env, options.Get("keySize"), "keySize");
  attr.value_size = Uint(env, options.Get("valueSize"), "valueSize");
  attr.max_entries = Uint(env, options.Get("maxEntries"), "maxEntries");
  attr.map_flags = OptionalUint(options, "flags", 0);
  CopyName(options, attr.map_name);
  long fd = BpfOrThrow(env, kMapCreate, &attr, sizeof(attr));
  return Napi::Number::New(env, static_cast<double>(fd));
}

void BpfMapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MapElemAttr attr{};
  attr.map_fd = Fd(env, info[0], "fd");
  attr.key = Address(RequireBytes(env, info[1], "key"));
  attr.value = Address(RequireBytes(env, info[2], "value"));
  attr.flags = Uint(env, info[3], "flags", 7);
  BpfOrThrow(env, kMapUpdateElem, &attr, sizeof(attr));
}

Napi::Value BpfMapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MapElemAttr attr{};
  attr.map_fd = Fd(env, info[0], "fd");
  attr.key = Address(RequireBytes(env, info[1], "key"));
  attr.value = Address(RequireBytes(env, info[2], "value"));
  long result = Bpf(kMapLookupElem, &attr, sizeof(attr));
  if (result == -ENOENT) return Napi::Boolean::New(env, false);
  if (result < 0) throw BpfError(env, static_cast<int>(-result), kMapLookupElem);
  return Napi::Boolean::New(env, true);
}

Napi::Value BpfMapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MapElemAttr attr{};
  attr.map_fd = Fd(env, info[0], "fd");
  attr.key = Address(RequireBytes(env, info[1], "key"));
  long result = Bpf(kMapDeleteElem, &attr, sizeof(attr));
  if (result == -ENOENT) return Napi::Boolean::New(env, false);
  if (result < 0) throw BpfError(env, static_cast<int>(-result), kMapDeleteElem);
  return Napi::Boolean::New(env, true);
}

Napi::Value BpfMapNextKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MapElemAttr attr{};
  attr.map_fd = Fd(env, info[0], "fd");
  // A null key asks for the first key.
  bool first = info[1].IsNull() || info[1].IsUndefined();
  attr.key = first ? 0 : Address(RequireBytes(env, info[1], "key"));
  attr.value = Address(RequireBytes(env, info[2], "nextKey"));
  long result = Bpf(kMapGetNextKey, &attr, sizeof(attr));
  if (result == -ENOENT) return Napi::Boolean::New(env, false);
  if (result < 0) throw BpfError(env, static_cast<int>(-result), kMapGetNextKey);
  return Napi::Boolean::New(env, true);
}

Napi::Value BpfProgLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = Options(env, info[0]);
  Bytes instructions = GetBytes(options.Get("instructions"), "instructions");
  if (instructions.length == 0 || instructions.length % 8 != 0) {
    throw Napi::RangeError::New(env, "instructions must be a non-empty multiple of 8 bytes");
  }
  Napi::Value license_value = options.Get("license");
  if (!license_value.IsString()) throw Napi::TypeError::New(env, "license must be a string");
  std::string license = license_value.As<Napi::String>();
  Bytes log = OptionalBytes(options, "log");

  ProgLoadAttr attr{};
  attr.prog_type = Uint(env, options.Get("type"), "type");
  attr.insn_cnt = static_cast<uint32_t>(instructions.length / 8);
  attr.insns = Address(instructions.data);
  attr.license = Address(license.c_str());
  attr.expected_attach_type = OptionalUint(options, "expectedAttachType", 0);
  attr.prog_flags = OptionalUint(options, "flags", 0);
  CopyName(options, attr.prog_name);
  if (log.length > 0) {
    attr.log_level = OptionalUint(options, "logLevel", 1);
    attr.log_size = Length32(env, log, "log");
    attr.log_buf = Address(log.data);
    log.data[0] = 0;
  }
  long result = -EAGAIN;
  for (int attempt = 0; attempt < kLoadRetries && result == -EAGAIN; ++attempt) {
    result = Bpf(kProgLoad, &attr, sizeof(attr));
  }
  if (result < 0) {
    Napi::Error error = BpfError(env, static_cast<int>(-result), kProgLoad);
    error.Set("logTrueSize", Napi::Number::New(env, attr.log_true_size));
    throw error;
  }
  return Napi::Number::New(env, static_cast<double>(result));
}

Napi::Value BpfProgTestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = Options(env, info[1]);
  Bytes data_in = GetBytes(options.Get("dataIn"), "dataIn");
  Bytes data_out = OptionalBytes(options, "dataOut");
  Bytes ctx_in = OptionalBytes(options, "ctxIn");
  Bytes ctx_out = OptionalBytes(options, "ctxOut");

  TestRunAttr attr{};
  attr.prog_fd = Fd(env, info[0], "fd");
  attr.data_in = Address(data_in.data);
  attr.data_size_in = Length32(env, data_in, "dataIn");
  attr.data_out = Address(data_out.data);
  attr.data_size_out = Length32(env, data_out, "dataOut");
  attr.ctx_in = Address(ctx_in.data);
  attr.ctx_size_in = Length32(env, ctx_in, "ctxIn");
  attr.ctx_out = Address(ctx_out.data);
  attr.ctx_size_out = Length32(env, ctx_out, "ctxOut");
  attr.repeat = OptionalUint(options, "repeat", 1);
  attr.flags = OptionalUint(options, "flags", 0);
  BpfOrThrow(env, kProgTestRun, &attr, sizeof(attr));

  Napi::Object result = Napi::Object::New(env);
  result.Set("retval", Napi::Number::New(env, attr.retval));
  result.Set("duration", Napi::Number::New(env, attr.duration));
  result.Set("dataSizeOut", Napi::Number::New(env, attr.data_size_out));
  result.Set("ctxSizeOut", Napi::Number::New(env, attr.ctx_size_out));
  return result;
}

void BpfClose(const Napi::CallbackInfo& info) {
  int fd = Fd(info.Env(), info[0], "fd");
  // Linux releases the descriptor even when close() reports EINTR: no retry.
  if (close(fd) != 0 && errno != EINTR) throw SysError(info.Env(), errno, "close");
}

}  // namespace ndp
