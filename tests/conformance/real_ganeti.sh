#!/usr/bin/env bash
# A real Ganeti 3.0 cluster of N nodes (fake hypervisor; diskless, file and sharedfile templates) on this
# machine, for the conformance suite. Each node is a namespace container (node_ns.sh) on a private bridge. Run as
# root on a Debian 12 host or VM.
#
#   real_ganeti.sh up [N]    idempotent: N nodes (default $GNT_NODES or 3), cluster init, nodes added, RAPI users;
#                            containers that died are restarted with the cluster they held
#   real_ganeti.sh down      kills the containers and restores the machine (hosts file, bridge, state)
#   real_ganeti.sh status    exit 0 if the RAPI answers
#   real_ganeti.sh target    JSON for tests.targets.RapiTarget (name, host, port, cert, fingerprint, users)
#   real_ganeti.sh gnt CMD   runs a gnt-* command on the master node
#
# Nodes are nodeK.example.test at 10.77.0.(10+K); the cluster address 10.77.0.10 follows the master, and the RAPI
# answers there. The host has 10.77.0.1 on the bridge gntbr0, which has no uplink: nothing outside this machine
# is reachable through it. What `up` changes, all undone by `down`: the bridge and its veths, a marked block in
# /etc/hosts, $GNT_NS_STATE (every node's private directories), and /root/.ssh and /srv/ganeti when they did not
# exist (they are mount points in the containers).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
NS="$HERE/node_ns.sh"
export GNT_NS_STATE=${GNT_NS_STATE:-/var/tmp/fleet-real-ganeti}
STATE=$GNT_NS_STATE
BRIDGE=${GNT_BRIDGE:-gntbr0}
export GNT_BRIDGE=$BRIDGE
NET=10.77.0
CLUSTER=cluster.example.test
CLUSTER_IP=$NET.10
MAX_NODES=9
RAPI_PORT=5080
WRITER=${GNT_RAPI_WRITER:-fleet-admin}
WRITER_PASSWORD=${GNT_RAPI_WRITER_PASSWORD:-fleet-admin-secret}
READER=${GNT_RAPI_READER:-fleet-reader}
READER_PASSWORD=${GNT_RAPI_READER_PASSWORD:-fleet-reader-secret}
OS_NAME=noop
MARK_BEGIN="# BEGIN fleet-real-ganeti"
MARK_END="# END fleet-real-ganeti"

log() { echo "real_ganeti: $*" >&2; }
die() { log "$*"; exit 1; }
need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }
node_ip() { echo "$NET.$((10 + ${1#node}))"; }
on() { local node=$1; shift; "$NS" exec "$node" "$@"; }

rapi_answers() {  # USER PASSWORD: a read through the cluster address
  curl -skf --max-time 5 -u "$1:$2" -X PUT -H 'Content-Type: application/json' -d '{"fields":["name"]}' \
    "https://$CLUSTER_IP:$RAPI_PORT/2/query/node" >/dev/null 2>&1
}

nodes_made() {  # the containers this cluster has, in order
  local d
  for d in "$STATE"/node*/; do [[ -d $d ]] && basename "$d"; done | sort -V
}

master() {  # the node holding the master role (node1 before init)
  local n
  for n in $(nodes_made); do
    if [[ -s $STATE/$n/var-lib-ganeti/ssconf_master_node ]]; then
      cut -d. -f1 <"$STATE/$n/var-lib-ganeti/ssconf_master_node"
      return
    fi
  done
  echo node1
}

install_packages() {
  if ! dpkg -s ganeti curl openssl openssh-server >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ganeti curl openssl openssh-server
  fi
  # bootstrap reads the host key, which every node's copy of /etc/ssh starts from
  if [[ ! -f /etc/ssh/ssh_host_rsa_key.pub ]]; then
    ssh-keygen -A >&2
    touch "$STATE/made-host-keys"
  fi
}

names() {  # node and cluster names must resolve to addresses on the nodes, never to loopback
  grep -qx "$MARK_BEGIN" /etc/hosts && return
  {
    echo "$MARK_BEGIN"
    echo "$CLUSTER_IP $CLUSTER ${CLUSTER%%.*}"
    for k in $(seq 1 $MAX_NODES); do echo "$(node_ip "node$k") node$k.example.test node$k"; done
    echo "$MARK_END"
  } >>/etc/hosts
}

