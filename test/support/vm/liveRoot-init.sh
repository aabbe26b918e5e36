#!/bin/sh
# /sbin/init of the iSCSI boot test root (test/support/vm/liveRoot.ts). dracut has brought the
# NIC up, logged in to the portals, formed the multipath map and switched to this root; the
# network configuration survives the switch, so the heartbeat goes out over the same NIC.
export PATH=/bin:/sbin
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo "SKYBOOT-ROOT: init started"
off() { echo "SKYBOOT-ROOT: powering off"; sync; poweroff -f; sleep 5; echo o > /proc/sysrq-trigger; }

HB=""; XNAME=""; BOOTIF=""; TOKEN=""; ROUNDS=60
for tok in $(cat /proc/cmdline); do
  case "$tok" in
    skyboot.heartbeat=*) HB="${tok#*=}" ;;
    skyboot.rounds=*) ROUNDS="${tok#*=}" ;;
    skyboot.token=*) TOKEN="${tok#*=}" ;;
    xname=*) XNAME="${tok#*=}" ;;
    BOOTIF=*) BOOTIF="${tok#*=}" ;;
  esac
done
MAC=""
[ -n "$BOOTIF" ] && MAC=$(echo "${BOOTIF#??-}" | tr 'A-F-' 'a-f:')

# The live root: dmsquash-live mounts the squashfs at /run/rootfsbase; its source is the
# multipath map (dm-N) whose slaves are the iSCSI disks.
BASE=$(grep ' /run/rootfsbase ' /proc/mounts | cut -d' ' -f1)
DM=""
for d in /sys/block/dm-*; do
  [ -e "$d/dm/uuid" ] || continue
  case "$(cat "$d/dm/uuid")" in mpath-*) DM=${d##*/} ;; esac
done
paths() { [ -n "$DM" ] && ls /sys/block/$DM/slaves 2>/dev/null | tr '\n' ' '; }
active() {
  # A path multipath still uses is a slave whose SCSI device is running.
  n=0
  for s in $(paths); do
    [ "$(cat /sys/block/$s/device/state 2>/dev/null)" = running ] && n=$((n+1))
  done
  echo $n
}
SESSIONS=$(ls -d /sys/class/iscsi_session/session* 2>/dev/null | wc -l)
PORTALS=$(cat /sys/class/iscsi_connection/*/persistent_address 2>/dev/null | tr '\n' ' ')
IFACE=$(ip -4 -o route show default 2>/dev/null | awk '{print $5}' | head -n 1)
[ -z "$IFACE" ] && IFACE=$(ip -4 -o addr show | awk '$2 != "lo" {print $2; exit}')
IP=$(ip -4 -o addr show dev "$IFACE" | awk '{print $4}' | cut -d/ -f1)
echo "SKYBOOT-ROOT: root base=$BASE map=$DM paths=$(paths)sessions=$SESSIONS portals=$PORTALS ip=$IP"

beat() {
  BODY="{\"xname\":\"$XNAME\",\"mac\":\"$MAC\",\"ip\":\"$IP\",\"status\":\"$1\",\"bootToken\":\"$TOKEN\",\"source\":\"skyboot-test-liveroot\",\"root\":{\"device\":\"$BASE\",\"multipath\":\"$DM\",\"paths\":\"$(paths)\",\"activePaths\":$(active),\"iscsiSessions\":$SESSIONS,\"portals\":\"$PORTALS\"},\"round\":$2}"
  # No wget -T: Debian's static busybox 1.35 segfaults with it; busybox timeout bounds it instead.
  if timeout 15 wget -q -O /tmp/reply --header 'Content-Type: application/json' --post-data "$BODY" "$HB"; then
    echo "SKYBOOT-ROOT: heartbeat ok round=$2 active=$(active)"
  else
    echo "SKYBOOT-ROOT: heartbeat failed round=$2"
  fi
}

[ -z "$HB" ] && { echo "SKYBOOT-ROOT: no skyboot.heartbeat= on the kernel command line"; off; }
beat booted 0
i=0
while [ "$i" -lt "$ROUNDS" ]; do
  i=$((i+1))
  echo 3 > /proc/sys/vm/drop_caches
  if timeout 60 dd if=/payload.bin of=/dev/null bs=1M 2>/dev/null; then
    echo "SKYBOOT-ROOT: read ok round=$i active=$(active)"
  else
    echo "SKYBOOT-ROOT: read failed round=$i active=$(active)"
  fi
  beat running "$i"
  sleep 2
done
off
