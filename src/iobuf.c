#include "config.h"

#include "iobuf.h"