no_op_os() {  # DIR PARAMETERS VARIANTS: an OS definition whose scripts do nothing
  local dir=$1 s
  mkdir -p "$dir"
  for s in create export import rename verify; do
    printf '#!/bin/sh\n# no-op OS for test clusters on the fake hypervisor\nexit 0\n' >"$dir/$s"
    chmod 755 "$dir/$s"
  done
  echo 20 >"$dir/ganeti_api_version"
  printf '%s' "$2" >"$dir/parameters.list"
  if [[ -n $3 ]]; then printf '%s' "$3" >"$dir/variants.list"; else rm -f "$dir/variants.list"; fi
}

start_node() {  # container, the cluster's root key (initialised with --no-ssh-init), the no-op OSes
  local n=$1
  "$NS" up "$n" "$(node_ip "$n")"
  install -m 600 "$STATE/ssh/id_rsa" "$STATE/$n/root-ssh/id_rsa"
  install -m 644 "$STATE/ssh/id_rsa.pub" "$STATE/$n/root-ssh/id_rsa.pub"
  install -m 600 "$STATE/ssh/id_rsa.pub" "$STATE/$n/root-ssh/authorized_keys"
  # $OS_NAME declares an image-based OS's parameters (snf-image's), so osparams can be set, checked and
  # cleared; debootstrap declares none and has variants, as the simulator's OS definitions do
  no_op_os "$STATE/$n/srv-ganeti/os/$OS_NAME" $'img_format the image format\nimg_id the image\nimg_passwd the root password\nimg_properties the image properties\n' ""
  no_op_os "$STATE/$n/srv-ganeti/os/debootstrap" "" $'default\nbookworm\n'
}

restart_daemons() {  # containers re-created over an existing cluster: others first, they vote for the master
  local m=$1 n started=
  for n in $(nodes_made | grep -vx "$m") "$m"; do
    [[ -f $STATE/$n/var-lib-ganeti/server.pem ]] || continue
    on "$n" /usr/lib/ganeti/daemon-util check ganeti-noded 2>/dev/null && continue
    on "$n" /usr/lib/ganeti/daemon-util start-all >&2 || true
    started=1
  done
  if [[ $started ]]; then
    on "$m" gnt-cluster activate-master-ip >&2 || true
    # the fake hypervisor kept its instances on the old /run: those marked up are ERROR_down until started
    local up_ones
    up_ones=$(on "$m" gnt-instance list --no-headers -o name,admin_state | awk '$2 == "up" {print $1}')
    if [[ -n $up_ones ]]; then
      # shellcheck disable=SC2086  # one argument per instance
      on "$m" gnt-instance startup --force-multiple $up_ones >&2 || true
    fi
  fi
}

init_cluster() {
  on node1 gnt-cluster init \
    --no-etc-hosts --no-ssh-init \
    --master-netdev="$BRIDGE" \
    --enabled-hypervisors=fake \
    --enabled-disk-templates=diskless,file,sharedfile \
    --file-storage-dir=/srv/ganeti/file-storage \
    --shared-file-storage-dir=/srv/ganeti/shared-file-storage \
    --nic-parameters=mode=bridged,link="$BRIDGE" \
    --ipolicy-bounds-specs=min:disk-size=0,cpu-count=1,disk-count=0,memory-size=1,nic-count=0,spindle-use=0/max:disk-size=1048576,cpu-count=8,disk-count=16,memory-size=32768,nic-count=8,spindle-use=12 \
    --ipolicy-vcpu-ratio=256 --ipolicy-spindle-ratio=1024 \
    --default-iallocator-params=-no-capacity-checks \
    "$CLUSTER" >&2
}

write_users() {  # on the master; redist-conf copies the file to the candidates
  local m=$1 users="$STATE/$1/var-lib-ganeti/rapi/users" want
  want=$(printf '%s %s write\n%s %s read' "$WRITER" "$WRITER_PASSWORD" "$READER" "$READER_PASSWORD")
  [[ -f $users && "$(cat "$users")" == "$want" ]] && return 1
  on "$m" bash -c "umask 027; printf '%s\n' '$want' >/var/lib/ganeti/rapi/users.tmp
    chown gnt-rapi:gnt-masterd /var/lib/ganeti/rapi/users.tmp
    mv /var/lib/ganeti/rapi/users.tmp /var/lib/ganeti/rapi/users"
}

