#!/usr/bin/env bash
# A real single-node Ganeti 3.0 cluster (fake hypervisor, diskless/file templates) on this machine, for the
# conformance suite. Run as root on a Debian 12 host or VM that can be reconfigured for the duration of a test run.
#
#   real_ganeti.sh up        idempotent: network, names, cluster init, RAPI users; restarts missing daemons
#   real_ganeti.sh down      destroys the cluster and restores the machine (hosts file, bridge, state dirs)
#   real_ganeti.sh status    exit 0 if the RAPI answers
#   real_ganeti.sh target    JSON for tests.targets.RapiTarget (name, host, port, cert, fingerprint, users)
#   real_ganeti.sh gnt CMD   runs a gnt-* command with the node's hostname
#
# What it changes while up, all undone by `down`: a private bridge (default gntbr0, 10.77.0.0/24, no uplink), a
# marked block in /etc/hosts, a marked block in /etc/ganeti/file-storage-paths, /srv/ganeti (OS definition and file
# storage), /var/lib/ganeti and /var/run/ganeti (the cluster), and a UTS namespace holding the node's hostname so
# the machine's own hostname is untouched. The RAPI listens on 127.0.0.1 only (Debian's default RAPI_ARGS).
set -euo pipefail

CLUSTER=${GNT_CLUSTER:-cluster.example.test}
NODE=${GNT_NODE:-node1.example.test}
NET=${GNT_NET:-10.77.0}
CLUSTER_IP=$NET.10
NODE_IP=$NET.11
BRIDGE=${GNT_BRIDGE:-gntbr0}
RAPI_HOST=127.0.0.1
RAPI_PORT=5080
WRITER=${GNT_RAPI_WRITER:-fleet-admin}
WRITER_PASSWORD=${GNT_RAPI_WRITER_PASSWORD:-fleet-admin-secret}
READER=${GNT_RAPI_READER:-fleet-reader}
READER_PASSWORD=${GNT_RAPI_READER_PASSWORD:-fleet-reader-secret}
STATE=/run/fleet-real-ganeti
UTS=$STATE/uts
SRV=/srv/ganeti
OS_NAME=noop
MARK_BEGIN="# BEGIN fleet-real-ganeti"
MARK_END="# END fleet-real-ganeti"

log() { echo "real_ganeti: $*" >&2; }
die() { log "$*"; exit 1; }
gx() { nsenter --uts="$UTS" -- "$@"; }

rapi_ok() {
  curl -skf --max-time 5 -u "$WRITER:$WRITER_PASSWORD" "https://$RAPI_HOST:$RAPI_PORT/2/info" >/dev/null 2>&1
}

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

install_packages() {
  if ! dpkg -s ganeti curl openssl >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ganeti curl openssl
  fi
}

setup_network() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  [[ $(ip -o addr show dev "$BRIDGE") == *" $NODE_IP/"* ]] || ip addr add "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  if ! grep -qx "$MARK_BEGIN" /etc/hosts; then
    printf '%s\n%s %s %s\n%s %s %s\n%s\n' "$MARK_BEGIN" \
      "$CLUSTER_IP" "$CLUSTER" "${CLUSTER%%.*}" "$NODE_IP" "$NODE" "${NODE%%.*}" "$MARK_END" >>/etc/hosts
  fi
}

setup_hostname() {
  # The node name lives in a persistent UTS namespace; everything Ganeti starts from it inherits the name.
  if [[ "$(nsenter --uts="$UTS" hostname 2>/dev/null)" != "$NODE" ]]; then
    touch "$UTS"
    unshare --uts="$UTS" hostname "$NODE"
  fi
}

setup_storage_and_os() {
  [[ -e $SRV || -e $STATE/srv-created ]] || touch "$STATE/srv-created"
  mkdir -p "$SRV/file-storage" "$SRV/os/$OS_NAME"
  if [[ ! -e /etc/ganeti/file-storage-paths ]]; then
    touch "$STATE/fsp-created"
    : >/etc/ganeti/file-storage-paths
  fi
  grep -qx "$MARK_BEGIN" /etc/ganeti/file-storage-paths ||
    printf '%s\n%s\n%s\n' "$MARK_BEGIN" "$SRV/file-storage" "$MARK_END" >>/etc/ganeti/file-storage-paths
  local s
  for s in create export import rename verify; do
    printf '#!/bin/sh\n# no-op OS for test clusters on the fake hypervisor\nexit 0\n' >"$SRV/os/$OS_NAME/$s"
    chmod 755 "$SRV/os/$OS_NAME/$s"
  done
  echo 20 >"$SRV/os/$OS_NAME/ganeti_api_version"
  : >"$SRV/os/$OS_NAME/parameters.list"
}

init_or_start() {
  if [[ ! -f /var/lib/ganeti/config.data ]]; then
    # init refuses to run over leftovers
    find /var/lib/ganeti /var/run/ganeti -mindepth 1 -delete 2>/dev/null || true
    gx gnt-cluster init \
      --no-etc-hosts --no-ssh-init \
      --master-netdev="$BRIDGE" \
      --enabled-hypervisors=fake \
      --enabled-disk-templates=diskless,file \
      --file-storage-dir="$SRV/file-storage" \
      --nic-parameters=mode=bridged,link="$BRIDGE" \
      --ipolicy-bounds-specs=min:disk-size=0,cpu-count=1,disk-count=0,memory-size=1,nic-count=0,spindle-use=0/max:disk-size=1048576,cpu-count=8,disk-count=16,memory-size=32768,nic-count=8,spindle-use=12 \
      --ipolicy-vcpu-ratio=256 --ipolicy-spindle-ratio=1024 \
      --default-iallocator-params=-no-capacity-checks \
      "$CLUSTER" >&2
  else
    # (Re)start missing daemons inside the UTS namespace. A stale pidfile owned by a daemon user makes
    # start-stop-daemon refuse ("matching only on non-root pidfile"), so drop it first. kvmd exits at once
    # without kvm, which is expected.
    local d
    for d in $(/usr/lib/ganeti/daemon-util list-start-daemons); do
      gx /usr/lib/ganeti/daemon-util check "$d" 2>/dev/null && continue
      rm -f "/var/run/ganeti/$d.pid"
      gx /usr/lib/ganeti/daemon-util start "$d" >&2 || true
    done
  fi
}

