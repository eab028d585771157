/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks the OpenPGP signature of a clear-signed apt InRelease file with Debian's gpgv, the
 * verifier apt itself uses. gpgv runs in a private temporary HOME with a minimal environment,
 * no inherited fds and a hard timeout, and only gpgv's --output (the signed text, armour and
 * dash-escaping removed) is handed back: text outside the signature is never read by us.
 */
#ifndef WORKER_ENGINE_GPGV_H
#define WORKER_ENGINE_GPGV_H

#include "pf/setup.h"

/* Largest InRelease accepted (Debian's is ~150 KiB, Ubuntu's a few hundred KiB). */
#define WORKER_GPGV_MAX_INPUT ((size_t)16 << 20)
/* gpgv is killed when it runs longer than this. */
#define WORKER_GPGV_TIMEOUT_MS 30000
/* At most this many keyring files are passed to gpgv (a directory is scanned for *.gpg). */
#define WORKER_GPGV_MAX_KEYRINGS 64

/*
 * Verifies the clear-signed `inrelease` (`len` bytes) against `keyring_path_or_dir`: a binary
 * OpenPGP keyring file (`gpg --export` output, as the .gpg files in /usr/share/keyrings), or a directory
 * whose regular *.gpg files are all used. Armoured .asc keys are not accepted: dearmor them with
 * `gpg --dearmor` when the keyring is built. Every key in the keyring is trusted, as gpgv does.
 *
 * Succeeds only when gpgv exits 0, reports as many VALIDSIG as signatures (at least one, all
 * also GOODSIG), none of them over a weak digest (MD5, SHA-1, RIPEMD-160), and no BADSIG, ERRSIG,
 * EXPSIG, EXPKEYSIG, REVKEYSIG or NO_PUBKEY; so every signature must verify with the keyring.
 * The input must start with "-----BEGIN PGP SIGNED MESSAGE-----".
 *
 * On success `*ret_signed_text` is a new NUL-terminated string (the caller pf_free()s it) holding
 * only the signed text, its length in `*ret_len`. Returns 0, -EBADMSG (bad signature or input
 * that is not a clear-signed message), -ENOKEY (signed by a key not in the keyring, or an empty
 * keyring directory), -ENOENT (keyring missing, or gpgv not installed), -E2BIG, -ETIMEDOUT,
 * -ENOMEM or another negative errno. On failure the out-parameters are untouched and, when
 * `errbuf` is not NULL, a message naming gpgv's reason is written to it.
 */
int worker_gpgv_verify_clearsigned(const char *keyring_path_or_dir, const void *inrelease,
                                   size_t len, char **ret_signed_text, size_t *ret_len,
                                   char *errbuf, size_t errlen);

#endif
