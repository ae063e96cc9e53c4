#include "config.h"

#include "sasl.h"
