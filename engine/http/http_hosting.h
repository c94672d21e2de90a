/* http_hosting.h — re-hosting models after a server restart. */
#ifndef LOOKOUT_HTTP_HOSTING_H
#define LOOKOUT_HTTP_HOSTING_H

#include "../service/service.h"

/* Starts again every model the service lists as HOSTED; failures are logged, not fatal. */
void lo_http_restore_hosted(lo_service *s);

#endif
