#include "config.h"

#include "addr.h"
