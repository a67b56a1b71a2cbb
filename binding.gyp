{
  "targets": [
    {
      "target_name": "ndp_native",
      "sources": [
        "native/addon.cc",
        "native/bpf_link.cc",
        "native/bpf_syscall.cc",
        "native/fd_watch.cc",
        "native/netlink_socket.cc",
        "native/packet_send.cc",
        "native/packet_socket.cc",
        "native/tx_timestamps.cc",
        "native/util.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"],
      "configurations": {
        "Release": {
          "cflags!": ["-O3"],
          "cflags_cc!": ["-O3"],
          "cflags": ["-O2"],
          "cflags_cc": ["-O2"]
        }
      }
    }
  ]
}
