# unit tests of proto: the wire library (codec, field rules, state machine, enum names).
# samples (tests/fuzz/samples.h) builds a valid Envelope of every body type.
refnet_unit_test(NAME test_wire SOURCES test_wire.c LIBS refnet_wire refnet_samples m)
refnet_unit_test(NAME test_validate SOURCES test_validate.c LIBS refnet_wire refnet_samples)
refnet_unit_test(NAME test_fsm SOURCES test_fsm.c LIBS refnet_wire)
refnet_unit_test(NAME test_enums SOURCES test_enums.c LIBS refnet_wire)
refnet_unit_test(NAME test_dirdigest SOURCES test_dirdigest.c LIBS refnet_wire)
refnet_unit_test(NAME test_fields SOURCES test_fields.c LIBS refnet_wire)