export_cert() {
  local pem="$STATE/$(master)/var-lib-ganeti/rapi.pem"
  openssl x509 -in "$pem" -out "$STATE/rapi.crt"
  openssl x509 -in "$STATE/rapi.crt" -outform DER | sha256sum | cut -d' ' -f1 >"$STATE/rapi.sha256"
}

up() {
  need_root
  local count=${1:-${GNT_NODES:-3}} t0=$SECONDS
  [[ $count =~ ^[1-9]$ ]] || die "between 1 and $MAX_NODES nodes, not '$count'"
  mkdir -p "$STATE/ssh"
  install_packages
  names
  [[ -f $STATE/ssh/id_rsa ]] || ssh-keygen -q -t rsa -b 2048 -N '' -C fleet-real-ganeti -f "$STATE/ssh/id_rsa"
  local k m
  for k in $(seq 1 "$count"); do start_node "node$k"; done
  m=$(master)
  if [[ -f $STATE/$m/var-lib-ganeti/config.data ]]; then restart_daemons "$m"; else init_cluster; m=node1; fi
  local changed=; write_users "$m" && changed=1
  local known; known=$(on "$m" gnt-node list --no-headers -o name)
  for k in $(seq 1 "$count"); do
    grep -qx "node$k.example.test" <<<"$known" && continue
    on "$m" gnt-node add --no-ssh-key-check "node$k.example.test" >&2
    changed=1
  done
  if [[ $changed ]]; then on "$m" gnt-cluster redist-conf >&2; fi
  # ganeti-rapi re-reads its users file asynchronously: wait until both accounts are known
  for _ in $(seq 120); do
    rapi_answers "$WRITER" "$WRITER_PASSWORD" && rapi_answers "$READER" "$READER_PASSWORD" && break
    sleep 0.25
  done
  rapi_answers "$READER" "$READER_PASSWORD" || die "the RAPI at https://$CLUSTER_IP:$RAPI_PORT does not answer"
  export_cert
  log "up in $((SECONDS - t0)) s: https://$CLUSTER_IP:$RAPI_PORT ($CLUSTER, $count nodes, master $m)"
}

down() {
  need_root
  local t0=$SECONDS n
  if [[ -d $STATE ]]; then
    for n in $(nodes_made); do "$NS" down "$n"; done
  fi
  ip link del "$BRIDGE" 2>/dev/null || true
  sed -i "/^$MARK_BEGIN\$/,/^$MARK_END\$/d" /etc/hosts
  if [[ -f $STATE/made-host-keys ]]; then rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub; fi
  if [[ -f $STATE/made-root-ssh ]]; then rmdir /root/.ssh 2>/dev/null || true; fi
  if [[ -f $STATE/made-srv-ganeti ]]; then
    rmdir /srv/ganeti 2>/dev/null || true
  fi
  rm -rf "$STATE"
  log "down in $((SECONDS - t0)) s"
}

target() {
  [[ -f $STATE/rapi.crt ]] || die "not up"
  python3 - "$CLUSTER" "$CLUSTER_IP" "$RAPI_PORT" "$(cat "$STATE/rapi.sha256")" "$STATE/rapi.crt" \
    "$WRITER" "$WRITER_PASSWORD" "$READER" "$READER_PASSWORD" <<'EOF'
import json, sys
keys = ["name", "host", "port", "fingerprint", "cert_file", "username", "password", "reader", "reader_password"]
values = dict(zip(keys, sys.argv[1:]))
values["port"] = int(values["port"])
print(json.dumps(values))
EOF
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  status) rapi_answers "$WRITER" "$WRITER_PASSWORD" ;;
  target) target ;;
  gnt) shift; on "$(master)" "$@" ;;
  *) echo "usage: $0 up [N] | down | status | target | gnt CMD..." >&2; exit 2 ;;
esac
