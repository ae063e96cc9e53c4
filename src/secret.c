#include "config.h"

#include "secret.h"
