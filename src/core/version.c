/* The library's version at run time (evt_version), from the same generated
 * header as the EVT_VERSION macros: CMake's project(VERSION) is the one
 * place it is written. */
#include "eventor.h"

const char *evt_version(void)
{
    return EVT_VERSION;
}
