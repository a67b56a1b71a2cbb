// bpf(2) commands for generated eBPF programs. The attribute structs below are
// prefixes of the kernel's union bpf_attr (include/uapi/linux/bpf.h), written
// out here so the addon builds against old linux-libc-dev headers too
// (Debian 12 ships 6.1, which predates tcx). The ABI only grows at the end,
// and the kernel zero-fills whatever a shorter struct leaves out.
#include "bpf_syscall.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "util.h"

namespace ndp {
namespace {

// enum bpf_cmd values used here.
enum BpfCommand : int {
  kMapCreate = 0,
  kMapLookupElem = 1,
  kMapUpdateElem = 2,
  kMapDeleteElem = 3,
  kMapGetNextKey = 4,
  kProgLoad = 5,
  kProgTestRun = 10,
  kProgGetNextId = 11,
  kMapGetNextId = 12,
  kProgGetFdById = 13,
  kMapGetFdById = 14,
  kObjGetInfoByFd = 15,
  kProgQuery = 16,
  kLinkCreate = 28,
  kLinkGetFdById = 30,
  kLinkGetNextId = 31,
  kLinkDetach = 34,
};

constexpr size_t kObjectNameLength = 16;  // BPF_OBJ_NAME_LEN
constexpr int kLoadRetries = 5;           // the verifier returns EAGAIN on a pending signal

struct MapCreateAttr {
  uint32_t map_type;
  uint32_t key_size;
  uint32_t value_size;
  uint32_t max_entries;
  uint32_t map_flags;
  uint32_t inner_map_fd;
  uint32_t numa_node;
  char map_name[kObjectNameLength];
  uint32_t map_ifindex;
};

struct MapElemAttr {
  uint32_t map_fd;
  uint64_t key;
  uint64_t value;  // or next_key
  uint64_t flags;
};

struct ProgLoadAttr {
  uint32_t prog_type;
  uint32_t insn_cnt;
  uint64_t insns;
  uint64_t license;
  uint32_t log_level;
  uint32_t log_size;
  uint64_t log_buf;
  uint32_t kern_version;
  uint32_t prog_flags;
  char prog_name[kObjectNameLength];
  uint32_t prog_ifindex;
  uint32_t expected_attach_type;
  uint32_t prog_btf_fd;
  uint32_t func_info_rec_size;
  uint64_t func_info;
  uint32_t func_info_cnt;
  uint32_t line_info_rec_size;
  uint64_t line_info;
  uint32_t line_info_cnt;
  uint32_t attach_btf_id;
  uint32_t attach_prog_fd;
  uint32_t core_relo_cnt;
  uint64_t fd_array;
  uint64_t core_relos;
  uint32_t core_relo_rec_size;
  uint32_t log_true_size;  // written back by 6.4+
};
static_assert(offsetof(ProgLoadAttr, prog_name) == 48, "bpf_attr.prog_name");
static_assert(offsetof(ProgLoadAttr, expected_attach_type) == 68, "bpf_attr.expected_attach_type");
static_assert(offsetof(ProgLoadAttr, log_true_size) == 140, "bpf_attr.log_true_size");

struct TestRunAttr {
  uint32_t prog_fd;
  uint32_t retval;
  uint32_t data_size_in;
  uint32_t data_size_out;
  uint64_t data_in;
  uint64_t data_out;
  uint32_t repeat;
  uint32_t duration;
  uint32_t ctx_size_in;
  uint32_t ctx_size_out;
  uint64_t ctx_in;
  uint64_t ctx_out;
  uint32_t flags;
  uint32_t cpu;
  uint32_t batch_size;
};
static_assert(offsetof(TestRunAttr, flags) == 64, "bpf_attr.test.flags");

struct LinkCreateAttr {
  uint32_t prog_fd;
  uint32_t target_ifindex;
  uint32_t attach_type;
  uint32_t flags;
  uint32_t relative_fd;  // tcx.relative_fd or relative_id (BPF_F_ID)
  uint64_t expected_revision;
};
static_assert(offsetof(LinkCreateAttr, expected_revision) == 24, "bpf_attr.link_create.tcx");

struct InfoAttr {
  uint32_t bpf_fd;
  uint32_t info_len;
  uint64_t info;
};

struct QueryAttr {
  uint32_t target_ifindex;
  uint32_t attach_type;
  uint32_t query_flags;
  uint32_t attach_flags;
  uint64_t prog_ids;
  uint32_t count;
  uint64_t prog_attach_flags;
  uint64_t link_ids;
  uint64_t link_attach_flags;
  uint64_t revision;
};
static_assert(offsetof(QueryAttr, revision) == 56, "bpf_attr.query.revision");

struct IdAttr {
  uint32_t id;  // start_id, prog_id, map_id or link_id
  uint32_t next_id;
  uint32_t open_flags;
};

struct LinkDetachAttr {
  uint32_t link_fd;
};

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
    case kLinkDetach: return "BPF_LINK_DETACH";
    default: return "BPF_UNKNOWN";
  }
}

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
uint32_t Uint(Napi::Env env, Napi::Value value, const char* what, uint32_t max = UINT32_MAX) {
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
  if (bytes.length > UINT32_MAX) throw Napi::RangeError::New(env, std::string(what) + " is too long");
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

int IdCommand(Napi::Env env, Napi::Value kind, bool next) {
  switch (Uint(env, kind, "kind", 2)) {
    case 0: return next ? kProgGetNextId : kProgGetFdById;
    case 1: return next ? kMapGetNextId : kMapGetFdById;
    default: return next ? kLinkGetNextId : kLinkGetFdById;
  }
}

}  // namespace

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
  return Napi::Number::New(env, static_cast<double>(BpfOrThrow(env, kMapCreate, &attr, sizeof(attr))));
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
  attr.key = info[1].IsNull() || info[1].IsUndefined() ? 0 : Address(RequireBytes(env, info[1], "key"));
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

