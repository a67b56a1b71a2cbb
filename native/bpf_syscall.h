// bpf(2) for programs generated in JavaScript: maps, program load, test runs,
// links. System calls only; every buffer (keys, values, instructions, the
// verifier log, test frames, info records) is a Uint8Array owned by JS.
// Maps, loading and test runs are in bpf_syscall.cc, attaching and queries in
// bpf_link.cc.
#pragma once

#include <napi.h>

namespace ndp {

// bpfMapCreate({type, keySize, valueSize, maxEntries, flags?, name?}) -> fd.
Napi::Value BpfMapCreate(const Napi::CallbackInfo& info);

// bpfMapUpdate(fd, key, value, flags): BPF_ANY, BPF_NOEXIST or BPF_EXIST.
void BpfMapUpdate(const Napi::CallbackInfo& info);

// bpfMapLookup(fd, key, valueOut) -> false when the key is absent (ENOENT).
Napi::Value BpfMapLookup(const Napi::CallbackInfo& info);

// bpfMapDelete(fd, key) -> false when the key was absent (ENOENT).
Napi::Value BpfMapDelete(const Napi::CallbackInfo& info);

// bpfMapNextKey(fd, key | null, nextKeyOut) -> false after the last key.
Napi::Value BpfMapNextKey(const Napi::CallbackInfo& info);

// bpfProgLoad({type, instructions, license, name?, expectedAttachType?,
// logLevel?, log?}) -> fd. The verifier writes its log into `log`.
Napi::Value BpfProgLoad(const Napi::CallbackInfo& info);

// bpfProgTestRun(fd, {dataIn, dataOut?, repeat?, flags?, ctxIn?, ctxOut?})
// -> {retval, duration, dataSizeOut, ctxSizeOut}.
Napi::Value BpfProgTestRun(const Napi::CallbackInfo& info);

// bpfLinkCreate({progFd, ifindex, attachType, flags?, relativeFd?,
// expectedRevision?}) -> link fd. Closing the last fd detaches.
Napi::Value BpfLinkCreate(const Napi::CallbackInfo& info);

// bpfObjGetInfo(fd, infoOut) -> bytes the kernel filled (struct bpf_*_info).
Napi::Value BpfObjGetInfo(const Napi::CallbackInfo& info);

// bpfProgQuery(ifindex, attachType, progIdsOut?, linkIdsOut?) -> {count, revision}.
Napi::Value BpfProgQuery(const Napi::CallbackInfo& info);

// bpfGetNextId(kind, startId) -> next id, or 0 after the last (kind: 0 prog, 1 map, 2 link).
Napi::Value BpfGetNextId(const Napi::CallbackInfo& info);

// bpfGetFdById(kind, id) -> fd (kind as for bpfGetNextId).
Napi::Value BpfGetFdById(const Napi::CallbackInfo& info);

// bpfClose(fd): closes a map, program or link descriptor.
void BpfClose(const Napi::CallbackInfo& info);

}  // namespace ndp
