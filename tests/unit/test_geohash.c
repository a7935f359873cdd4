/* Unit tests of geohash: cell names against the reference example, and covers that hold
 * every point of their circle (checked on random points against the cell each falls in). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "geohash.h"

static void
test_encode(void **state)
{
    (void)state;
    char buf[16];
    /* The reference example of geohash.org. */
    geohash_encode(57.64911, 10.40744, 11, buf);
    assert_string_equal(buf, "u4pruydqqvj");
    geohash_encode(57.64911, 10.40744, 6, buf);
    assert_string_equal(buf, "u4pruy");
    geohash_encode(-90.0, -180.0, 4, buf);
    assert_string_equal(buf, "0000");
    geohash_encode(90.0, 180.0, 4, buf);
    assert_string_equal(buf, "zzzz");
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static double
rnd_unit(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static double
km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = M_PI / 180.0;
    double a =
        sin((lat2 - lat1) * r / 2) * sin((lat2 - lat1) * r / 2) +
        cos(lat1 * r) * cos(lat2 * r) * sin((lon2 - lon1) * r / 2) * sin((lon2 - lon1) * r / 2);
    return 2.0 * 6371.0088 * asin(sqrt(a));
}

/* Every point within the radius lies in one of the cells (its name starts with one). */
static void
test_cover_holds_the_circle(void **state)
{
    (void)state;
    char cells[64][GEOHASH_CELL_LEN];
    size_t checked = 0;
    for (int c = 0; c < 300; c++) {
        double lat = -70.0 + 140.0 * rnd_unit(), lon = -170.0 + 340.0 * rnd_unit();
        double r = 0.3 + 200.0 * rnd_unit() * rnd_unit();
        size_t n = geohash_cover(lat, lon, r, 6, 64, cells);
        if (n == 0)
            continue;
        size_t len = strlen(cells[0]);
        for (int p = 0; p < 200; p++) {
            double plat = lat + (rnd_unit() - 0.5) * 2.2 * r / 111.0;
            double plon = lon + (rnd_unit() - 0.5) * 2.2 * r / (111.0 * cos(plat * M_PI / 180));
            if (km(lat, lon, plat, plon) > r)
                continue;
            char cell[16];
            geohash_encode(plat, plon, (int)len, cell);
            bool found = false;
            for (size_t i = 0; i < n && !found; i++)
                found = strcmp(cells[i], cell) == 0;
            assert_true(found);
            checked++;
        }
    }
    assert_true(checked > 10000);
}

static void
test_cover_refuses(void **state)
{
    (void)state;
    char cells[64][GEOHASH_CELL_LEN];
    assert_int_equal(geohash_cover(40.0, -74.0, 0.0, 6, 64, cells), 0);
    assert_int_equal(geohash_cover(40.0, -74.0, 5000.0, 6, 64, cells), 0);
    assert_int_equal(geohash_cover(89.5, 0.0, 10.0, 6, 64, cells), 0);
    assert_int_equal(geohash_cover(0.0, 179.99, 10.0, 6, 64, cells), 0);
    /* A small circle gets fine cells, a larger one coarser ones. */
    size_t n = geohash_cover(40.7, -74.0, 1.0, 6, 64, cells);
    assert_true(n > 0 && n <= 64);
    assert_int_equal(strlen(cells[0]), 6);
    n = geohash_cover(40.7, -74.0, 50.0, 6, 64, cells);
    assert_true(n > 0 && strlen(cells[0]) < 6);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_cover_holds_the_circle),
        cmocka_unit_test(test_cover_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
