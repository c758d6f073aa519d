#!/bin/bash
# msrp-edge <-> msrp-edge over mutual TLS (RFC 4976 sections 6.1 and 9.2:
# verify-relays=true, certificates from tests/data/gen-test-certs.sh), with
# clients over TCP and over TLS to their relay:
#
#   bob    -- TLS --> edge2                      (receiver, AUTH to edge2)
#   alice  -- TCP --> edge1 == mTLS ==> edge2    (AUTH to edge1, then to edge2
#                                                 through edge1: a *relay*
#                                                 session at edge2)
#   carol  -- TLS --> edge1 == mTLS ==> edge2    (the same pooled TLS
#                                                 connection, RFC 4975 6.1)
#   dave   -- TCP --> edge3 (rogue CA) =X=> edge2  refused: edge2 does not
#                                                 trust edge3's certificate,
#                                                 dave gets 408, bob nothing
#
# Texts and a 4 MiB file in 1 MB chunks arrive byte-exact; the log streams
# show the TLS connections, the relay session and the refusal.
#
# Usage: relay-tls.sh MSRP-EDGE MSRPCAT GEN-TEST-CERTS.SH
set -euo pipefail
MSRP_EDGE="$1"
MSRPCAT="$2"
gen_certs="$3"
. "$(dirname "$0")/lib.sh"

pki="$WORK/pki"
mkdir -p "$pki"
sh "$gen_certs" "$pki" || fail "gen-test-certs.sh failed"
size=$((4 * 1024 * 1024 + 5))
head -c "$size" /dev/urandom >"$WORK/file.bin"

tls_conf () {   # CERT-NAME USERS-FILE REALM
  printf '[tls]\ncertificate=%s/%s.pem\nprivate-key=%s/%s.key\nca-file=%s/ca.pem\nverify-relays=true\n[auth]\nrealm=%s\nusers-file=%s\n' \
    "$pki" "$1" "$pki" "$1" "$pki" "$3" "$2"
}
users_file "$WORK/users1" edge1.test alice:alice-pw:sha256 carol:carol-pw:md5
users_file "$WORK/users2" edge2.test alice:alice-pw:sha256 bob:bob-pw:sha256
users_file "$WORK/users3" edge3.test dave:dave-pw:sha256
edge_start edge1 --tls "$(tls_conf server "$WORK/users1" edge1.test)"
edge_start edge2 --tls "$(tls_conf server "$WORK/users2" edge2.test)"
edge_start edge3 --tls "$(tls_conf rogue "$WORK/users3" edge3.test)"

# --- bob over TLS to edge2 ------------------------------------------------------
mc_start recv --relay "$edge2_tls_uri" --ca-file "$pki/ca.pem" -u bob -P bob-pw \
  --receive --print-use-path --expect 3 -o "$WORK/out" --json -T 60
path=$(mc_path recv)
[[ "$path" =~ ^msrps://127\.0\.0\.1:$edge2_tls_port/[A-Za-z0-9]{16}\;tcp\ msrps://127\.0\.0\.1:[0-9]+/[A-Za-z0-9]+\;tcp$ ]] ||
  fail "bob's path: $path"
log_match "$WORK/edge2.log" connection_accepted transport=tls >/dev/null ||
  fail "edge2 logged no TLS connection from bob"

# --- alice over TCP, AUTH to edge1 and through it to edge2 -------------------------
mc_run alice --relay "$edge1_uri" --relay "$edge2_tls_uri" -u alice -P alice-pw \
  --to-path "$path" -m "alice through two relays" -f "$WORK/file.bin" -c 1M \
  --success-report yes --json
[ "$rc" -eq 0 ] || fail "alice: exit $rc"
use_path=$(json_last "$WORK/alice.out" 'd["use_path"]')
[[ "$use_path" =~ ^msrp://127\.0\.0\.1:$edge1_port/[A-Za-z0-9]{16}\;tcp\ msrps://127\.0\.0\.1:$edge2_tls_port/[A-Za-z0-9]{16}\;tcp$ ]] ||
  fail "alice's Use-Path: $use_path"
[ "$(json_last "$WORK/alice.out" 'd["sent"]["success_reports"]')" = 2 ] ||
  fail "alice did not get 2 Success REPORTs"
log_match "$WORK/edge2.log" session_created kind=relay relay=127.0.0.1 user=alice >/dev/null ||
  fail "edge2 did not make a relay session for alice behind edge1: $(log_match "$WORK/edge2.log" session_created user=alice)"
log_match "$WORK/edge1.log" connection_opened peer="127.0.0.1:$edge2_tls_port" transport=tls \
  >/dev/null || fail "edge1 did not open a TLS connection to edge2"
[ "$(log_count "$WORK/edge2.log" connection_accepted transport=tls)" = 2 ] ||
  fail "edge2 did not accept 2 TLS connections (bob, edge1)"
note "alice (TCP) -> edge1 => mTLS => edge2 -> bob (TLS): relay session at edge2, Success REPORTs"

# --- dave through edge3, whose certificate edge2 does not trust -------------------
# dave asks for a Success REPORT: edge3's 200 is hop-by-hop (RFC 4976
# section 6.4.1), only a REPORT tells him what became of the message.
mc_run dave --relay "$edge3_uri" -u dave -P dave-pw --to-path "$path" \
  -m "from the rogue relay" --success-report yes -T 30
[ "$rc" -eq 1 ] || fail "dave through the rogue relay: exit $rc, not 1"
grep -q '408' "$WORK/dave.err" || fail "dave's error: $(cat "$WORK/dave.err")"
wait_log "$WORK/edge2.log" 10 connection_closed reason=tls ||
  fail "edge2 did not close the rogue relay's connection for TLS"
log_match "$WORK/edge3.log" connection_closed direction=outbound >/dev/null ||
  fail "edge3 logged no failed connection to edge2"
log_match "$WORK/edge2.log" auth_ok user=dave >/dev/null && fail "dave got through"
log_match "$WORK/edge2.log" message_relayed conn="$(log_field "$WORK/edge2.log" connection_closed conn reason=tls)" \
  >/dev/null && fail "edge2 relayed something from the rogue relay"
note "a relay with an untrusted certificate is refused (TLS), its client gets 408"

# --- carol over TLS to edge1: the same pooled edge1 -> edge2 connection -------------
mc_run carol --relay "$edge1_tls_uri" --ca-file "$pki/ca.pem" -u carol -P carol-pw \
  --to-path "$path" -m "carol over TLS" --success-report yes --json
[ "$rc" -eq 0 ] || fail "carol: exit $rc"
mc_wait recv 30
[ "$rc" -eq 0 ] || fail "bob: exit $rc"
[ "$(log_count "$WORK/edge1.log" connection_opened peer="127.0.0.1:$edge2_tls_port")" = 1 ] ||
  fail "edge1 did not reuse its connection to edge2"
texts=""
for f in "$WORK"/out/*; do
  if [ "$(stat -c %s "$f")" = "$size" ]; then
    cmp "$WORK/file.bin" "$f" || fail "the file differs at bob's"
  else
    texts+="$(cat "$f");"
  fi
done
[ "$texts" = "alice through two relays;carol over TLS;" ] ||
  [ "$texts" = "carol over TLS;alice through two relays;" ] || fail "texts at bob's: $texts"
note "carol (TLS) -> edge1 => edge2 on the pooled connection; bob got exactly 3 messages"

edge_stop edge1
edge_stop edge2
edge_stop edge3
echo "relay tls: ok"
