// `stoke-supervisor`: a small, statically linked program that only runs SupervisorMain. It starts in
// well under a millisecond, where the full `stoke` binary spends milliseconds loading its shared
// libraries; LocalLauncherOptions can point at either.
#include "launch/supervisor.h"

int main(int argc, char** argv) { return stoke::launch::SupervisorMain(argc, argv); }
