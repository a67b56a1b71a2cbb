// Internals shared by the bpf(2) sources: the attribute layouts and argument
// helpers. The structs are prefixes of the kernel's union bpf_attr
// (include/uapi/linux/bpf.h), written out here so the addon builds against
// old linux-libc-dev headers too (Debian 12 ships 6.1, which predates tcx).
// The ABI only grows at the end, and the kernel zero-fills whatever a shorter
// struct leaves out.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "util.h"

namespace ndp {

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
};

constexpr size_t kObjectNameLength = 16;  // BPF_OBJ_NAME_LEN

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

// "BPF_PROG_LOAD" for a command number.
const char* CommandName(int command);

// Like SysError, with syscall "bpf" and the command: "bpf(BPF_PROG_LOAD) EACCES (...)".
Napi::Error BpfError(Napi::Env env, int err, int command);

// One bpf(2) call; returns the result or -errno.
long Bpf(int command, void* attr, size_t size);

// bpf(2) that throws BpfError on failure.
long BpfOrThrow(Napi::Env env, int command, void* attr, size_t size);

// A pointer as the kernel's __aligned_u64.
uint64_t Address(const void* pointer);

// An unsigned 32-bit integer argument, range-checked (RangeError naming `what`).
uint32_t Uint(Napi::Env env, Napi::Value value, const char* what, uint32_t max = UINT32_MAX);

// An optional unsigned 32-bit option of an options object.
uint32_t OptionalUint(Napi::Object options, const char* key, uint32_t fallback);

// A file descriptor argument.
int Fd(Napi::Env env, Napi::Value value, const char* what);

// The options-object argument, or TypeError.
Napi::Object Options(Napi::Env env, Napi::Value value);

// An optional Uint8Array option: {nullptr, 0} when undefined or null.
Bytes OptionalBytes(Napi::Object options, const char* key);

// A buffer's length as the kernel's u32 size fields, or RangeError.
uint32_t Length32(Napi::Env env, const Bytes& bytes, const char* what);

// Copies options.name (truncated to 15 bytes, NUL-terminated) into a kernel name field.
void CopyName(Napi::Object options, char (&name)[kObjectNameLength]);

// A non-empty Uint8Array argument's memory (map keys and values).
void* RequireBytes(Napi::Env env, Napi::Value value, const char* what);

}  // namespace ndp
