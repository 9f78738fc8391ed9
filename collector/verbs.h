/*
 * verbs: one function per command, each in its own cmd_<verb>.c. Each takes the
 * arguments after the verb name (argv[0] is the verb) and returns the process exit code;
 * only main() exits.
 *
 * Exit codes (docs/exit-codes.md):
 *   0  success (collect: complete without evidence errors; verify: integrity holds)
 *   1  collect finished with evidence errors; verify/extract found an integrity failure
 *   2  usage error, or a fatal error before anything was written / unreadable input
 *   3  collect stopped early (state interrupted or output-full); a valid partial archive exists
 */
#ifndef CUSTODY_VERBS_H
#define CUSTODY_VERBS_H

#define EXIT_OK 0
#define EXIT_EVIDENCE 1
#define EXIT_USAGE 2
#define EXIT_STOPPED 3

int cmd_collect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_profiles(int argc, char **argv);
int cmd_decrypt(int argc, char **argv);

#endif
