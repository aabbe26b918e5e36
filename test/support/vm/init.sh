#!/bin/busybox sh
# /init of the boot-test initramfs (test/support/vm/initramfs.ts fills in the @…@ placeholders).
# Console output is what the test reads, so every step says what happened; every failure path
# still powers off, so QEMU exits instead of hanging until the test's timeout.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo "@STARTED@"
off() { echo "@POWEROFF@"; sync; poweroff -f; sleep 5; echo o > /proc/sysrq-trigger; }
for m in $(cat /etc/modules.order 2>/dev/null); do insmod "/lib/modules/$m" || echo "SKYBOOT-VM: insmod $m failed"; done
HB="@DEFAULT_URL@"; BOOTIF=""; XNAME=""
for tok in $(cat /proc/cmdline); do
  case "$tok" in
    skyboot.heartbeat=*) HB="${tok#*=}" ;;
    BOOTIF=*) BOOTIF="${tok#*=}" ;;
    xname=*) XNAME="${tok#*=}" ;;
  esac
done
# BOOTIF is 01-aa-bb-cc-dd-ee-ff (hardware type, then the MAC).
MAC=""
[ -n "$BOOTIF" ] && MAC=$(echo "${BOOTIF#??-}" | tr 'A-F-' 'a-f:')
ip link set lo up
IFACE=""
i=0
while [ -z "$IFACE" ] && [ $i -lt 50 ]; do
  for d in /sys/class/net/*; do
    n=${d##*/}
    [ "$n" = lo ] && continue
    a=$(cat "$d/address")
    if [ -z "$MAC" ] || [ "$a" = "$MAC" ]; then IFACE=$n; MAC=$a; break; fi
  done
  [ -z "$IFACE" ] && { sleep 0.2; i=$((i+1)); }
done
[ -z "$IFACE" ] && { echo "@NONIC@ (looked for ${MAC:-any})"; ls /sys/class/net; off; }
ip link set "$IFACE" up
if ! udhcpc -i "$IFACE" -s /etc/udhcpc.script -n -q -t 10 -T 2 -f; then echo "@NOLEASE@ on $IFACE"; off; fi
IP=$(ip -4 -o addr show dev "$IFACE" | awk '{print $4}' | cut -d/ -f1)
echo "@ADDRESS@ $IP on $IFACE ($MAC) xname=$XNAME"
[ -z "$HB" ] && { echo "@NOURL@"; off; }
BODY="{\"xname\":\"$XNAME\",\"mac\":\"$MAC\",\"ip\":\"$IP\",\"status\":\"booted\",\"source\":\"skyboot-test-initramfs\"}"
n=0
while [ $n -lt 5 ]; do
  # No wget -T: Debian's static busybox 1.35 segfaults with it; busybox timeout bounds it instead.
  if timeout 15 wget -q -O /tmp/reply --header 'Content-Type: application/json' --post-data "$BODY" "$HB"; then
    echo "@HBOK@ $HB reply=$(head -c 300 /tmp/reply | tr '\n' ' ')"
    off
  fi
  n=$((n+1)); sleep 2
done
echo "@HBFAILED@ $HB after 5 attempts"
off
