/*
 * test_textpb.c — the protobuf text-format reader (scenarios/sc_textpb.c):
 * every syntax form it accepts, and every error with its exact
 * line:column and wording. Uses the selftest schema
 * (scenarios/sc_textpb_selftest.proto), which has one field of each type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_textpb.h"
#include "sc_textpb_selftest.pb-c.h"

typedef Kpsim__Selftest__All All;

static All *parse_ok(const char *text, sc_positions **pos) {
    sc_error err = { 0 };
    All *m = (All *)sc_textpb_parse(&kpsim__selftest__all__descriptor, "t.textpb", text, strlen(text), pos, &err);
    if (!m)
        fail_msg("unexpected error: %s", err.text);
    return m;
}

static void free_all(All *m) {
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* The parse fails at line:col with a message containing `want`. */
static void expect_err(const char *text, int line, int col, const char *want) {
    sc_error err = { 0 };
    sc_positions *pos = (sc_positions *)1;
    All *m = (All *)sc_textpb_parse(&kpsim__selftest__all__descriptor, "t.textpb", text, strlen(text), &pos, &err);
    if (m)
        fail_msg("parsed, but wanted an error '%s' at %d:%d for: %s", want, line, col, text);
    assert_null(pos);
    if (err.line != line || err.column != col || !strstr(err.what, want))
        fail_msg("for input: %s\n  got:  %s\n  want: t.textpb:%d:%d: ...%s...", text, err.text, line, col, want);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "t.textpb:%d:%d: ", line, col);
    assert_int_equal(strncmp(err.text, prefix, strlen(prefix)), 0);
}

/* ---- syntax forms --------------------------------------------------- */

static void every_scalar_type_reads_its_value(void **state) {
    All *m = parse_ok("i32: -2147483648 i64: 9223372036854775807 u32: 4294967295\n"
                      "u64: 18446744073709551615 s32: -5 s64: -6 f32: 7 f64: 8 sf32: -9 sf64: -10\n"
                      "fl: 1.5 db: -2.25e2 b: true str: \"héllo\" by: 'a\\x00b' color: BLUE\n",
                      NULL);
    assert_true(m->has_i32 && m->i32 == INT32_MIN);
    assert_true(m->has_i64 && m->i64 == INT64_MAX);
    assert_true(m->has_u32 && m->u32 == UINT32_MAX);
    assert_true(m->has_u64 && m->u64 == UINT64_MAX);
    assert_int_equal(m->s32, -5);
    assert_int_equal(m->s64, -6);
    assert_int_equal(m->f32, 7);
    assert_int_equal(m->f64, 8);
    assert_int_equal(m->sf32, -9);
    assert_int_equal(m->sf64, -10);
    assert_true(m->has_fl && m->fl == 1.5f);
    assert_true(m->has_db && m->db == -225.0);
    assert_true(m->has_b && m->b);
    assert_string_equal(m->str, "h\xc3\xa9llo");
    assert_true(m->has_by && m->by.len == 3 && !memcmp(m->by.data, "a\0b", 3));
    assert_true(m->has_color && m->color == KPSIM__SELFTEST__COLOR__BLUE);
    assert_int_equal(m->n_ri64, 0);
    free_all(m);
}

static void unset_fields_keep_defaults_and_no_has_flag(void **state) {
    All *m = parse_ok("", NULL);
    assert_false(m->has_i32);
    assert_null(m->str);
    assert_null(m->inner);
    assert_string_equal(m->dflt, "hello");
    assert_int_equal(m->choice_case, KPSIM__SELFTEST__ALL__CHOICE__NOT_SET);
    free_all(m);
    m = parse_ok("dflt: \"set\"", NULL); /* replacing a default string: freed normally */
    assert_string_equal(m->dflt, "set");
    free_all(m);
}

static void integers_in_hex_octal_and_decimal(void **state) {
    All *m = parse_ok("i32: 0x7fffffff i64: -0x10 u32: 017 ri: [0, 00, 0X1F, -0]", NULL);
    assert_int_equal(m->i32, INT32_MAX);
    assert_int_equal(m->i64, -16);
    assert_int_equal(m->u32, 15);
    assert_int_equal(m->n_ri, 4);
    assert_int_equal(m->ri[0], 0);
    assert_int_equal(m->ri[1], 0);
    assert_int_equal(m->ri[2], 31);
    assert_int_equal(m->ri[3], 0);
    free_all(m);
}

