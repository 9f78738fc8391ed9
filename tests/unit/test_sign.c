/* Unit tests for sign: generate, sign, verify, tampering fails, keys round-trip through
 * files (with and without a passphrase), fingerprints are stable, non-Ed25519 keys and
 * existing paths are refused. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sign.h"

int main(void)
{
    struct cu_err err;
    struct sig_key *k = NULL, *pub = NULL, *priv = NULL, *enc = NULL;
    const unsigned char msg[] = "{\"format\":\"custody-manifest/1\"}";
    unsigned char sig[SIG_ED25519_LEN], sig2[SIG_ED25519_LEN];
    CHECK(sig_key_generate(&k, &err) == 0);
    CHECK(sig_key_has_private(k));
    CHECK(sig_sign(k, msg, sizeof msg - 1, sig, &err) == 0);
    CHECK(sig_verify(k, msg, sizeof msg - 1, sig, sizeof sig, &err) == 1);
    unsigned char bad[sizeof msg];
    memcpy(bad, msg, sizeof msg);
    bad[3] ^= 1;
    CHECK(sig_verify(k, bad, sizeof msg - 1, sig, sizeof sig, &err) == 0);
    sig[10] ^= 1;
    CHECK(sig_verify(k, msg, sizeof msg - 1, sig, sizeof sig, &err) == 0);
    sig[10] ^= 1;
    CHECK(sig_verify(k, msg, sizeof msg - 1, sig, 63, &err) == 0);

    char dir[] = "/tmp/custody-test-sign-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char kp[256], pp[256], ep[256], rp[256];
    snprintf(kp, sizeof kp, "%s/k.key", dir);
    snprintf(pp, sizeof pp, "%s/k.pub", dir);
    snprintf(ep, sizeof ep, "%s/e.key", dir);
    snprintf(rp, sizeof rp, "%s/rsa.pem", dir);
    CHECK(sig_key_write_private(k, kp, NULL, &err) == 0);
    CHECK(sig_key_write_public(k, pp, &err) == 0);
    struct stat st;
    CHECK(stat(kp, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(sig_key_write_private(k, kp, NULL, &err) == -1); /* never overwrites */
    CHECK(sig_key_load_private(kp, NULL, &priv, &err) == 0);
    CHECK(sig_key_load_public(pp, &pub, &err) == 0);
    CHECK(!sig_key_has_private(pub));
    CHECK(sig_sign(pub, msg, sizeof msg - 1, sig2, &err) == -1);
    CHECK(sig_sign(priv, msg, sizeof msg - 1, sig2, &err) == 0);
    CHECK(sig_verify(pub, msg, sizeof msg - 1, sig2, sizeof sig2, &err) == 1);
    char f1[65], f2[65], f3[65];
    CHECK(sig_key_fingerprint(k, f1, &err) == 0 && sig_key_fingerprint(pub, f2, &err) == 0);
    CHECK_STR(f1, f2);
    char *pem = sig_key_public_pem(k);
    struct sig_key *frompem = NULL;
    CHECK(pem && sig_key_from_public_pem(pem, strlen(pem), &frompem, &err) == 0);
    CHECK(sig_key_fingerprint(frompem, f3, &err) == 0);
    CHECK_STR(f1, f3);
    free(pem);

    CHECK(sig_key_write_private(k, ep, "s3cret", &err) == 0);
    CHECK(sig_key_load_private(ep, "wrong", &enc, &err) == -1);
    CHECK(sig_key_load_private(ep, NULL, &enc, &err) == -1);
    CHECK(sig_key_load_private(ep, "s3cret", &enc, &err) == 0);
    CHECK(sig_sign(enc, msg, sizeof msg - 1, sig2, &err) == 0 &&
          sig_verify(pub, msg, sizeof msg - 1, sig2, sizeof sig2, &err) == 1);

    /* an RSA key is refused with a message */
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    FILE *f = fopen(rp, "w");
    CHECK(rsa && f && PEM_write_PrivateKey(f, rsa, NULL, NULL, 0, NULL, NULL));
    if (f)
        fclose(f);
    EVP_PKEY_free(rsa);
    struct sig_key *r = NULL;
    CHECK(sig_key_load_private(rp, NULL, &r, &err) == -1 && strstr(err.msg, "Ed25519"));
    CHECK(sig_key_load_public("/nonexistent/k.pub", &r, &err) == -1);

    sig_key_free(k);
    sig_key_free(pub);
    sig_key_free(priv);
    sig_key_free(enc);
    sig_key_free(frompem);
    sig_key_free(NULL);
    unlink(kp);
    unlink(pp);
    unlink(ep);
    unlink(rp);
    rmdir(dir);
    return check_result();
}
