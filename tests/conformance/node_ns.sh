#!/usr/bin/env bash
# One Ganeti "node" as a namespace container on this machine, for real_ganeti.sh.
#
#   node_ns.sh up NAME IP       start container NAME (hostname NAME.$GNT_DOMAIN, address IP/24 on its gntbr0)
#   node_ns.sh exec NAME CMD…   run CMD inside the container (all its namespaces)
#   node_ns.sh running NAME     exit 0 if the container runs
#   node_ns.sh down NAME        kill the container: every process in it dies with its PID 1
#
# A container has its own network, UTS, PID and mount namespaces. Its network is a veth whose host end sits in
# the host bridge and whose inner end is enslaved to a bridge of the same name inside, so that Ganeti's master
# netdev and the instances' NIC link exist under one name on every node. Its PID 1 reaps orphans: Ganeti's
# daemons double-fork, and unreaped zombies make start-stop-daemon believe a stopped daemon still runs. The
# directories Ganeti writes (/var/lib/ganeti, /var/log/ganeti, /etc/ganeti, /etc/default/ganeti, /etc/ssh,
# /root/.ssh, /srv/ganeti) are private bind mounts of $GNT_NS_STATE/NAME/…, and /run is a tmpfs; the rest of
# the file system (/usr, /etc/hosts, /tmp) is the host's. One host directory is every node's
# /srv/ganeti/shared-file-storage, so sharedfile instances can move between nodes.
set -euo pipefail

STATE=${GNT_NS_STATE:-/var/tmp/fleet-real-ganeti}
DOMAIN=${GNT_DOMAIN:-example.test}
BRIDGE=${GNT_BRIDGE:-gntbr0}
HOST_ADDRESS=${GNT_HOST_ADDRESS:-10.77.0.1}
# PID 1 of a container: waits for any child, forever
REAPER='import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.5)'

die() { echo "node_ns: $*" >&2; exit 1; }

init_pid() {  # the host pid of the container's PID 1, if it runs
  local file="$STATE/$1/init.pid" pid
  [[ -s $file ]] || return 1
  pid=$(<"$file")
  [[ -d /proc/$pid ]] || return 1
  echo "$pid"
}

host_veth() { local v="gv-$1"; echo "${v:0:15}"; }

host_bridge() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  [[ $(ip -o addr show dev "$BRIDGE") == *" $HOST_ADDRESS/"* ]] || ip addr add "$HOST_ADDRESS/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

private_dirs() {  # first start only: the node's own copies of the configuration Ganeti and sshd change
  local d=$1
  mkdir -p "$d"/{var-lib-ganeti,var-log-ganeti,root-ssh,srv-ganeti} "$STATE/shared-file-storage"
  chmod 700 "$d/root-ssh"
  [[ -d $d/etc-ganeti ]] || cp -a /etc/ganeti "$d/etc-ganeti"
  [[ -d $d/etc-ssh ]] || cp -a /etc/ssh "$d/etc-ssh"
  # the RAPI listens on every address of the node, so that the host reaches the cluster address
  [[ -f $d/etc-default-ganeti ]] || sed 's/^RAPI_ARGS=.*/RAPI_ARGS="-b 0.0.0.0 --require-authentication"/' \
    /etc/default/ganeti >"$d/etc-default-ganeti"
}

cmd_up() {
  local name=$1 address=$2 d="$STATE/$1" pid="" launcher
  if pid=$(init_pid "$name"); then return 0; fi
  host_bridge
  private_dirs "$d"
  setsid unshare --pid --fork --mount-proc --mount --uts --net --propagation private \
    /usr/bin/python3 -c "$REAPER" </dev/null >/dev/null 2>&1 &
  launcher=$!
  for _ in $(seq 100); do
    pid=$(ps -o pid= --ppid "$launcher" | tr -d ' ' || true)
    [[ -n $pid ]] && break
    sleep 0.05
  done
  [[ -n $pid ]] || die "container $name did not start"
  echo "$pid" >"$d/init.pid"

  local veth; veth=$(host_veth "$name")
  ip link del "$veth" 2>/dev/null || true
  ip link add "$veth" type veth peer name eth0 netns "$pid"
  ip link set "$veth" master "$BRIDGE" up

  # /root/.ssh and /srv/ganeti are mount points on the host's file system: note whether they were there
  [[ -e /root/.ssh || -e $STATE/made-root-ssh ]] || touch "$STATE/made-root-ssh"
  [[ -e /srv/ganeti || -e $STATE/made-srv-ganeti ]] || touch "$STATE/made-srv-ganeti"
  nsenter -t "$pid" -m -u -n -p -- /bin/bash -euc "
    hostname '$name.$DOMAIN'
    mount -t tmpfs -o mode=755 tmpfs /run
    mkdir -p /run/lock /run/sshd /run/ganeti
    mount -t sysfs sysfs /sys   # NIC mode bridged checks /sys/class/net/LINK/bridge
    mount --bind '$d/var-lib-ganeti' /var/lib/ganeti
    mount --bind '$d/var-log-ganeti' /var/log/ganeti
    mount --bind '$d/etc-ganeti' /etc/ganeti
    mount --bind '$d/etc-default-ganeti' /etc/default/ganeti
    mount --bind '$d/etc-ssh' /etc/ssh
    mkdir -p /root/.ssh /srv/ganeti
    mount --bind '$d/root-ssh' /root/.ssh
    mount --bind '$d/srv-ganeti' /srv/ganeti
    mkdir -p /srv/ganeti/file-storage /srv/ganeti/shared-file-storage
    mount --bind '$STATE/shared-file-storage' /srv/ganeti/shared-file-storage
    printf '/srv/ganeti/file-storage\n/srv/ganeti/shared-file-storage\n' >/etc/ganeti/file-storage-paths
    ip link set lo up
    ip link add '$BRIDGE' type bridge
    ip link set eth0 master '$BRIDGE' up
    ip addr add '$address/24' dev '$BRIDGE'
    ip link set '$BRIDGE' up
    /usr/sbin/sshd -o PidFile=/run/sshd.pid
  "
}

cmd_down() {
  local name=$1 pid
  if pid=$(init_pid "$name"); then
    kill -KILL "$pid"
    for _ in $(seq 100); do [[ -d /proc/$pid ]] || break; sleep 0.05; done
  fi
  rm -f "$STATE/$name/init.pid"
  ip link del "$(host_veth "$name")" 2>/dev/null || true
}

case "${1:-}" in
  up) [[ $# -eq 3 ]] || die "usage: $0 up NAME IP"; cmd_up "$2" "$3" ;;
  exec) [[ $# -ge 3 ]] || die "usage: $0 exec NAME CMD..."
    name=$2; shift 2
    pid=$(init_pid "$name") || die "container $name is not running"
    nsenter -t "$pid" -m -u -n -p --wd=/ -- "$@" ;;
  running) init_pid "${2:?}" >/dev/null ;;
  down) cmd_down "${2:?}" ;;
  *) die "usage: $0 up NAME IP | exec NAME CMD... | running NAME | down NAME" ;;
esac
