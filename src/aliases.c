#include "config.h"

#include "aliases.h"
