#include "config.h"

#include "smtp.h"
