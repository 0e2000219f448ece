#!/usr/bin/env bash
# Throwaway TLS certificates for trying RabbitMQ over TLS on this machine (never in
# production: the CA's key lies beside its certificate, unprotected).
#
#   scripts/make_tls_certificates.sh DIR
#
# writes into DIR (made if missing; files already there are kept):
#   ca_certificate.pem, ca_key.pem         a CA of its own, "work-queues throwaway CA"
#   server_certificate.pem, server_key.pem the broker's: CN=localhost, valid for the name
#                                          localhost only (not for 127.0.0.1: connect by name)
#   client_certificate.pem, client_key.pem a client's: CN=work-queues-client, the user name
#                                          RabbitMQ's EXTERNAL login maps it to
#   expired_server_certificate.pem, expired_server_key.pem
#                                          like the server's, but valid only in January 2020
# each certificate signed by the CA, each key RSA 2048 without a passphrase. Uses openssl
# only, with a configuration of its own (the system's openssl.cnf is not read).
# Environment: TLS_CLIENT_CN (default work-queues-client), TLS_DAYS (default 30).
set -euo pipefail

CLIENT_CN="${TLS_CLIENT_CN:-work-queues-client}"
DAYS="${TLS_DAYS:-30}"

say() { echo "make_tls_certificates: $*"; }
[ $# -eq 1 ] || {
  echo "usage: $0 DIR" >&2
  exit 2
}
command -v openssl >/dev/null 2>&1 || {
  say "error: openssl not found; install it (apt-get install openssl)" >&2
  exit 1
}
DIR=$1
mkdir -p "$DIR/.ca/issued"
DIR="$(cd "$DIR" && pwd)"
CA="$DIR/.ca" # openssl ca's bookkeeping

# `openssl ca` (not `x509 -req`) signs: it alone, in OpenSSL 3.0, sets any validity dates
cat >"$CA/openssl.cnf" <<EOF
[ req ]
distinguished_name = dn
[ dn ]
[ ca_extensions ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = throwaway
[ throwaway ]
database = $CA/index.txt
new_certs_dir = $CA/issued
serial = $CA/serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[ any_name ]
commonName = supplied
[ server_extensions ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
authorityKeyIdentifier = keyid
[ client_extensions ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF
touch "$CA/index.txt"
[ -s "$CA/serial" ] || echo "01$(openssl rand -hex 8)" >"$CA/serial"

openssl_quietly() { # openssl's chatter only when it fails
  local out
  if ! out="$(openssl "$@" 2>&1)"; then
    say "error: openssl $1 failed: $out" >&2
    exit 1
  fi
}

if [ ! -s "$DIR/ca_certificate.pem" ]; then
  (umask 077 && openssl_quietly genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$DIR/ca_key.pem")
  openssl_quietly req -config "$CA/openssl.cnf" -new -x509 -key "$DIR/ca_key.pem" \
    -subj "/CN=work-queues throwaway CA" -days "$DAYS" -extensions ca_extensions \
    -out "$DIR/ca_certificate.pem"
fi

issue() { # issue NAME CN EXTENSIONS [openssl ca's date options...]
  local name=$1 cn=$2 extensions=$3
  shift 3
  [ -s "$DIR/${name}_certificate.pem" ] && return
  (umask 077 && openssl_quietly genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$DIR/${name}_key.pem")
  openssl_quietly req -config "$CA/openssl.cnf" -new -key "$DIR/${name}_key.pem" \
    -subj "/CN=$cn" -out "$CA/$name.csr"
  openssl_quietly ca -config "$CA/openssl.cnf" -batch -notext -extensions "$extensions" \
    -cert "$DIR/ca_certificate.pem" -keyfile "$DIR/ca_key.pem" \
    -in "$CA/$name.csr" -out "$DIR/${name}_certificate.pem" "$@"
}

issue server localhost server_extensions -days "$DAYS"
issue client "$CLIENT_CN" client_extensions -days "$DAYS"
issue expired_server localhost server_extensions \
  -startdate 20200101000000Z -enddate 20200131000000Z
say "CA, server, client and expired server certificates in $DIR"
