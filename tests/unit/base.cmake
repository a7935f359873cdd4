# unit tests of base: the shared library of both daemons and the clients. Tests that touch the
# file system work in their own mkdtemp() folder under /tmp and remove it.
refnet_unit_test(NAME test_xmalloc SOURCES test_xmalloc.c LIBS refnet_base)
refnet_unit_test(NAME test_refnet_error SOURCES test_refnet_error.c LIBS refnet_base)
refnet_unit_test(NAME test_log SOURCES test_log.c LIBS refnet_base)
refnet_unit_test(NAME test_uid SOURCES test_uid.c LIBS refnet_base)
refnet_unit_test(NAME test_clock SOURCES test_clock.c LIBS refnet_base)
refnet_unit_test(NAME test_path SOURCES test_path.c LIBS refnet_base)
refnet_unit_test(NAME test_keys SOURCES test_keys.c LIBS refnet_base)
refnet_unit_test(NAME test_pbuf SOURCES test_pbuf.c LIBS refnet_base refnet_pb)
refnet_unit_test(NAME test_pbscan SOURCES test_pbscan.c LIBS refnet_base refnet_pb)
refnet_unit_test(NAME test_store SOURCES test_store.c LIBS refnet_base refnet_pb)
refnet_unit_test(NAME test_seal SOURCES test_seal.c LIBS refnet_base)
