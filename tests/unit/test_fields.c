/* test_fields: every field number of proto/fields.h is the number protobuf-c's generated
 * descriptor gives that field, with the wire type pbscan reads it as. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fields.h"
#include "records.pb-c.h"
#include "refnet.pb-c.h"

/* Asserts that `name` of `desc` is field `number` of type `type`. */
static void
t_field(const ProtobufCMessageDescriptor *desc,
        const char *name,
        unsigned number,
        ProtobufCType type)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    assert_non_null(f);
    assert_int_equal(f->id, number);
    assert_int_equal(f->type, type);
    assert_int_equal(f->label == PROTOBUF_C_LABEL_REPEATED, 0);
}

static void
test_numbers_match_the_descriptors(void **state)
{
    (void)state;
    t_field(&refnet__dir_record__descriptor, "agency", FIELDS_DIR_RECORD_AGENCY,
            PROTOBUF_C_TYPE_STRING);
    t_field(&refnet__dir_record__descriptor, "withdrawn", FIELDS_DIR_RECORD_WITHDRAWN,
            PROTOBUF_C_TYPE_BOOL);
    t_field(&refnet__dir_record__descriptor, "service", FIELDS_DIR_RECORD_SERVICE,
            PROTOBUF_C_TYPE_MESSAGE);
    t_field(&refnet__service__descriptor, "name", FIELDS_SERVICE_NAME, PROTOBUF_C_TYPE_STRING);
    t_field(&refnet__queued_mail__descriptor, "sender", FIELDS_QUEUED_MAIL_SENDER,
            PROTOBUF_C_TYPE_STRING);
    t_field(&refnet__queued_mail__descriptor, "handoff_id", FIELDS_QUEUED_MAIL_HANDOFF_ID,
            PROTOBUF_C_TYPE_STRING);
    t_field(&refnet__audit_entry__descriptor, "hash", FIELDS_AUDIT_ENTRY_HASH,
            PROTOBUF_C_TYPE_BYTES);
}

/* audit.c appends the hash after the rest of an entry's encoding: it must stay the last field
 * (protobuf-c packs in field-number order). */
static void
test_audit_hash_is_the_last_field(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &refnet__audit_entry__descriptor;
    for (unsigned i = 0; i < d->n_fields; i++)
        assert_true(d->fields[i].id <= FIELDS_AUDIT_ENTRY_HASH);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_match_the_descriptors),
        cmocka_unit_test(test_audit_hash_is_the_last_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
