#include "config.h"

#include "dotstuff.h"
