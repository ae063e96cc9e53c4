#include "config.h"

#include "options.h"