write_users() {
  local users=/var/lib/ganeti/rapi/users
  local want
  want=$(printf '%s %s write\n%s %s read' "$WRITER" "$WRITER_PASSWORD" "$READER" "$READER_PASSWORD")
  if [[ ! -f $users || "$(cat "$users")" != "$want" ]]; then
    printf '%s\n' "$want" >"$users.tmp"
    chown gnt-rapi:gnt-masterd "$users.tmp"
    chmod 640 "$users.tmp"
    mv "$users.tmp" "$users"   # ganeti-rapi re-reads it on inotify events
  fi
}

export_cert() {
  openssl x509 -in /var/lib/ganeti/rapi.pem -out "$STATE/rapi.crt"
  openssl x509 -in "$STATE/rapi.crt" -outform DER | sha256sum | cut -d' ' -f1 >"$STATE/rapi.sha256"
}

up() {
  need_root
  local t0=$SECONDS
  mkdir -p "$STATE"
  install_packages
  # bootstrap reads the host's RSA key; keys made here are removed again by `down`
  if [[ ! -f /etc/ssh/ssh_host_rsa_key.pub ]]; then
    ssh-keygen -A >&2
    touch "$STATE/sshkeys-created"
  fi
  setup_network
  setup_hostname
  setup_storage_and_os
  init_or_start
  write_users
  local _
  for _ in $(seq 120); do rapi_ok && break; sleep 0.25; done
  rapi_ok || die "the RAPI at https://$RAPI_HOST:$RAPI_PORT does not answer"
  # users are re-read asynchronously: wait until the reader is known too
  for _ in $(seq 40); do
    curl -skf --max-time 5 -u "$READER:$READER_PASSWORD" -X PUT -H 'Content-Type: application/json' \
      -d '{"fields":["name"]}' "https://$RAPI_HOST:$RAPI_PORT/2/query/node" >/dev/null 2>&1 && break
    sleep 0.25
  done
  export_cert
  log "up in $((SECONDS - t0)) s: https://$RAPI_HOST:$RAPI_PORT ($CLUSTER, master $NODE)"
}

down() {
  need_root
  local t0=$SECONDS
  if [[ -f /var/lib/ganeti/config.data && -e $UTS ]]; then
    # refuses while instances exist; the wipe below does the job then
    gx gnt-cluster destroy --yes-do-it >/dev/null 2>&1 || true
  fi
  if [[ -e $UTS ]]; then
    gx /usr/lib/ganeti/daemon-util stop-all >/dev/null 2>&1 || true
  fi
  # daemons that outlived stop-all (e.g. on-demand metad, or ones started outside the namespace)
  local f p pids=()
  for f in /var/run/ganeti/*.pid; do
    [[ -f $f ]] || continue
    p=$(cat "$f" 2>/dev/null || true)
    [[ $p =~ ^[0-9]+$ ]] && kill "$p" 2>/dev/null && pids+=("$p")
  done
  local _
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  rm -f /run/lock/ganeti-ssconf.lock
  find /var/lib/ganeti /var/run/ganeti -mindepth 1 -delete 2>/dev/null || true
  rmdir /var/run/ganeti 2>/dev/null || true
  if [[ -f $STATE/srv-created ]]; then
    rm -rf "$SRV"
  else
    rm -rf "$SRV/file-storage" "$SRV/os/$OS_NAME"
  fi
  if [[ -f /etc/ganeti/file-storage-paths ]]; then
    sed -i "/^$MARK_BEGIN\$/,/^$MARK_END\$/d" /etc/ganeti/file-storage-paths
    [[ -f $STATE/fsp-created && ! -s /etc/ganeti/file-storage-paths ]] && rm -f /etc/ganeti/file-storage-paths
  fi
  if [[ -f $STATE/sshkeys-created ]]; then
    rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub
  fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; fi
  sed -i "/^$MARK_BEGIN\$/,/^$MARK_END\$/d" /etc/hosts
  if [[ -e $UTS ]]; then umount "$UTS" 2>/dev/null || true; fi
  rm -rf "$STATE"
  log "down in $((SECONDS - t0)) s"
}

target() {
  [[ -f $STATE/rapi.crt ]] || die "not up"
  local name
  name=$(curl -skf --max-time 5 -u "$WRITER:$WRITER_PASSWORD" "https://$RAPI_HOST:$RAPI_PORT/2/info" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["name"])')
  python3 - "$name" "$RAPI_HOST" "$RAPI_PORT" "$(cat "$STATE/rapi.sha256")" "$STATE/rapi.crt" \
    "$WRITER" "$WRITER_PASSWORD" "$READER" "$READER_PASSWORD" <<'EOF'
import json, sys
keys = ["name", "host", "port", "fingerprint", "cert_file", "username", "password", "reader", "reader_password"]
values = dict(zip(keys, sys.argv[1:]))
values["port"] = int(values["port"])
print(json.dumps(values))
EOF
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) rapi_ok ;;
  target) target ;;
  gnt) shift; gx "$@" ;;
  *) echo "usage: $0 up|down|status|target|gnt CMD..." >&2; exit 2 ;;
esac
