#include "config.h"

#include "message.h"
