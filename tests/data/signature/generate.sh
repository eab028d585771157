#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerates the fixtures of tests/unit/test_signature.c: a throwaway RSA key (its public half
# kept, the private half deleted), PKCS#1 v1.5 signatures of message.txt with SHA-1, SHA-256
# and SHA-512 (what apk's .SIGN.RSA, .SIGN.RSA256 and .SIGN.RSA512 carry), and a P-256 public
# key to show that an RSA algorithm refuses a key of another type.
set -eu
cd "$(dirname "$0")"
printf 'patchfleet signs nothing; it only verifies.\n' > message.txt
openssl genrsa -out rsa.key 2048 2>/dev/null
openssl rsa -in rsa.key -pubout -out rsa.pub 2>/dev/null
for md in sha1 sha256 sha512; do
    openssl dgst -"$md" -sign rsa.key -out "message.$md.sig" message.txt
done
rm -f rsa.key
openssl ecparam -name prime256v1 -genkey -noout -out ec.key
openssl ec -in ec.key -pubout -out ec.pub 2>/dev/null
rm -f ec.key
# A self-signed CA certificate and what the openssl tool says of it: the subject hash that
# names its link in /etc/ssl/certs and its SHA-1 fingerprint (pf_x509_subject_hash()).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -subj "/C=XX/O=patchfleet test/CN=patchfleet hash test CA" -days 36500 -out ca.pem 2>/dev/null
rm -f ca.key
openssl x509 -hash -noout -in ca.pem > ca.pem.hash
openssl x509 -noout -fingerprint -sha1 -in ca.pem | sed 's/.*=//; s/://g' | tr A-F a-f > ca.pem.sha1
