#!/bin/bash
# Relay chains of msrp-edge with Kamailio's msrp module (another RFC 4976
# relay, tests/integration/kamailio-msrp.cfg.in), over TCP, in both orders;
# each client AUTHs to its own relay:
#
#   1. alice -> msrp-edge -> Kamailio -> bob   (msrp-edge opens a connection
#                                               to Kamailio as its next hop)
#   2. alice -> Kamailio -> msrp-edge -> bob   (Kamailio connects to us)
#
# Each way: two text messages and a file in 2 KB chunks (Kamailio buffers
# whole frames, about 14 KB at most), byte-exact at the far end, Success
# REPORTs back to the sender through both relays, and msrp-edge's log:
# one message_relayed per message, delivered and acknowledged.
#
# Usage: relay-kamailio.sh MSRP-EDGE MSRPCAT
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
. "$(dirname "$0")/lib.sh"

realm=relay.test
size=$((512 * 1024 + 100))
chunks=$(( (size + 2047) / 2048 + 2 ))   # the file's chunks and 2 texts
users_file "$WORK/users" "$realm" alice:alice-pw:md5 alice:alice-pw:sha256 \
  bob:bob-pw:sha256
edge_start edge "[auth]\nrealm=$realm\nusers-file=$WORK/users"
kam_start kam kam.test kam-pw
head -c "$size" /dev/urandom >"$WORK/file.bin"

# check_delivery ORDER: bob's directory holds both texts and the file, the
# sender got a 200 for each chunk and a Success REPORT for each message,
# and msrp-edge logged each message delivered.
check_delivery () {
  local order="$1" f texts=0 mid
  [ "$(ls "$WORK/out$order" | wc -l)" = 3 ] ||
    fail "order $order: $(ls "$WORK/out$order" | wc -l) messages at the far end, not 3"
  for f in "$WORK/out$order"/*; do
    case "$(stat -c %s "$f")" in
      "$size") cmp "$WORK/file.bin" "$f" || fail "order $order: the file differs" ;;
      *) texts=$((texts + 1))
         grep -qx "chain $order message [12]" "$f" || fail "order $order: text '$(cat "$f")'" ;;
    esac
  done
  [ "$texts" = 2 ] || fail "order $order: $texts texts"
  [ "$(json_last "$WORK/send$order.out" 'd["sent"]["responses"].get("200")')" = "$chunks" ] ||
    fail "order $order: the sender did not get $chunks x 200"
  [ "$(json_last "$WORK/send$order.out" 'd["sent"]["success_reports"]')" = 3 ] ||
    fail "order $order: the sender did not get 3 Success REPORTs"
  for mid in $(json_last "$WORK/recv$order.out" '" ".join(m["message_id"] for m in d["received"]["list"])'); do
    log_match "$WORK/edge.log" message_relayed message_id="$mid" outcome=delivered \
      acknowledged=true >/dev/null || fail "order $order: no message_relayed for $mid"
  done
}

# --- 1: alice -> msrp-edge -> Kamailio -> bob --------------------------------------
mc_start recv1 --relay "$kam_uri" -u bob -P kam-pw --receive --print-use-path \
  --expect 3 -o "$WORK/out1" --json -T 60
path=$(mc_path recv1)
[[ "$path" == "msrp://127.0.0.1:$kam_port/"* ]] || fail "bob's path at Kamailio: $path"
mc_run send1 --relay "$edge_uri" -u alice -P alice-pw --to-path "$path" \
  -m "chain 1 message 1" -m "chain 1 message 2" -f "$WORK/file.bin" -c 2k \
  --success-report yes --json
[ "$rc" -eq 0 ] || fail "order 1: sender exit $rc"
mc_wait recv1 30
[ "$rc" -eq 0 ] || fail "order 1: receiver exit $rc"
check_delivery 1
log_match "$WORK/edge.log" connection_opened peer="127.0.0.1:$kam_port" transport=tcp \
  >/dev/null || fail "order 1: msrp-edge did not connect to Kamailio"
note "alice -> msrp-edge -> Kamailio -> bob: 2 texts and $size bytes in 2 KB chunks, Success REPORTs"

# --- 2: alice -> Kamailio -> msrp-edge -> bob --------------------------------------
mc_start recv2 --relay "$edge_uri" -u bob -P bob-pw --receive --print-use-path \
  --expect 3 -o "$WORK/out2" --json -T 60
path=$(mc_path recv2)
mc_run send2 --relay "$kam_uri" -u alice -P kam-pw --to-path "$path" \
  -m "chain 2 message 1" -m "chain 2 message 2" -f "$WORK/file.bin" -c 2k \
  --success-report yes --json
[ "$rc" -eq 0 ] || fail "order 2: sender exit $rc"
mc_wait recv2 30
[ "$rc" -eq 0 ] || fail "order 2: receiver exit $rc"
check_delivery 2
# The messages came in on a connection from Kamailio, not from alice.
alice_local=$(json_last "$WORK/send2.out" 'd["local_uri"].split("/")[2]')
mid=$(json_last "$WORK/recv2.out" 'd["received"]["list"][0]["message_id"]')
conn=$(log_field "$WORK/edge.log" message_relayed conn message_id="$mid")
peer=$(log_field "$WORK/edge.log" connection_accepted peer conn="$conn")
[ "$peer" != "$alice_local" ] && [[ "$peer" == 127.0.0.1:* ]] ||
  fail "order 2: relayed on connection $conn from $peer"
note "alice -> Kamailio -> msrp-edge -> bob: 2 texts and $size bytes in 2 KB chunks, Success REPORTs"

kam_stop kam
edge_stop edge
echo "relay kamailio: ok"
