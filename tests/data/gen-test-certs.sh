#!/bin/sh
# Make a throwaway PKI for TLS tests in DIR (which must exist), with the
# openssl command.  Nothing here is committed but this script: the keys
# exist only for one test run.
#
#   ca.pem                 test CA ("msrp-edge test CA")
#   server.pem server.key  CN=relay.test, SAN DNS:relay.test, DNS:localhost,
#                          IP:127.0.0.1, IP:::1 (a relay: server and client)
#   client.pem client.key  CN=client-relay.test, SAN DNS:client-relay.test
#   farm.pem farm.key      CN=farm.test, SAN DNS:farm.test, DNS:*.farm.test:
#                          every member of a relay farm found by SRV
#                          presents it (RFC 4976 section 9.2: the name
#                          checked is the URI's host, the farm's, not the
#                          SRV target's)
#   rogue-ca.pem           a CA nobody trusts
#   rogue.pem rogue.key    CN=rogue-relay.test, issued by rogue-ca
#
# EC P-256 keys (fast to make); valid for two days.
set -eu

dir=${1:?usage: gen-test-certs.sh DIR}
cd "$dir"

# A configuration of our own, so that the host's openssl.cnf cannot change
# the result.
cat > openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:relay.test, DNS:localhost, IP:127.0.0.1, IP:::1
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:client-relay.test
authorityKeyIdentifier = keyid
[farm_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:farm.test, DNS:*.farm.test
authorityKeyIdentifier = keyid
[rogue_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:rogue-relay.test
authorityKeyIdentifier = keyid
CNF
export OPENSSL_CONF="$dir/openssl.cnf"

ca () {   # name subject
  openssl req -x509 -config openssl.cnf -newkey ec \
    -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.pem" \
    -days 2 -subj "$2" -extensions ca_ext 2>/dev/null
}

leaf () {   # name subject issuer extensions
  openssl req -new -config openssl.cnf -newkey ec \
    -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "$2" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" \
    -CAcreateserial -days 2 -extfile openssl.cnf -extensions "$4" \
    -out "$1.pem" 2>/dev/null
  rm -f "$1.csr"
}

ca ca "/CN=msrp-edge test CA"
ca rogue-ca "/CN=rogue CA"
leaf server "/O=msrp-edge tests/CN=relay.test" ca server_ext
leaf client "/O=msrp-edge tests/CN=client-relay.test" ca client_ext
leaf farm "/O=msrp-edge tests/CN=farm.test" ca farm_ext
leaf rogue "/CN=rogue-relay.test" rogue-ca rogue_ext
