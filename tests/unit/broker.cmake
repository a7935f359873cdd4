# unit tests of broker: each module against a real LMDB store in its own mkdtemp() folder;
# test_broker runs the whole broker in a thread and talks to it over CURVE on loopback.
refnet_unit_test(NAME test_dirhub SOURCES test_dirhub.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_mailbox SOURCES test_mailbox.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_flow SOURCES test_flow.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_agencies SOURCES test_agencies.c LIBS refnet_broker_core)
find_package(Threads REQUIRED)
refnet_unit_test(NAME test_broker SOURCES test_broker.c LIBS refnet_broker_core Threads::Threads
                 TIMEOUT 120)
# test_broker enrols an agency through the real binary, as an operator would.
add_dependencies(test_broker refnet-broker)
target_compile_definitions(test_broker PRIVATE REFNET_BROKER_BIN="$<TARGET_FILE:refnet-broker>")
refnet_unit_test(NAME test_admin SOURCES test_admin.c
                 LIBS refnet_broker_core Threads::Threads TIMEOUT 60)
refnet_unit_test(NAME test_intake SOURCES test_intake.c
                 LIBS refnet_broker_core Threads::Threads TIMEOUT 60)
refnet_unit_test(NAME test_batch SOURCES test_batch.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_packer SOURCES test_packer.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_presence SOURCES test_presence.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_pairhold SOURCES test_pairhold.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_setup SOURCES test_setup.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_pump SOURCES test_pump.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_dispatch SOURCES test_dispatch.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_sealkeys SOURCES test_sealkeys.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_bstore SOURCES test_bstore.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_counters SOURCES test_counters.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_shun SOURCES test_shun.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_rekey SOURCES test_rekey.c LIBS refnet_broker_core)
refnet_unit_test(NAME test_bsock SOURCES test_bsock.c LIBS refnet_broker_core TIMEOUT 60)
