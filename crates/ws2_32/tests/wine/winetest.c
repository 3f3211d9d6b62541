/*
 * The functions behind include/wine/test.h, and the process's entry point: `driver NAME`
 * runs one test function of Wine's sock.c (the runner, main.rs, generates the table of
 * functions, `wine_tests`, and includes sock.c with the functions that do not apply
 * removed). A check that fails prints one line; the end of the function prints the
 * counts. Checks may run on several threads at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

int winetest_interactive = 0;
int winetest_debug = 1;

static int main_argc;
static char **main_argv;
static long checks, failures, skips;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static __thread const char *cur_file;
static __thread int cur_line;
static __thread char context[8][256];
static __thread int context_depth;

void winetest_set_location(const char *file, int line)
{
    const char *slash = strrchr(file, '/');
    cur_file = slash ? slash + 1 : file;
    cur_line = line;
}

static void print_context(void)
{
    for (int i = 0; i < context_depth && i < 8; i++) printf("%s: ", context[i]);
}

int winetest_ok(int condition, const char *msg, ...)
{
    __atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);
    if (condition) return 1;
    __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    va_list ap;
    va_start(ap, msg);
    pthread_mutex_lock(&out_lock);
    printf("%s:%d: Test failed: ", cur_file, cur_line);
    print_context();
    vprintf(msg, ap);
    size_t n = strlen(msg);
    if (n == 0 || msg[n - 1] != '\n') printf("\n");
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    va_end(ap);
    return 0;
}

void winetest_skip(const char *msg, ...)
{
    __atomic_add_fetch(&skips, 1, __ATOMIC_RELAXED);
    va_list ap;
    va_start(ap, msg);
    pthread_mutex_lock(&out_lock);
    printf("%s:%d: Tests skipped: ", cur_file, cur_line);
    print_context();
    vprintf(msg, ap);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    va_end(ap);
}

void winetest_trace(const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    pthread_mutex_lock(&out_lock);
    printf("%s:%d: ", cur_file, cur_line);
    print_context();
    vprintf(msg, ap);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    va_end(ap);
}

void winetest_push_context(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (context_depth < 8) vsnprintf(context[context_depth], sizeof(context[0]), fmt, ap);
    context_depth++;
    va_end(ap);
}

void winetest_pop_context(void)
{
    if (context_depth > 0) context_depth--;
}

const char *debugstr_an(const char *s, int n)
{
    static __thread char bufs[16][512];
    static __thread unsigned next;
    char *b = bufs[next++ % 16];
    size_t o = 0;
    if (!s) return "(null)";
    if (n < 0) n = (int)strlen(s);
    b[o++] = '"';
    for (int i = 0; i < n && o < sizeof(bufs[0]) - 8; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 32 && c < 127 && c != '"' && c != '\\') b[o++] = (char)c;
        else o += (size_t)snprintf(b + o, sizeof(bufs[0]) - o, "\\x%02x", c);
    }
    if (n > 0 && o >= sizeof(bufs[0]) - 8) { memcpy(b + o, "...", 3); o += 3; }
    b[o++] = '"';
    b[o] = 0;
    return b;
}

int winetest_get_mainargs(char ***argv)
{
    *argv = main_argv;
    return main_argc;
}

struct wine_test {
    const char *name;
    void (*func)(void);
    int needs_init; /* Init() before, Exit() after: every function but the WSAStartup ones */
};
extern const struct wine_test wine_tests[];
void wine_init(void);
void wine_exit(void);

int main(int argc, char **argv)
{
    main_argc = argc;
    main_argv = argv;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        for (const struct wine_test *t = wine_tests; t->name; t++) printf("%s\n", t->name);
        return 0;
    }
    for (const struct wine_test *t = wine_tests; t->name; t++) {
        if (strcmp(t->name, argv[1]) != 0) continue;
        if (t->needs_init) wine_init();
        t->func();
        if (t->needs_init) wine_exit();
        printf("wine-test: done %ld checks, %ld failures, %ld skipped\n",
               __atomic_load_n(&checks, __ATOMIC_RELAXED),
               __atomic_load_n(&failures, __ATOMIC_RELAXED),
               __atomic_load_n(&skips, __ATOMIC_RELAXED));
        fflush(stdout);
        /* Exit at once: threads a test leaves behind must not keep the process. */
        _exit(0);
    }
    fprintf(stderr, "no test function %s\n", argv[1]);
    return 2;
}
