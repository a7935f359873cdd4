/* geohash: geohash cells (base32, longitude bit first) and the cells that cover a circle.
 *
 * The directory index (dirindex.h) files every located service under its cell and answers a
 * radius by reading the few cells that cover the circle. A cell's name at precision p is the
 * first p characters of its name at any finer precision, so one cell is one key range. Pure
 * functions, no state; any thread.  */
#ifndef REFNET_GEOHASH_H
#define REFNET_GEOHASH_H

#include <stddef.h>

/* Room for a cell name of up to 7 characters and its NUL (covers use at most 7). */
#define GEOHASH_CELL_LEN 8
/* Coarsest precision a cover uses (cells about 1250 km x 625 km). */
#define GEOHASH_COVER_MIN_PREC 2
/* Radii above this get no cover: the box bound used is only safe for small circles. */
#define GEOHASH_MAX_COVER_KM 1000.0

/* Writes the cell of precision `prec` (1..12) holding (lat, lon) into buf (prec + 1 bytes).
 * Points on the upper edges (lat 90, lon 180) fall in the last cell. */
void geohash_encode(double lat, double lon, int prec, char *buf);

/* Fills `cells` with the cells, all of one precision (so disjoint), that together hold every
 * point within r_km of (lat, lon): the finest precision from max_prec (<= 7) down to
 * GEOHASH_COVER_MIN_PREC for which at most max_cells are needed, leaving out cells that are
 * certainly outside the circle. Returns their number, or 0 when no cover is offered (radius
 * 0 or above GEOHASH_MAX_COVER_KM, a circle that reaches within a degree of a pole or crosses
 * the antimeridian, or too many cells): the caller then plans without cells. */
size_t geohash_cover(double lat,
                     double lon,
                     double r_km,
                     int max_prec,
                     size_t max_cells,
                     char cells[][GEOHASH_CELL_LEN]);

#endif
