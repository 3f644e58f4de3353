// linux_abi.c: nothing to run. A C target needs a source file, and this one compiles the header's
// _Static_asserts, so a wrong layout is a build error.
#include "linux_abi.h"
