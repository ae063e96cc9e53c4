#include "config.h"

#include "sasl.h"
#include "t.h"

int
main(void)
{
	return t_done();
}
