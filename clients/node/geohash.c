/* geohash: cells and circle covers (see geohash.h). */
#include "geohash.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

static const char GEOHASH_ALPHABET[] = "0123456789bcdefghjkmnpqrstuvwxyz";
/* Kilometres per degree of latitude, and the mean Earth radius (IUGG), as replica.h uses. */
#define GEOHASH_KM_PER_DEG 111.195
#define GEOHASH_EARTH_KM   6371.0088

static uint32_t
geohash_idx(double v, double min, double span, int bits)
{
    double cells = (double)(1u << bits);
    double x = floor((v - min) / span * cells);
    if (x < 0)
        return 0;
    if (x >= cells)
        return (1u << bits) - 1;
    return (uint32_t)x;
}

static int
geohash_lon_bits(int prec)
{
    return (5 * prec + 1) / 2;
}

static int
geohash_lat_bits(int prec)
{
    return 5 * prec / 2;
}

/* The cell name from its longitude and latitude indices (interleaved, longitude first). */
static void
geohash_name(uint32_t lon_i, uint32_t lat_i, int prec, char *buf)
{
    int lo = geohash_lon_bits(prec), la = geohash_lat_bits(prec);
    unsigned ch = 0;
    for (int k = 0; k < 5 * prec; k++) {
        unsigned bit = (k % 2 == 0) ? (lon_i >> --lo) & 1u : (lat_i >> --la) & 1u;
        ch = ch << 1 | bit;
        if (k % 5 == 4) {
            buf[k / 5] = GEOHASH_ALPHABET[ch];
            ch = 0;
        }
    }
    buf[prec] = '\0';
}

void
geohash_encode(double lat, double lon, int prec, char *buf)
{
    /* 12 characters are 60 bits: 30 per axis still fit the 32-bit indices. */
    if (prec < 1 || prec > 12)
        prec = prec < 1 ? 1 : 12;
    geohash_name(geohash_idx(lon, -180.0, 360.0, geohash_lon_bits(prec)),
                 geohash_idx(lat, -90.0, 180.0, geohash_lat_bits(prec)), prec, buf);
}

static double
geohash_km(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2.0 * GEOHASH_EARTH_KM * asin(sqrt(a > 1.0 ? 1.0 : a));
}

/* True when cell (lat index i, lon index j) at precision p is certainly farther than r_km
 * from the centre. The nearest point of a small cell is found by clamping the centre into
 * it; that is exact along a meridian and close elsewhere, so only circles up to 100 km are
 * pruned, with a 5% + 0.2 km margin. */
static bool
geohash_cell_outside(double lat, double lon, double r_km, int p, uint32_t i, uint32_t j)
{
    if (r_km > 100.0)
        return false;
    double h = 180.0 / (double)(1u << geohash_lat_bits(p));
    double w = 360.0 / (double)(1u << geohash_lon_bits(p));
    double la0 = -90.0 + h * i, lo0 = -180.0 + w * j;
    double cl = fmin(fmax(lat, la0), la0 + h), co = fmin(fmax(lon, lo0), lo0 + w);
    return geohash_km(lat, lon, cl, co) > r_km * 1.05 + 0.2;
}

size_t
geohash_cover(double lat,
              double lon,
              double r_km,
              int max_prec,
              size_t max_cells,
              char cells[][GEOHASH_CELL_LEN])
{
    /* The box is widened by a tenth plus 0.01 degrees so that it holds every point within
     * the radius. */
    if (!(r_km > 0) || r_km > GEOHASH_MAX_COVER_KM || max_prec > GEOHASH_CELL_LEN - 1)
        return 0;
    double dlat = r_km / GEOHASH_KM_PER_DEG * 1.1 + 0.01;
    double la0 = lat - dlat, la1 = lat + dlat;
    double top = fmax(fabs(la0), fabs(la1));
    if (la0 < -90.0 || la1 > 90.0 || top >= 89.0)
        return 0;
    double dlon = dlat / cos(top * M_PI / 180.0);
    double lo0 = lon - dlon, lo1 = lon + dlon;
    if (lo0 < -180.0 || lo1 > 180.0)
        return 0;
    for (int p = max_prec; p >= GEOHASH_COVER_MIN_PREC; p--) {
        uint32_t i0 = geohash_idx(la0, -90.0, 180.0, geohash_lat_bits(p));
        uint32_t i1 = geohash_idx(la1, -90.0, 180.0, geohash_lat_bits(p));
        uint32_t j0 = geohash_idx(lo0, -180.0, 360.0, geohash_lon_bits(p));
        uint32_t j1 = geohash_idx(lo1, -180.0, 360.0, geohash_lon_bits(p));
        if ((size_t)(i1 - i0 + 1) * (j1 - j0 + 1) > max_cells)
            continue;
        size_t n = 0;
        for (uint32_t i = i0; i <= i1; i++)
            for (uint32_t j = j0; j <= j1; j++)
                if (!geohash_cell_outside(lat, lon, r_km, p, i, j))
                    geohash_name(j, i, p, cells[n++]);
        return n;
    }
    return 0;
}
