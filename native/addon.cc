// ndp_native: system calls only. Every byte is parsed in JavaScript.
#include <napi.h>
#include <net/if.h>
#include <time.h>

#include <string>

#include "bpf_syscall.h"
#include "netlink_socket.h"
#include "packet_socket.h"
#include "tx_timestamps.h"

namespace ndp {
namespace {

// if_nametoindex in the caller's network namespace; 0 when missing.
Napi::Value InterfaceIndex(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) {
    throw Napi::TypeError::New(info.Env(), "name must be a string");
  }
  std::string name = info[0].As<Napi::String>();
  unsigned index = name.size() < IF_NAMESIZE ? if_nametoindex(name.c_str()) : 0;
  return Napi::Number::New(info.Env(), index);
}

// CLOCK_REALTIME, the clock of SO_TIMESTAMPNS receive timestamps.
Napi::Value Now(const Napi::CallbackInfo& info) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("sec", Napi::Number::New(info.Env(), static_cast<double>(ts.tv_sec)));
  result.Set("nsec", Napi::Number::New(info.Env(), static_cast<double>(ts.tv_nsec)));
  return result;
}

}  // namespace
}  // namespace ndp

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", ndp::PacketSocket::Define(env));
  exports.Set("NetlinkSocket", ndp::NetlinkSocket::Define(env));
  exports.Set("interfaceIndex",
              Napi::Function::New<ndp::InterfaceIndex>(env, "interfaceIndex"));
  exports.Set("now", Napi::Function::New<ndp::Now>(env, "now"));
  exports.Set("enableTxTimestamps",
              Napi::Function::New<ndp::EnableTxTimestamps>(env, "enableTxTimestamps"));
  exports.Set("setReceiveBuffer",
              Napi::Function::New<ndp::SetReceiveBuffer>(env, "setReceiveBuffer"));
  exports.Set("readTxTimestamps",
              Napi::Function::New<ndp::ReadTxTimestamps>(env, "readTxTimestamps"));
  exports.Set("bpfMapCreate", Napi::Function::New<ndp::BpfMapCreate>(env, "bpfMapCreate"));
  exports.Set("bpfMapUpdate", Napi::Function::New<ndp::BpfMapUpdate>(env, "bpfMapUpdate"));
  exports.Set("bpfMapLookup", Napi::Function::New<ndp::BpfMapLookup>(env, "bpfMapLookup"));
  exports.Set("bpfMapDelete", Napi::Function::New<ndp::BpfMapDelete>(env, "bpfMapDelete"));
  exports.Set("bpfMapNextKey", Napi::Function::New<ndp::BpfMapNextKey>(env, "bpfMapNextKey"));
  exports.Set("bpfProgLoad", Napi::Function::New<ndp::BpfProgLoad>(env, "bpfProgLoad"));
  exports.Set("bpfProgTestRun", Napi::Function::New<ndp::BpfProgTestRun>(env, "bpfProgTestRun"));
  exports.Set("bpfLinkCreate", Napi::Function::New<ndp::BpfLinkCreate>(env, "bpfLinkCreate"));
  exports.Set("bpfObjGetInfo", Napi::Function::New<ndp::BpfObjGetInfo>(env, "bpfObjGetInfo"));
  exports.Set("bpfProgQuery", Napi::Function::New<ndp::BpfProgQuery>(env, "bpfProgQuery"));
  exports.Set("bpfGetNextId", Napi::Function::New<ndp::BpfGetNextId>(env, "bpfGetNextId"));
  exports.Set("bpfGetFdById", Napi::Function::New<ndp::BpfGetFdById>(env, "bpfGetFdById"));
  exports.Set("bpfClose", Napi::Function::New<ndp::BpfClose>(env, "bpfClose"));
  return exports;
}

NODE_API_MODULE(ndp_native, InitAddon)
