#!/usr/bin/env bash
# The network lab's topology, in Linux network namespaces (root only):
#
#   client A 198.51.100.10 ── router A ── 203.0.113.101 ┐
#     (ipl-ca)    LAN /25      (ipl-ra)   NAT           │  "public" bridge (ipl-pub)
#                                                       ├─ 203.0.113.10-12  backends (+ embedded TURN)
#   client B 198.51.100.140 ─ router B ── 203.0.113.102 ┘  203.0.113.20-21  coturn A and B
#     (ipl-cb)    LAN /25      (ipl-rb)   NAT              default route → a silent "sink"
#
# Only documentation addresses; nothing is routed to or from the root namespace.
# The public side's default route goes into a silent sink: coturn tears an
# allocation down when sending to a peer's private address fails loudly (no
# route, unanswered ARP, ICMP), and a sink makes such packets just vanish. The
# sink is a veth pair whose far end drops them (they carry another host's MAC:
# a fake gateway with a permanent neighbour entry, so nothing is ever ARPed).
#
#   topology.sh up                      build it (removing any leftover first)
#   topology.sh down                    remove every namespace and the processes in them
#   topology.sh nat a|b cone|symmetric  the router's NAT mode (flushes its conntrack)
#   topology.sh udp a|b block|allow     drop (or not) UDP from the router's LAN
#   topology.sh tlsonly a|b on|off      let only TCP to ports 443 and 8080 out of the router's LAN (or all)
#   topology.sh readdress a|b [flap]    move the client to a new LAN address (old NAT mappings flushed);
#                                       flap: its link goes down meanwhile, as when a device switches networks
#   topology.sh impair a|b <loss %> [up]  drop that share of everything the router forwards (0: none);
#                                       with `up`, only what its client sends (the uplink)
#   topology.sh exists                  exit 0 if any lab namespace exists
set -euo pipefail
P="${LAB_PREFIX:-ipl}"
PUB="$P-pub"
ALL=("$P-ca" "$P-cb" "$P-ra" "$P-rb" "$PUB")
in_ns() { ip netns exec "$1" "${@:2}"; }

down() {
  for n in "${ALL[@]}"; do
    if ip netns list | grep -qw "$n"; then
      # Every process still in it (servers, browsers), then the namespace.
      ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
      ip netns del "$n" 2>/dev/null || true
    fi
  done
  # veth ends left in the root namespace by a run killed half-way through set-up.
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$P-" || true); do
    ip link del "$link" 2>/dev/null || true
  done
}

# router NAME WAN_IP LAN_CIDR CLIENT_NS CLIENT_CIDR
router() {
  local r="$1" wan="$2" lan="$3" client="$4" caddr="$5"
  ip link add "$r-w" type veth peer name "$r-p"
  ip link set "$r-w" netns "$r"
  ip link set "$r-p" netns "$PUB"
  in_ns "$PUB" ip link set "$r-p" master br0 up
  in_ns "$r" ip link set "$r-w" name wan
  in_ns "$r" ip addr add "$wan/24" dev wan
  in_ns "$r" ip link set wan up
  ip link add "$r-l" type veth peer name "$client-e"
  ip link set "$r-l" netns "$r"
  ip link set "$client-e" netns "$client"
  in_ns "$r" ip link set "$r-l" name lan
  in_ns "$r" ip addr add "$lan" dev lan
  in_ns "$r" ip link set lan up
  in_ns "$r" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$client" ip link set "$client-e" name eth0
  in_ns "$client" ip addr add "$caddr" dev eth0
  in_ns "$client" ip link set eth0 up
  in_ns "$client" ip route add default via "${lan%/*}"
}

up() {
  down
  for n in "${ALL[@]}"; do
    ip netns add "$n"
    in_ns "$n" ip link set lo up
  done
  in_ns "$PUB" ip link add br0 type bridge
  in_ns "$PUB" ip link set br0 up
  for host in 10 11 12 20 21; do
    in_ns "$PUB" ip addr add "203.0.113.$host/24" dev br0
  done
  in_ns "$PUB" ip link add sink type veth peer name sink-drop
  in_ns "$PUB" ip link set sink up
  in_ns "$PUB" ip link set sink-drop up
  in_ns "$PUB" ip neigh add 169.254.0.1 lladdr 02:00:5e:00:53:01 dev sink nud permanent
  in_ns "$PUB" ip route add default via 169.254.0.1 dev sink onlink
  router "$P-ra" 203.0.113.101 198.51.100.1/25 "$P-ca" 198.51.100.10/25
  router "$P-rb" 203.0.113.102 198.51.100.129/25 "$P-cb" 198.51.100.140/25
  nat a cone
  nat b cone
}

