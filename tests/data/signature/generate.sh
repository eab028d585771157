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
