/* api_hsds: the local API's HSDS 3.0 interchange: directory.import and directory.export
 * (clients/lib/API.md).
 *
 * Both run inside the node, on files the node reads and writes itself: the CLI sends an
 * absolute path, never the data, so an import of any size stays under the API's 256 KiB
 * request limit and nothing is parsed twice. The node's service user must be able to read
 * the import and write the export folder.
 *
 * directory.import {"path"}: a CSV datapackage folder or an HSDS JSON file (one object, a
 * list, or a Page wrapper with "contents"), checked whole (hsds.h) and stored in the call's
 * one write transaction together with a DirPublish in the outbox for every imported service
 * that maps onto a directory Service (hsds_map.h). Nothing is kept when any row is bad.
 *
 * directory.export {"format": "hsds-json"|"hsds-csv", "own", "dir"}: writes the agency's
 * own HSDS records and, unless "own", the rest of the replica as minimal HSDS services.
 *
 * Handlers follow the apicall.h contract. Single-threaded. */
#ifndef REFNET_API_HSDS_H
#define REFNET_API_HSDS_H

#include <jansson.h>

#include "apicall.h"

int api_hsds_import(apicall_t *c, json_t *args);
int api_hsds_export(apicall_t *c, json_t *args);

#endif