# The router's whole ruleset: NAT on the way out, and a stateful filter that
# drops anything inbound that no mapping expects (which also keeps cone
# mappings stable). symmetric = a random port for every new flow, i.e. a
# different mapping per destination, so STUN-learnt addresses are useless to
# the other peer; cone = masquerade's port preservation, one mapping for all
# destinations (endpoint-independent). UDP blocking lives in its own chain.
nat() {
  local r="$P-r$1" flags=""
  [[ "$2" == symmetric ]] && flags="random"
  in_ns "$r" nft -f - <<EOF
flush ruleset
table ip lab {
  chain block { }
  # Unsolicited packets to the router itself are dropped before conntrack
  # confirms them: a confirmed entry for a peer's early check would make
  # masquerade pick another port for our own packets to that peer, and the
  # cone mapping the peer learnt through STUN would stop being true.
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" drop
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" jump block
    iifname "lan" oifname "wan" accept
  }
  chain postrouting {
    type nat hook postrouting priority srcnat;
    oifname "wan" masquerade $flags
  }
}
EOF
  in_ns "$r" conntrack -F >/dev/null 2>&1 || true
}

udp() {
  local r="$P-r$1"
  in_ns "$r" nft flush chain ip lab block
  if [[ "$2" == block ]]; then
    in_ns "$r" nft add rule ip lab block meta l4proto udp drop
  fi
  in_ns "$r" conntrack -F >/dev/null 2>&1 || true
}

# A corporate firewall that lets only TLS out: no UDP, TCP to port 443 (TURN
# over TLS) and 8080 (the lab backend's web server, HTTPS in a real one) only.
tlsonly() {
  local r="$P-r$1"
  in_ns "$r" nft flush chain ip lab block
  if [[ "$2" == on ]]; then
    in_ns "$r" nft add rule ip lab block meta l4proto udp drop
    in_ns "$r" nft add rule ip lab block tcp dport != '{ 443, 8080 }' drop
  fi
  in_ns "$r" conntrack -F >/dev/null 2>&1 || true
}

# A new address for the client (the next one up) and no old NAT mapping:
# what a laptop moving to another network looks like to its peer.
readdress() {
  local side="$1" flap="${2:-}" client="$P-c$1" r="$P-r$1" old new gw
  old="$(in_ns "$client" ip -4 -o addr show dev eth0 | awk '{print $4}' | head -1)"
  local addr="${old%/*}"
  new="${addr%.*}.$((${addr##*.} + 1))/25"
  gw="$(in_ns "$client" ip route show default | awk '{print $3}')"
  [[ "$flap" == flap ]] && in_ns "$client" ip link set eth0 down
  # Old address gone first (its default route goes with it), then the new one.
  in_ns "$client" ip addr del "$old" dev eth0
  in_ns "$client" ip addr add "$new" dev eth0
  [[ "$flap" == flap ]] && in_ns "$client" ip link set eth0 up
  in_ns "$client" ip route replace default via "$gw"
  in_ns "$r" conntrack -F >/dev/null 2>&1 || true
  echo "${new%/*}"
}

# Packet loss without netem (this kernel has none): nftables' numgen drops
# a random share of the packets forwarded, both directions.
impair() {
  local r="$P-r$1" loss="$2" from=()
  [[ "${3:-}" == up ]] && from=(iifname lan)
  in_ns "$r" nft list chain ip lab impair >/dev/null 2>&1 ||
    in_ns "$r" nft add chain ip lab impair '{ type filter hook forward priority -10; policy accept; }'
  in_ns "$r" nft flush chain ip lab impair
  if ((loss >= 100)); then
    in_ns "$r" nft add rule ip lab impair "${from[@]}" drop
  elif ((loss > 0)); then
    in_ns "$r" nft add rule ip lab impair "${from[@]}" numgen random mod 100 lt "$loss" drop
  fi
}

exists() {
  for n in "${ALL[@]}"; do
    ip netns list | grep -qw "$n" && return 0
  done
  return 1
}

cmd="${1:-}"
shift || true
case "$cmd" in
  up | down | exists) "$cmd" ;;
  nat | udp | tlsonly | readdress | impair) "$cmd" "$@" ;;
  *) echo "usage: $0 up|down|exists|nat a|b cone|symmetric|udp a|b block|allow|tlsonly a|b on|off|readdress a|b [flap]|impair a|b <loss %> [up]" >&2; exit 2 ;;
esac
