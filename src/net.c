#include "config.h"

#include "net.h"
