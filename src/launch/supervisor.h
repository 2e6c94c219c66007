#pragma once

namespace stoke::launch {

// Entry point of the job supervisor: the `stoke _supervise` hidden subcommand. Wire it as
//   if (argc > 1 && std::string_view(argv[1]) == "_supervise") return SupervisorMain(argc - 1, argv + 1);
// argv[0] is ignored; options: `--control-fd N` (default 3: a socket from LocalLauncher that carries
// the encoded SupervisorSpec in, until EOF, and one reply line out) and `--job-id N` (shown in `ps`).
// The contract (session, subreaper, log, limits, kill protocol, exit-status file) is in
// src/launch/README.md. Runs single-threaded; returns the job's exit code.
int SupervisorMain(int argc, char** argv);

}  // namespace stoke::launch
