#include "config.h"

#include <stdio.h>

int
main(void)
{
	puts("postie: not yet");
	return 70;
}
