# unit tests of node: each module of clients/node against a real LMDB store in its own
# mkdtemp() folder (test_node_fixture.h); test_link talks CURVE to an in-test broker socket
# on loopback.
refnet_unit_test(NAME test_consent SOURCES test_consent.c LIBS refnet_node_core)
refnet_unit_test(NAME test_replica SOURCES test_replica.c LIBS refnet_node_core m)
refnet_unit_test(NAME test_handoff SOURCES test_handoff.c LIBS refnet_node_core)
refnet_unit_test(NAME test_outbox SOURCES test_outbox.c LIBS refnet_node_core)
refnet_unit_test(NAME test_seen SOURCES test_seen.c LIBS refnet_node_core)
refnet_unit_test(NAME test_persons SOURCES test_persons.c LIBS refnet_node_core)
refnet_unit_test(NAME test_pending SOURCES test_pending.c LIBS refnet_node_core)
refnet_unit_test(NAME test_nodedb SOURCES test_nodedb.c LIBS refnet_node_core)
refnet_unit_test(NAME test_api SOURCES test_api.c LIBS refnet_node_core)
refnet_unit_test(NAME test_apicall SOURCES test_apicall.c LIBS refnet_node_core)
refnet_unit_test(NAME test_jsonout SOURCES test_jsonout.c LIBS refnet_node_core)
refnet_unit_test(NAME test_inbound SOURCES test_inbound.c LIBS refnet_node_core)
refnet_unit_test(NAME test_link SOURCES test_link.c LIBS refnet_node_core)
find_package(Threads REQUIRED)
refnet_unit_test(NAME test_node SOURCES test_node.c LIBS refnet_node_core Threads::Threads)
# HSDS 3.0 interchange: import batches, CSV, nesting and the Service mapping, the schema tables.
foreach(t test_hsds test_hsds_csv test_hsds_map test_hsds_schema)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
        refnet_unit_test(NAME ${t} SOURCES ${t}.c LIBS refnet_node_core)
    endif()
endforeach()