static void floats_accept_ints_exponents_suffix_inf_nan(void **state) {
    All *m = parse_ok("rd: [1, 2.5, .5, 1e3, 1E-2, 3f, inf, -Infinity, nan, -0x10]", NULL);
    assert_int_equal(m->n_rd, 10);
    assert_true(m->rd[0] == 1.0 && m->rd[1] == 2.5 && m->rd[2] == 0.5 && m->rd[3] == 1000.0);
    assert_true(m->rd[4] == 0.01 && m->rd[5] == 3.0);
    assert_true(isinf(m->rd[6]) && m->rd[6] > 0 && isinf(m->rd[7]) && m->rd[7] < 0 && isnan(m->rd[8]));
    assert_true(m->rd[9] == -16.0);
    free_all(m);
}

static void bools_in_every_spelling(void **state) {
    All *m = parse_ok("rb: [true, True, t, 1, false, False, f, 0]", NULL);
    assert_int_equal(m->n_rb, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(m->rb[i], i < 4);
    free_all(m);
}

static void enums_by_name_or_number(void **state) {
    All *m = parse_ok("rc: [RED, 1, BLUE, -3, NEGATIVE] rc: GREEN", NULL);
    assert_int_equal(m->n_rc, 6);
    assert_int_equal(m->rc[0], KPSIM__SELFTEST__COLOR__RED);
    assert_int_equal(m->rc[1], KPSIM__SELFTEST__COLOR__GREEN);
    assert_int_equal(m->rc[2], KPSIM__SELFTEST__COLOR__BLUE);
    assert_int_equal(m->rc[3], KPSIM__SELFTEST__COLOR__NEGATIVE);
    assert_int_equal(m->rc[4], KPSIM__SELFTEST__COLOR__NEGATIVE);
    assert_int_equal(m->rc[5], KPSIM__SELFTEST__COLOR__GREEN);
    free_all(m);
}

static void strings_quotes_escapes_and_concatenation(void **state) {
    All *m = parse_ok("rs: \"a\\n\\t\\\\\\\"\\'\" rs: 'sq \"x\"' rs: \"con\" 'cat'\n  \"enated\"\n"
                      "rs: \"\\101\\x42\\u00e9\\U0001F600\\?\" rs: \"\"",
                      NULL);
    assert_int_equal(m->n_rs, 5);
    assert_string_equal(m->rs[0], "a\n\t\\\"'");
    assert_string_equal(m->rs[1], "sq \"x\"");
    assert_string_equal(m->rs[2], "concatenated");
    assert_string_equal(m->rs[3], "AB\xc3\xa9\xf0\x9f\x98\x80?");
    assert_string_equal(m->rs[4], "");
    free_all(m);
}

static void messages_in_all_three_forms(void **state) {
    All *m = parse_ok("inner { x: 1 } rm: { x: 2 } rm < x: 3 s: \"q\" > rm: [{x: 4}, <x: 5>] rm []\n"
                      "rm { kid { x: 6 kid { x: 7 } } kid: [] }",
                      NULL);
    assert_non_null(m->inner);
    assert_int_equal(m->inner->x, 1);
    assert_int_equal(m->n_rm, 5);
    assert_int_equal(m->rm[0]->x, 2);
    assert_int_equal(m->rm[1]->x, 3);
    assert_string_equal(m->rm[1]->s, "q");
    assert_int_equal(m->rm[2]->x, 4);
    assert_int_equal(m->rm[3]->x, 5);
    assert_int_equal(m->rm[4]->n_kid, 1);
    assert_int_equal(m->rm[4]->kid[0]->x, 6);
    assert_int_equal(m->rm[4]->kid[0]->kid[0]->x, 7);
    free_all(m);
}

static void repeated_by_repetition_and_lists_mix(void **state) {
    All *m = parse_ok("ri: 1 ri: [2, 3] ri: 4 ri: [] ri64: [-1, 9223372036854775807]", NULL);
    assert_int_equal(m->n_ri, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(m->ri[i], i + 1);
    assert_int_equal(m->n_ri64, 2);
    assert_true(m->ri64[1] == INT64_MAX);
    free_all(m);
}

static void many_repeated_values_grow_the_array(void **state) {
    char *text = malloc(100000);
    size_t k = 0;
    for (int i = 0; i < 10000; i++)
        k += (size_t)sprintf(text + k, "ri: %d\n", i);
    sc_positions *pos = NULL;
    All *m = parse_ok(text, &pos);
    assert_int_equal(m->n_ri, 10000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(m->ri[i], i);
    sc_pos np, vp;
    assert_true(sc_positions_field(pos, &m->base, "ri", 9999, &np, &vp));
    assert_int_equal(np.line, 10000);
    assert_int_equal(vp.column, 5);
    sc_positions_free(pos);
    free_all(m);
    free(text);
}

static void comments_and_separators(void **state) {
    All *m = parse_ok("# leading comment\n"
                      "i32: 1, # trailing comment with { braces } and \"quotes\n"
                      "i64: 2; str: \"# not a comment\";\n"
                      "inner { x: 3; s: 'y', },\n",
                      NULL);
    assert_int_equal(m->i32, 1);
    assert_int_equal(m->i64, 2);
    assert_string_equal(m->str, "# not a comment");
    assert_int_equal(m->inner->x, 3);
    assert_string_equal(m->inner->s, "y");
    free_all(m);
}

static void oneof_sets_the_case(void **state) {
    All *m = parse_ok("one_m { x: 9 }", NULL);
    assert_int_equal(m->choice_case, KPSIM__SELFTEST__ALL__CHOICE_ONE_M);
    assert_int_equal(m->one_m->x, 9);
    free_all(m);
    m = parse_ok("one_b: \"s\"", NULL);
    assert_int_equal(m->choice_case, KPSIM__SELFTEST__ALL__CHOICE_ONE_B);
    assert_string_equal(m->one_b, "s");
    free_all(m);
}

static void parsed_message_packs_like_protobuf_c_built_it(void **state) {
    All *m = parse_ok("i32: 5 str: \"x\" rm { x: 1 } rs: [\"a\", \"b\"] one_a: 3 by: 'zz'", NULL);
    size_t n = protobuf_c_message_get_packed_size(&m->base);
    uint8_t *buf = malloc(n);
    protobuf_c_message_pack(&m->base, buf);
    All *u = kpsim__selftest__all__unpack(NULL, n, buf);
    assert_non_null(u);
    assert_int_equal(u->i32, 5);
    assert_string_equal(u->str, "x");
    assert_int_equal(u->n_rs, 2);
    assert_string_equal(u->rs[1], "b");
    assert_int_equal(u->one_a, 3);
    assert_int_equal(u->rm[0]->x, 1);
    kpsim__selftest__all__free_unpacked(u, NULL);
    free(buf);
    free_all(m);
}

static void positions_of_fields_values_and_messages(void **state) {
    sc_positions *pos = NULL;
    All *m = parse_ok("i32: 1\n"
                      "  rm {\n"
                      "    x:   42\n"
                      "  }\n"
                      "ri: [7,  8]\n"
                      "str: \"é\" i64: 3\n",
                      &pos);
    sc_pos np, vp;
    assert_true(sc_positions_field(pos, &m->base, "i32", 0, &np, &vp));
    assert_int_equal(np.line, 1);
    assert_int_equal(np.column, 1);
    assert_int_equal(vp.column, 6);
    assert_true(sc_positions_field(pos, &m->base, "rm", 0, &np, &vp));
    assert_int_equal(np.line, 2);
    assert_int_equal(np.column, 3);
    assert_int_equal(vp.column, 6); /* the brace */
    assert_true(sc_positions_field(pos, &m->rm[0]->base, "x", 0, &np, &vp));
    assert_int_equal(vp.line, 3);
    assert_int_equal(vp.column, 10);
    assert_true(sc_positions_message(pos, &m->rm[0]->base, &np));
    assert_int_equal(np.line, 2);
    assert_int_equal(np.column, 6);
    assert_true(sc_positions_field(pos, &m->base, "ri", 1, &np, &vp));
    assert_int_equal(vp.line, 5);
    assert_int_equal(vp.column, 10);
    /* columns count characters: "é" is one */
    assert_true(sc_positions_field(pos, &m->base, "i64", 0, &np, &vp));
    assert_int_equal(np.line, 6);
    assert_int_equal(np.column, 10);
    assert_false(sc_positions_field(pos, &m->base, "u32", 0, &np, &vp));
    assert_int_equal(np.line, 0);
    assert_false(sc_positions_field(pos, &m->base, "ri", 2, &np, &vp));
    assert_true(sc_positions_message(pos, &m->base, &np));
    assert_int_equal(np.line, 1);
    sc_positions_free(pos);
    free_all(m);
}

static void nearest_name_suggestions(void **state) {
    const char *names[] = { "linger.ms", "batch.size", "acks", "retries", "max.in.flight.requests.per.connection" };
    size_t n = sizeof names / sizeof names[0];
    assert_string_equal(sc_textpb_nearest("lingr.ms", names, n, sizeof names[0], 0), "linger.ms");
    assert_string_equal(sc_textpb_nearest("linger_ms", names, n, sizeof names[0], 0), "linger.ms");
    assert_string_equal(sc_textpb_nearest("ack", names, n, sizeof names[0], 0), "acks");
    assert_string_equal(sc_textpb_nearest("BATCH.SIZE", names, n, sizeof names[0], 0), "batch.size");
    assert_string_equal(sc_textpb_nearest("retires", names, n, sizeof names[0], 0), "retries");
    assert_null(sc_textpb_nearest("compression", names, n, sizeof names[0], 0));
    assert_null(sc_textpb_nearest("", names, n, sizeof names[0], 0));
}

/* ---- errors, each with its exact position --------------------------- */

static void error_unknown_field_suggests_or_lists(void **state) {
    expect_err("i32: 1\n  i3: 2", 2, 3, "unknown field 'i3' in kpsim.selftest.All; did you mean 'i32'?");
    expect_err("inner { zzzzzz: 1 }", 1, 9, "unknown field 'zzzzzz' in kpsim.selftest.Inner; valid fields: x, s, kid");
}

static void error_wrong_type(void **state) {
    expect_err("i32: \"three\"", 1, 6, "expected an integer for field 'i32' (int32), got \"three\"");
    expect_err("i32: three", 1, 6, "expected an integer for field 'i32' (int32), got 'three'");
    expect_err("i32: 1.5", 1, 6, "expected an integer for field 'i32' (int32), got '1.5'");
    expect_err("u32: 12abc", 1, 6, "expected an integer for field 'u32' (uint32), got '12abc'");
    expect_err("db: abc", 1, 5, "expected a number for field 'db' (double), got 'abc'");
    expect_err("b: yes", 1, 4, "expected true or false for field 'b' (bool), got 'yes'");
    expect_err("b: 2", 1, 4, "expected true or false for field 'b' (bool), got '2'");
    expect_err("str: hello", 1, 6, "expected a quoted string for field 'str' (string), got 'hello'");
    expect_err("str: 5", 1, 6, "expected a quoted string for field 'str' (string), got '5'");
    expect_err("color: \"RED\"", 1, 8, "expected a value name of enum kpsim.selftest.Color for field 'color'");
    expect_err("inner: 5", 1, 8, "expected '{' to open field 'inner' (message kpsim.selftest.Inner), got '5'");
    expect_err("i32: {", 1, 6, "expected an integer for field 'i32' (int32), got '{'");
}

static void error_out_of_range(void **state) {
    expect_err("i32: 2147483648", 1, 6, "value 2147483648 is out of range for field 'i32' (int32: -2147483648..2147483647)");
    expect_err("i32: -2147483649", 1, 6, "value -2147483649 is out of range for field 'i32'");
    expect_err("u32: -1", 1, 6, "value -1 is out of range for field 'u32' (uint32: 0..4294967295)");
    expect_err("u32: 4294967296", 1, 6, "out of range for field 'u32'");
    expect_err("u64: 18446744073709551616", 1, 6, "out of range for field 'u64' (uint64: 0..18446744073709551615)");
    expect_err("i64: 9223372036854775808", 1, 6, "out of range for field 'i64' (int64:");
    expect_err("fl: 1e39", 1, 5, "value 1e39 is out of range for field 'fl' (float)");
    expect_err("db: 1e999", 1, 5, "out of range for field 'db' (double)");
    expect_err("\n color: 7", 2, 9, "7 is not a value of enum kpsim.selftest.Color (field 'color')");
}

static void error_unknown_enum_value(void **state) {
    expect_err("color: BLEU", 1, 8, "unknown value 'BLEU' for field 'color' (enum kpsim.selftest.Color); did you mean 'BLUE'?");
    expect_err("color: PURPLE_HAZE", 1, 8, "valid values: NEGATIVE, RED, GREEN, BLUE");
}

static void error_strings(void **state) {
    expect_err("i32: 1\nstr: \"abc", 2, 6, "unterminated string: no closing \" before the end of the file");
    expect_err("str: 'abc\ni32: 1", 1, 6, "unterminated string: no closing ' before the end of the line");
    expect_err("str: \"ab\\", 1, 6, "unterminated string");
    expect_err("str: \"ab\\qc\"", 1, 9, "unknown escape '\\' followed by 'q'");
    expect_err("str: \"ab\\xzz\"", 1, 9, "bad escape '\\x': expected 1 or 2 hex digits");
    expect_err("str: \"\\u12\"", 1, 7, "bad escape '\\u': expected 4 hex digits");
    expect_err("str: \"\\ud800\"", 1, 7, "not a Unicode scalar value");
    expect_err("str: \"\\777\"", 1, 7, "bad octal escape");
    expect_err("str: \"\\xff\"", 1, 6, "string for field 'str' is not valid UTF-8");
    expect_err("str: \"a\\0b\"", 1, 6, "contains a NUL character");
    expect_err("str: \"é\\q\"", 1, 8, "unknown escape"); /* column counts é as one */
}

static void error_unbalanced_braces(void **state) {
    expect_err("inner {\n  x: 1\n", 1, 7, "'{' opening field 'inner' is never closed: the file ends before its '}'");
    expect_err("rm < x: 1", 1, 4, "'<' opening field 'rm' is never closed");
    expect_err("i32: 1 }", 1, 8, "unexpected '}': no '{' or '<' is open here");
    expect_err("inner { x: 1 >", 1, 14, "expected '}' to close '{' of field 'inner' (opened at 1:7), got '>'");
    expect_err("rm: [{x: 1} {x: 2}]", 1, 13, "expected ',' or ']' in the list for field 'rm', got '{'");
    expect_err("ri: [1 2]", 1, 8, "expected ',' or ']' in the list for field 'ri', got '2'");
    expect_err("rm: [x]", 1, 6, "expected '{' to open the next kpsim.selftest.Inner in the list for field 'rm'");
}

static void error_duplicate_and_oneof(void **state) {
    expect_err("i32: 1\ni64: 2\n  i32: 3", 3, 3, "field 'i32' is set twice (first at 1:1); it is not a repeated field");
    expect_err("inner { x: 1 }\ninner { x: 2 }", 2, 1, "field 'inner' is set twice (first at 1:1)");
    expect_err("one_a: 1\none_b: \"x\"", 2, 1,
               "field 'one_b' cannot be set together with 'one_a' (set at 1:1): a All holds only one of them");
}

static void error_missing_value(void **state) {
    expect_err("inner { x: }", 1, 11, "missing value for field 'x' (int32) after ':'; found '}'");
    expect_err("i32:", 1, 5, "missing value for field 'i32' (int32) after ':'; found the end of the file");
    expect_err("i32:\nb: true", 1, 5, "missing value for field 'i32' (int32) after ':'; found 'b'");
    expect_err("i32: , b: true", 1, 5, "missing value for field 'i32'");
    expect_err("ri: [1, ]", 1, 8, "missing value for field 'ri' (int32) after ':'; found ']'");
    expect_err("inner: }", 1, 7, "missing value for field 'inner' (message kpsim.selftest.Inner) after ':'; expected '{'");
    expect_err("i32 5", 1, 5, "expected ':' after field name 'i32' (int32), got '5'");
    expect_err("i32 }", 1, 4, "missing ':' and value for field 'i32' (int32)");
    expect_err("i32: -", 1, 7, "expected a number after '-' for field 'i32' (int32), got the end of the file");
}

static void error_structure(void **state) {
    expect_err("i32: [1]", 1, 6, "field 'i32' is not repeated; a [ ... ] list is only for repeated fields");
    expect_err("inner [{x: 1}]", 1, 7, "field 'inner' is not repeated");
    expect_err("[ext]: 1", 1, 1, "extension and Any fields ('[...]') are not supported");
    expect_err(": 1", 1, 1, "expected a field name of kpsim.selftest.All, got ':'");
    expect_err("i32: 1 @", 1, 8, "unexpected '@': expected a field name");
    expect_err("i32: 1 \x01", 1, 8, "unexpected byte 0x01");
    expect_err("5: 1", 1, 1, "expected a field name of kpsim.selftest.All, got '5'");
}

static void error_nesting_depth_is_bounded(void **state) {
    char text[4096];
    size_t k = 0;
    k += (size_t)sprintf(text + k, "inner ");
    for (int i = 0; i < SC_TEXTPB_MAX_DEPTH + 5; i++)
        k += (size_t)sprintf(text + k, "{ kid ");
    text[k] = 0;
    expect_err(text, 1, 7 + 6 * SC_TEXTPB_MAX_DEPTH, "messages nested deeper than");
}

static void error_file_name_and_no_position(void **state) {
    sc_error err;
    sc_error_set(&err, "x.textpb", (sc_pos){ 0, 0 }, "cannot open: %s", "No such file");
    assert_string_equal(err.text, "x.textpb: cannot open: No such file");
    sc_error_set(&err, "x.textpb", (sc_pos){ 3, 4 }, "bad");
    assert_string_equal(err.text, "x.textpb:3:4: bad");
    sc_error_set(NULL, "x", (sc_pos){ 1, 1 }, "ignored");
}

static void text_need_not_be_nul_terminated(void **state) {
    const char buf[] = { 'i', '3', '2', ':', ' ', '7', '9' }; /* only "i32: 7" given */
    sc_error err;
    All *m = (All *)sc_textpb_parse(&kpsim__selftest__all__descriptor, "t", buf, 6, NULL, &err);
    assert_non_null(m);
    assert_int_equal(m->i32, 7);
    free_all(m);
}

static void byte_order_mark_and_crlf_are_not_content(void **state) {
    sc_positions *pos = NULL;
    All *m = parse_ok("\xEF\xBB\xBFi32: 1\r\ni64: 2\r\n", &pos);
    assert_int_equal(m->i32, 1);
    sc_pos np, vp;
    assert_true(sc_positions_field(pos, &m->base, "i32", 0, &np, &vp));
    assert_int_equal(np.column, 1);
    assert_true(sc_positions_field(pos, &m->base, "i64", 0, &np, &vp));
    assert_int_equal(np.line, 2);
    assert_int_equal(np.column, 1);
    sc_positions_free(pos);
    free_all(m);
    expect_err("i32: 1\r\n  bogus: 2\r\n", 2, 3, "unknown field 'bogus'");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_scalar_type_reads_its_value),
        cmocka_unit_test(unset_fields_keep_defaults_and_no_has_flag),
        cmocka_unit_test(integers_in_hex_octal_and_decimal),
        cmocka_unit_test(floats_accept_ints_exponents_suffix_inf_nan),
        cmocka_unit_test(bools_in_every_spelling),
        cmocka_unit_test(enums_by_name_or_number),
        cmocka_unit_test(strings_quotes_escapes_and_concatenation),
        cmocka_unit_test(messages_in_all_three_forms),
        cmocka_unit_test(repeated_by_repetition_and_lists_mix),
        cmocka_unit_test(many_repeated_values_grow_the_array),
        cmocka_unit_test(comments_and_separators),
        cmocka_unit_test(oneof_sets_the_case),
        cmocka_unit_test(parsed_message_packs_like_protobuf_c_built_it),
        cmocka_unit_test(positions_of_fields_values_and_messages),
        cmocka_unit_test(nearest_name_suggestions),
        cmocka_unit_test(error_unknown_field_suggests_or_lists),
        cmocka_unit_test(error_wrong_type),
        cmocka_unit_test(error_out_of_range),
        cmocka_unit_test(error_unknown_enum_value),
        cmocka_unit_test(error_strings),
        cmocka_unit_test(error_unbalanced_braces),
        cmocka_unit_test(error_duplicate_and_oneof),
        cmocka_unit_test(error_missing_value),
        cmocka_unit_test(error_structure),
        cmocka_unit_test(error_nesting_depth_is_bounded),
        cmocka_unit_test(error_file_name_and_no_position),
        cmocka_unit_test(text_need_not_be_nul_terminated),
        cmocka_unit_test(byte_order_mark_and_crlf_are_not_content),
    };
    return cmocka_run_group_tests_name("scenarios: text-format reader", tests, NULL, NULL);
}
