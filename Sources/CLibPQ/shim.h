#ifndef DR_CLIBPQ_SHIM_H
#define DR_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
