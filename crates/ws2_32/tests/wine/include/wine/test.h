/*
 * The project's own stand-in for Wine's <wine/test.h>: the checking macros that Wine's
 * conformance tests (dlls/ws2_32/tests/sock.c) use, written for this project's runner
 * (crates/ws2_32/tests/wine/main.rs).
 *
 * We aim at Windows, not at Wine: a check marked todo_wine must pass like any other
 * (todo_wine and todo_wine_if change nothing), and broken(x) is x, as on Windows, where
 * it accepts the behaviour of an older Windows release.
 *
 * Output, one line each, read by the runner:
 *   "sock.c:LINE: Test failed: MESSAGE"   a failing check
 *   "sock.c:LINE: Tests skipped: MESSAGE" skip() / win_skip()
 *   "wine-test: done N checks, F failures, S skipped"  at the end of a test function
 */
#ifndef OVL_WINE_TEST_H
#define OVL_WINE_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int winetest_interactive;
extern int winetest_debug;

void winetest_set_location(const char *file, int line);
int winetest_ok(int condition, const char *msg, ...) __attribute__((format(printf, 2, 3)));
void winetest_skip(const char *msg, ...) __attribute__((format(printf, 1, 2)));
void winetest_trace(const char *msg, ...) __attribute__((format(printf, 1, 2)));
void winetest_push_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void winetest_pop_context(void);
int winetest_get_mainargs(char ***argv);

#define ok_(file, line) (winetest_set_location(file, line), 0) ? (void)0 : (void)winetest_ok
#define skip_(file, line) (winetest_set_location(file, line), 0) ? (void)0 : winetest_skip
#define trace_(file, line) (winetest_set_location(file, line), 0) ? (void)0 : winetest_trace

#define ok ok_(__FILE__, __LINE__)
#define skip skip_(__FILE__, __LINE__)
#define win_skip skip_(__FILE__, __LINE__)
#define trace trace_(__FILE__, __LINE__)

/* Windows' view: what Wine marks as its own shortcoming is checked like any other. */
#define todo_if(is_todo) for (int winetest_todo_once = 1; winetest_todo_once; winetest_todo_once = 0)
#define todo_wine todo_if(1)
#define todo_wine_if(is_todo) todo_if(is_todo)
#define flaky todo_if(1)
#define flaky_wine todo_if(1)
#define broken(condition) (condition)

#define START_TEST(name) void func_##name(void)

/* Wine's helpers that its tests use (Wine's headers have them; Windows' do not). */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#endif
/* The first n bytes of s (all of it when n < 0) quoted, with non-printable bytes escaped;
 * the text lives until the same thread's 16th call after it. */
const char *debugstr_an(const char *s, int n);
#define wine_dbgstr_an debugstr_an
#define debugstr_a(s) debugstr_an((s), -1)
#define wine_dbgstr_a debugstr_a

#endif
