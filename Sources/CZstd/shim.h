#ifndef DR_CZSTD_SHIM_H
#define DR_CZSTD_SHIM_H
#include <zstd.h>
#endif