Napi::Value BpfLinkCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = Options(env, info[0]);
  LinkCreateAttr attr{};
  attr.prog_fd = Fd(env, options.Get("progFd"), "progFd");
  attr.target_ifindex = Uint(env, options.Get("ifindex"), "ifindex");
  attr.attach_type = Uint(env, options.Get("attachType"), "attachType");
  attr.flags = OptionalUint(options, "flags", 0);
  attr.relative_fd = OptionalUint(options, "relativeFd", 0);
  // Revisions count attach/detach operations: a JS number holds them exactly up to 2^53.
  Napi::Value revision = options.Get("expectedRevision");
  if (!revision.IsUndefined()) {
    double number = revision.IsNumber() ? revision.As<Napi::Number>().DoubleValue() : -1;
    if (!(number >= 0 && number <= 9007199254740991.0) || number != static_cast<double>(static_cast<uint64_t>(number))) {
      throw Napi::RangeError::New(env, "expectedRevision must be a safe non-negative integer");
    }
    attr.expected_revision = static_cast<uint64_t>(number);
  }
  return Napi::Number::New(env, static_cast<double>(BpfOrThrow(env, kLinkCreate, &attr, sizeof(attr))));
}

void BpfLinkDetach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  LinkDetachAttr attr{};
  attr.link_fd = Fd(env, info[0], "fd");
  BpfOrThrow(env, kLinkDetach, &attr, sizeof(attr));
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
  for (size_t i = 2; i <= 3; ++i) {
    if (info[i].IsUndefined() || info[i].IsNull()) continue;
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      throw Napi::TypeError::New(env, i == 2 ? "progIds must be a Uint32Array" : "linkIds must be a Uint32Array");
    }
    Napi::Uint32Array ids = info[i].As<Napi::Uint32Array>();
    uint32_t length = static_cast<uint32_t>(ids.ElementLength());
    if (capacity != 0 && length != capacity) throw Napi::RangeError::New(env, "progIds and linkIds must be the same length");
    capacity = length;
    (i == 2 ? attr.prog_ids : attr.link_ids) = Address(ids.Data());
  }
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

void BpfClose(const Napi::CallbackInfo& info) {
  int fd = Fd(info.Env(), info[0], "fd");
  // Linux releases the descriptor even when close() reports EINTR: no retry.
  if (close(fd) != 0 && errno != EINTR) throw SysError(info.Env(), errno, "close");
}

}  // namespace ndp
