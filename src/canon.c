#include "config.h"

#include "canon.h"
