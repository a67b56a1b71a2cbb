#!/bin/sh
# Container entrypoint: runs ndp-responder as the image's non-root user with CAP_NET_RAW,
# CAP_NET_ADMIN and CAP_BPF, given as ambient capabilities (as the systemd unit does).
#
# Docker grants capabilities to a non-root user's processes only through file capabilities:
# /usr/local/libexec/ndp-setpriv is a copy of util-linux setpriv carrying
# cap_net_raw,cap_net_admin,cap_bpf+p. It raises whichever of the three the container was given
# (`--cap-add`, read from the bounding set) into the ambient set and execs node, which then holds
# exactly those. Works for any --user. Where file capabilities cannot apply (no-new-privileges)
# or CAP_NET_RAW was not given, node starts without them and ndp-responder itself says what is
# missing, in one line; without CAP_BPF (Docker before 23.0 does not know it) the default
# --fast-path auto answers from the socket and logs why, in one line.
set -eu
app=/app/bin/ndp-responder.js
field() { sed -n "s/^$1:[[:space:]]*//p" /proc/self/status; }
bounding=$(field CapBnd)
caps=''
if [ $(( 0x$bounding >> 13 & 1 )) = 1 ]; then caps="$caps,+net_raw"; fi
if [ $(( 0x$bounding >> 12 & 1 )) = 1 ]; then caps="$caps,+net_admin"; fi
if [ $(( 0x$bounding >> 39 & 1 )) = 1 ]; then caps="$caps,+bpf"; fi
if [ -n "$caps" ] && [ "$(field NoNewPrivs)" != 1 ]; then
  exec /usr/local/libexec/ndp-setpriv --inh-caps="-all$caps" --ambient-caps="-all$caps" -- node "$app" "$@"
fi
exec node "$app" "$@"
