#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "strlist.h"

void
envelope_init(struct envelope *env)
{
	memset(env, 0, sizeof(*env));
	strlist_init(&env->rcpts);
}

void
envelope_release(struct envelope *env)
{
	free(env->from);
	strlist_release(&env->rcpts);
	envelope_init(env);
}
