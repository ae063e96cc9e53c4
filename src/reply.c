#include "config.h"

#include "reply.h"
