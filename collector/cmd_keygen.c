/*
 * cmd_keygen: `custody keygen --out PREFIX`, an Ed25519 key pair for signing collections:
 * PREFIX.key (PKCS#8 PEM, mode 0600, optionally encrypted with a passphrase) and PREFIX.pub
 * (SubjectPublicKeyInfo PEM). Existing files are never overwritten.
 *
 * `custody keygen --age --out PREFIX`: an age X25519 key pair for encrypting collections
 * (collect --encrypt-to): PREFIX.age.key (mode 0600, the age-keygen format) and
 * PREFIX.age.pub (the recipient line); the recipient is printed on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age.h"
#include "sign.h"
#include "verbs.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: custody keygen --out PREFIX [--passphrase | --passphrase-file FILE]\n"
               "       custody keygen --age --out PREFIX\n"
               "\n"
               "Writes an Ed25519 key pair: PREFIX.key (PKCS#8 PEM, mode 0600; encrypted with\n"
               "AES-256 when a passphrase is given) and PREFIX.pub (public key PEM), and prints\n"
               "the key's fingerprint (SHA-256 of the DER public key) on stderr.\n"
               "--passphrase asks on the terminal (or takes CUSTODY_PASSPHRASE).\n"
               "With --age: an age X25519 key pair for collect --encrypt-to: PREFIX.age.key\n"
               "(the identity, mode 0600, in age-keygen's format; keep it off the suspect host)\n"
               "and PREFIX.age.pub (the recipient, age1...), which is printed on stdout.\n"
               "exit codes: 0 written; 2 usage error or failure (nothing overwritten)\n");
}

static int keygen_age(const char *prefix)
{
    struct cu_err err;
    char *keyp = cu_xasprintf("%s.age.key", prefix), *pubp = cu_xasprintf("%s.age.pub", prefix);
    int ret = EXIT_USAGE;
    struct age_identity id;
    char rcp[AGE_RECIPIENT_MAX], sec[AGE_IDENTITY_MAX], text[512];
    if (access(keyp, F_OK) == 0 || access(pubp, F_OK) == 0) {
        fprintf(stderr, "custody keygen: %s or %s exists: not overwriting\n", keyp, pubp);
        goto out;
    }
    if (age_keygen(&id, rcp, sec, &err) != 0) {
        fprintf(stderr, "custody keygen: %s\n", err.msg);
        goto out;
    }
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    snprintf(text, sizeof text, "# created: %s\n# public key: %s\n%s\n", created, rcp, sec);
    int wr = cu_write_new(keyp, text, 0600, &err);
    if (wr == 0) {
        snprintf(text, sizeof text, "%s\n", rcp);
        wr = cu_write_new(pubp, text, 0644, &err);
        if (wr != 0)
            unlink(keyp);
    }
    if (wr != 0) {
        fprintf(stderr, "custody keygen: %s\n", err.msg);
        goto out;
    }
    fprintf(stderr, "custody keygen: wrote %s (identity, keep it secret) and %s\n", keyp, pubp);
    printf("%s\n", rcp);
    ret = EXIT_OK;
out:
    cu_wipe(&id, sizeof id);
    cu_wipe(sec, sizeof sec);
    cu_wipe(text, sizeof text);
    free(keyp);
    free(pubp);
    return ret;
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option lo[] = {
        {"out", required_argument, 0, 'o'},
        {"passphrase", no_argument, 0, 'p'},
        {"passphrase-file", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},
        {"age", no_argument, 0, 'a'},
        {0, 0, 0, 0},
    };
    const char *prefix = NULL, *pass_file = NULL;
    int ask = 0, age = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:pf:h", lo, NULL)) != -1) {
        switch (c) {
        case 'o': prefix = optarg; break;
        case 'p': ask = 1; break;
        case 'f': pass_file = optarg; break;
        case 'a': age = 1; break;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (!prefix || optind < argc || (ask && pass_file) || (age && (ask || pass_file))) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (age)
        return keygen_age(prefix);
    struct cu_err err;
    char *keyp = cu_xasprintf("%s.key", prefix), *pubp = cu_xasprintf("%s.pub", prefix);
    char *pass = NULL;
    struct sig_key *k = NULL;
    int ret = EXIT_USAGE;
    if (access(keyp, F_OK) == 0 || access(pubp, F_OK) == 0) {
        fprintf(stderr, "custody keygen: %s or %s exists: not overwriting\n", keyp, pubp);
        goto out;
    }
    if (ask || pass_file) {
        pass = sig_passphrase_read(pass_file, "passphrase for the new key: ", 1, &err);
        if (!pass) {
            fprintf(stderr, "custody keygen: %s\n", err.msg);
            goto out;
        }
    }
    char fp[65];
    if (sig_key_generate(&k, &err) != 0 || sig_key_write_private(k, keyp, pass, &err) != 0) {
        fprintf(stderr, "custody keygen: %s\n", err.msg);
        goto out;
    }
    if (sig_key_write_public(k, pubp, &err) != 0 || sig_key_fingerprint(k, fp, &err) != 0) {
        fprintf(stderr, "custody keygen: %s\n", err.msg);
        unlink(keyp);
        goto out;
    }
    fprintf(stderr, "custody keygen: fingerprint: %s\n", fp);
    printf("%s\n%s\n", keyp, pubp);
    ret = EXIT_OK;
out:
    if (pass) {
        cu_wipe(pass, strlen(pass));
        free(pass);
    }
    sig_key_free(k);
    free(keyp);
    free(pubp);
    return ret;
}
