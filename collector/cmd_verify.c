/*
 * cmd_verify: `custody verify ARCHIVE [--pubkey FILE] [--journal FILE] [--json]`, the
 * examiner's check that nothing was altered since collection (see verify.h).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age.h"

#include "verbs.h"
#include "verify.h"
#include "vset.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: custody verify ARCHIVE [--pubkey FILE] [--journal FILE] [--identity FILE]...\n"
        "                      [--json]\n"
        "\n"
        "Reads the archive once and checks every member's digests against the manifest, that\n"
        "no member is missing, extra or duplicated, the Ed25519 signature over manifest.json\n"
        "(by --pubkey, or else by the key inside the manifest, which is NOT pinned: compare its\n"
        "fingerprint with the one the responder wrote down), and the .sha256 sidecar if present.\n"
        "An archive without a manifest (the run was killed) is checked against its journal.\n"
        "An age-encrypted archive (.age) is decrypted in the stream with --identity (an age\n"
        "identity file; nothing decrypted is written to disk); the sidecar is checked against\n"
        "the encrypted file. Without --identity it is refused (exit 2).\n"
        "A part of a split collection (<stem>.partNNN...), or the folder holding the parts,\n"
        "checks the whole set: every part present, the collection manifest (in the last part)\n"
        "and each part's size and digest against it; missing or damaged parts are named.\n"
        "exit codes: 0 integrity holds; 1 it does not; 2 usage error or unreadable input\n");
}

int cmd_verify(int argc, char **argv)
{
    static const struct option lo[] = {
        {"pubkey", required_argument, 0, 'k'}, {"journal", required_argument, 0, 'j'},
        {"json", no_argument, 0, 'J'},         {"help", no_argument, 0, 'h'},
        {"identity", required_argument, 0, 'i'},
        {0, 0, 0, 0},
    };
    struct vf_opts o = {0};
    int json = 0, c;
    struct age_identity *ids = NULL;
    size_t n_ids = 0;
    struct cu_err err;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:j:Jhi:", lo, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (age_identities_load(optarg, &ids, &n_ids, &err) != 0) {
                fprintf(stderr, "custody verify: --identity %s: %s\n", optarg, err.msg);
                age_identities_free(ids, n_ids);
                return EXIT_USAGE;
            }
            break;
        case 'k': o.pubkey = optarg; break;
        case 'j': o.journal = optarg; break;
        case 'J': json = 1; break;
        case 'h': age_identities_free(ids, n_ids); usage(stdout); return EXIT_OK;
        default: age_identities_free(ids, n_ids); usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        age_identities_free(ids, n_ids);
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *archive = argv[optind];
    o.report = json ? stderr : stdout;
    o.ids = ids;
    o.n_ids = n_ids;
    struct vset *set = vset_detect(archive);
    if (set) {
        /* a part of a split collection, or the folder of one: the whole set */
        int sr = vset_verify(set, &o, json);
        vset_free(set);
        if (ids) {
            age_identities_free(ids, n_ids);
        }
        return sr ? EXIT_EVIDENCE : EXIT_OK;
    }
    struct vf_result r;
    int vr = vf_verify(archive, &o, &r, &err);
    if (ids) {
        age_identities_free(ids, n_ids);
    }
    if (vr != 0) {
        fprintf(stderr, "custody verify: %s\n", err.msg);
        vf_result_free(&r);
        return EXIT_USAGE;
    }
    if (json) {
        json_t *j = json_object();
        json_object_set_new(j, "archive", json_string(archive));
        json_object_set_new(j, "ok", json_boolean(r.ok));
        json_object_set_new(j, "state", r.state[0] ? json_string(r.state) : json_null());
        json_object_set_new(j, "members", json_integer((json_int_t)r.members));
        json_object_set_new(j, "entries", json_integer((json_int_t)r.entries));
        json_object_set_new(j, "members_checked", json_integer((json_int_t)r.checked));
        json_object_set_new(j, "signature_ok", json_boolean(r.signature_ok));
        json_object_set_new(j, "pinned", json_boolean(r.pinned));
        json_object_set_new(j, "fingerprint", r.fingerprint[0] ? json_string(r.fingerprint)
                                                               : json_null());
        json_object_set_new(j, "sidecar", r.sidecar < 0 ? json_null() : json_boolean(r.sidecar));
        json_object_set_new(j, "from_journal", json_boolean(r.from_journal));
        if (r.from_journal) {
            json_object_set_new(j, "intact", json_integer((json_int_t)r.intact));
            json_object_set_new(j, "lost", json_integer((json_int_t)r.lost));
        }
        json_object_set_new(j, "problem_count", json_integer((json_int_t)r.problems));
        json_object_set(j, "problems", r.problem_list);
        char *s = json_dumps(j, JSON_INDENT(1));
        printf("%s\n", s ? s : "{}");
        free(s);
        json_decref(j);
    } else {
        if (r.signature_ok && !r.pinned)
            printf("note: signature checked with the key inside the manifest, which was NOT "
                   "pinned; fingerprint %s: compare it with the one the responder wrote down\n",
                   r.fingerprint);
        else if (r.signature_ok)
            printf("signature: valid, by the pinned key %s\n", r.fingerprint);
        if (r.from_journal)
            printf("journal: %zu members intact, %zu lost or damaged\n", r.intact, r.lost);
        printf("%zu members, %zu entries, %zu members checked, %zu problems; collection state: %s\n",
               r.members, r.entries, r.checked, r.problems, r.state[0] ? r.state : "unknown");
        printf("verify: %s\n", r.ok ? "OK" : "FAILED");
    }
    int ok = r.ok;
    vf_result_free(&r);
    return ok ? EXIT_OK : EXIT_EVIDENCE;
}
