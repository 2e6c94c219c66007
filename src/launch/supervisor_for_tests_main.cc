#include "launch/supervisor.h"

int main(int argc, char** argv) { return stoke::launch::SupervisorMain(argc, argv); }
