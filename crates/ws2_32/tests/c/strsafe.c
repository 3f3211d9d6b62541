/* <strsafe.h>, ANSI build: every function and its generic macro. Exact fit is S_OK;
 * one character short is STRSAFE_E_INSUFFICIENT_BUFFER with the truncated result
 * NUL-terminated and nothing written past cchDest; a size of 0 is refused untouched, a
 * size over STRSAFE_MAX_CCH is refused; NULL pointers are refused, not a crash; the N
 * variants stop at N (and never read past it); Cat needs a terminated destination;
 * Length with and without its out pointer. */
#include "check.h"
#include <strsafe.h>
#include <StrSafe.h> /* the case variant: the guard makes it a no-op here */
#include <stdarg.h>
#include <tchar.h>
#include <wchar.h>

#define E_BUF STRSAFE_E_INSUFFICIENT_BUFFER
#define E_INV STRSAFE_E_INVALID_PARAMETER
#define BIG ((size_t)STRSAFE_MAX_CCH + 1)

/* A 16-byte buffer full of 'X', so that anything written, or not, shows. */
static char buf[16];
static void fill(void) { memset(buf, 'X', sizeof(buf)); }
static int untouched_from(size_t i) {
    for (; i < sizeof(buf); i++)
        if (buf[i] != 'X')
            return 0;
    return 1;
}

static void constants(void) {
    CHECK_EQ(sizeof(HRESULT), 4);
    CHECK_EQ(S_OK, 0);
    CHECK_EQ(S_FALSE, 1);
    CHECK(SUCCEEDED(S_OK) && SUCCEEDED(S_FALSE) && !FAILED(S_FALSE));
    CHECK_EQ(STRSAFE_E_INSUFFICIENT_BUFFER, (HRESULT)0x8007007A);
    CHECK_EQ(STRSAFE_E_INSUFFICIENT_BUFFER, -2147024774LL);
    CHECK_EQ(STRSAFE_E_INVALID_PARAMETER, -2147024809LL);
    CHECK_EQ(STRSAFE_E_END_OF_FILE, -2147024858LL);
    CHECK(FAILED(STRSAFE_E_INSUFFICIENT_BUFFER) && FAILED(STRSAFE_E_INVALID_PARAMETER));
    CHECK(FAILED(STRSAFE_E_END_OF_FILE) && !SUCCEEDED(STRSAFE_E_END_OF_FILE));
    CHECK_EQ(STRSAFE_MAX_CCH, 2147483647);
    STRSAFE_LPSTR p = buf;
    STRSAFE_LPCSTR q = "x";
    CHECK(p != NULL && q != NULL);
}

static void copy(void) {
    /* Exact fit: 5 characters and the NUL in 6; nothing past them written. */
    fill();
    CHECK_EQ(StringCchCopyA(buf, 6, "hello"), S_OK);
    CHECK(strcmp(buf, "hello") == 0);
    CHECK(untouched_from(6));
    /* One short: truncated, terminated, E_BUF. */
    fill();
    CHECK_EQ(StringCchCopyA(buf, 5, "hello"), E_BUF);
    CHECK(strcmp(buf, "hell") == 0);
    CHECK(untouched_from(5));
    fill();
    CHECK_EQ(StringCchCopyA(buf, 1, "hello"), E_BUF);
    CHECK_EQ(buf[0], '\0');
    CHECK(untouched_from(1));
    fill();
    CHECK_EQ(StringCchCopyA(buf, 1, ""), S_OK);
    CHECK_EQ(buf[0], '\0');
    /* Size 0: refused, untouched. Over the maximum: refused, buf = "". */
    fill();
    CHECK_EQ(StringCchCopyA(buf, 0, "hello"), E_INV);
    CHECK(untouched_from(0));
    CHECK_EQ(StringCchCopyA(buf, BIG, "hello"), E_INV);
    CHECK_EQ(buf[0], '\0');
    CHECK(untouched_from(1));
    /* The maximum itself is allowed (only the NUL-bounded source is written). */
    fill();
    CHECK_EQ(StringCchCopyA(buf, STRSAFE_MAX_CCH, "hi"), S_OK);
    CHECK(strcmp(buf, "hi") == 0);
    CHECK(untouched_from(3));
    /* NULL destination or source. */
    CHECK_EQ(StringCchCopyA(NULL, 10, "hello"), E_INV);
    CHECK_EQ(StringCchCopyA(NULL, 0, "hello"), E_INV);
    fill();
    CHECK_EQ(StringCchCopyA(buf, 10, NULL), E_INV);
    CHECK_EQ(buf[0], '\0');

    /* Cb: the same in bytes. */
    fill();
    CHECK_EQ(StringCbCopyA(buf, 6, "hello"), S_OK);
    CHECK(strcmp(buf, "hello") == 0);
    CHECK(untouched_from(6));
    fill();
    CHECK_EQ(StringCbCopyA(buf, 3, "hello"), E_BUF);
    CHECK(strcmp(buf, "he") == 0);
    CHECK(untouched_from(3));
    fill();
    CHECK_EQ(StringCbCopyA(buf, 0, "hello"), E_INV);
    CHECK(untouched_from(0));
    CHECK_EQ(StringCbCopyA(buf, BIG * sizeof(char), "hello"), E_INV);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(StringCbCopyA(NULL, 6, "x"), E_INV);
    fill();
    CHECK_EQ(StringCbCopyA(buf, 6, NULL), E_INV);
    CHECK_EQ(buf[0], '\0');
    /* The destination buffer's own size, the usual call. */
    CHECK_EQ(StringCbCopyA(buf, sizeof(buf), "0123456789abcde"), S_OK);
    CHECK_EQ(StringCbCopyA(buf, sizeof(buf), "0123456789abcdef"), E_BUF);
    CHECK(strcmp(buf, "0123456789abcde") == 0);
}

static void copy_n(void) {
    /* An unterminated source: only the first N characters may be read (ASan sees). */
    static const char xyz[3] = {'x', 'y', 'z'};
    fill();
    CHECK_EQ(StringCchCopyNA(buf, 10, xyz, 3), S_OK);
    CHECK(strcmp(buf, "xyz") == 0);
    CHECK(untouched_from(4));
    /* Stops at N. */
    fill();
    CHECK_EQ(StringCchCopyNA(buf, 10, "abcdef", 3), S_OK);
    CHECK(strcmp(buf, "abc") == 0);
    CHECK(untouched_from(4));
    /* Stops at the NUL before N, and (unlike strncpy) pads nothing. */
    fill();
    CHECK_EQ(StringCchCopyNA(buf, 10, "ab", 8), S_OK);
    CHECK(strcmp(buf, "ab") == 0);
    CHECK(untouched_from(3));
    /* N = 0: "". */
    fill();
    CHECK_EQ(StringCchCopyNA(buf, 10, "abc", 0), S_OK);
    CHECK_EQ(buf[0], '\0');
    CHECK(untouched_from(1));
    /* Exact fit for N characters, then one short. */
    fill();
    CHECK_EQ(StringCchCopyNA(buf, 6, "abcdefgh", 5), S_OK);
    CHECK(strcmp(buf, "abcde") == 0);
    CHECK(untouched_from(6));
    fill();
    CHECK_EQ(StringCchCopyNA(buf, 3, "abcdefgh", 5), E_BUF);
    CHECK(strcmp(buf, "ab") == 0);
    CHECK(untouched_from(3));
    /* Bad sizes and pointers. */
    fill();
    CHECK_EQ(StringCchCopyNA(buf, 0, "abc", 2), E_INV);
    CHECK(untouched_from(0));
    CHECK_EQ(StringCchCopyNA(buf, BIG, "abc", 2), E_INV);
    CHECK_EQ(buf[0], '\0');
    fill();
    CHECK_EQ(StringCchCopyNA(buf, 10, "abc", BIG), E_INV);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(StringCchCopyNA(NULL, 10, "abc", 2), E_INV);
    fill();
    CHECK_EQ(StringCchCopyNA(buf, 10, NULL, 2), E_INV);
    CHECK_EQ(buf[0], '\0');

    /* Cb. */
    fill();
    CHECK_EQ(StringCbCopyNA(buf, 10, xyz, 2), S_OK);
    CHECK(strcmp(buf, "xy") == 0);
    CHECK(untouched_from(3));
    fill();
    CHECK_EQ(StringCbCopyNA(buf, 4, "abcdef", 4), E_BUF);
    CHECK(strcmp(buf, "abc") == 0);
    CHECK(untouched_from(4));
    fill();
    CHECK_EQ(StringCbCopyNA(buf, 4, "abcdef", 3), S_OK);
    CHECK(strcmp(buf, "abc") == 0);
    fill();
    CHECK_EQ(StringCbCopyNA(buf, 0, "abc", 1), E_INV);
    CHECK(untouched_from(0));
    CHECK_EQ(StringCbCopyNA(buf, 10, "abc", BIG), E_INV);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(StringCbCopyNA(NULL, 10, "abc", 1), E_INV);
    CHECK_EQ(StringCbCopyNA(buf, 10, NULL, 1), E_INV);
}

static void cat(void) {
    fill();
    strcpy(buf, "foo");
    CHECK_EQ(StringCchCatA(buf, 10, "bar"), S_OK);
    CHECK(strcmp(buf, "foobar") == 0);
    CHECK(untouched_from(7));
    /* Exact fit, then one short. */
    fill();
    strcpy(buf, "foo");
    CHECK_EQ(StringCchCatA(buf, 7, "bar"), S_OK);
    CHECK(strcmp(buf, "foobar") == 0);
    CHECK(untouched_from(7));
    fill();
    strcpy(buf, "foo");
    CHECK_EQ(StringCchCatA(buf, 6, "bar"), E_BUF);
    CHECK(strcmp(buf, "fooba") == 0);
    CHECK(untouched_from(6));
    /* A full destination: appending something truncates all of it, "" is fine. */
    fill();
    strcpy(buf, "abc");
    CHECK_EQ(StringCchCatA(buf, 4, "d"), E_BUF);
    CHECK(strcmp(buf, "abc") == 0);
    CHECK_EQ(StringCchCatA(buf, 4, ""), S_OK);
    CHECK(strcmp(buf, "abc") == 0);
    /* No NUL within cchDest: refused, left as it was. */
    fill();
    memcpy(buf, "abcdef", 6);
    CHECK_EQ(StringCchCatA(buf, 3, "z"), E_INV);
    CHECK(memcmp(buf, "abcdef", 6) == 0);
    CHECK(untouched_from(6));
    /* Bad sizes and pointers: the destination stays "foo". */
    fill();
    strcpy(buf, "foo");
    CHECK_EQ(StringCchCatA(buf, 0, "bar"), E_INV);
    CHECK_EQ(StringCchCatA(buf, BIG, "bar"), E_INV);
    CHECK_EQ(StringCchCatA(buf, 10, NULL), E_INV);
    CHECK_EQ(StringCchCatA(NULL, 10, "bar"), E_INV);
    CHECK(strcmp(buf, "foo") == 0);
    CHECK(untouched_from(4));

    /* Cb. */
    fill();
    strcpy(buf, "ab");
    CHECK_EQ(StringCbCatA(buf, 5, "cd"), S_OK);
    CHECK(strcmp(buf, "abcd") == 0);
    CHECK_EQ(StringCbCatA(buf, 6, "ef"), E_BUF);
    CHECK(strcmp(buf, "abcde") == 0);
    CHECK(untouched_from(6));
    CHECK_EQ(StringCbCatA(buf, 0, "x"), E_INV);
    CHECK_EQ(StringCbCatA(buf, BIG, "x"), E_INV);
    CHECK_EQ(StringCbCatA(buf, 10, NULL), E_INV);
    CHECK_EQ(StringCbCatA(NULL, 10, "x"), E_INV);
    CHECK(strcmp(buf, "abcde") == 0);
    /* Repeated appends in a sizeof-sized buffer, as samples build paths. */
    CHECK_EQ(StringCbCopyA(buf, sizeof(buf), "C:"), S_OK);
    CHECK_EQ(StringCbCatA(buf, sizeof(buf), "\\dir"), S_OK);
    CHECK_EQ(StringCbCatA(buf, sizeof(buf), "\\files.txt"), E_BUF);
    CHECK(strcmp(buf, "C:\\dir\\files.tx") == 0);
    CHECK_EQ(strlen(buf), sizeof(buf) - 1);
}

static void cat_n(void) {
    static const char cdef[4] = {'c', 'd', 'e', 'f'}; /* unterminated */
    fill();
    strcpy(buf, "ab");
    CHECK_EQ(StringCchCatNA(buf, 10, cdef, 2), S_OK);
    CHECK(strcmp(buf, "abcd") == 0);
    CHECK(untouched_from(5));
    CHECK_EQ(StringCchCatNA(buf, 10, cdef, 0), S_OK);
    CHECK(strcmp(buf, "abcd") == 0);
    CHECK_EQ(StringCchCatNA(buf, 10, "xy", 100), S_OK); /* stops at the NUL */
    CHECK(strcmp(buf, "abcdxy") == 0);
    CHECK(untouched_from(7));
    /* Exact fit, then truncation. */
    fill();
    strcpy(buf, "ab");
    CHECK_EQ(StringCchCatNA(buf, 5, cdef, 2), S_OK);
    CHECK(strcmp(buf, "abcd") == 0);
    fill();
    strcpy(buf, "ab");
    CHECK_EQ(StringCchCatNA(buf, 4, cdef, 3), E_BUF);
    CHECK(strcmp(buf, "abc") == 0);
    CHECK(untouched_from(4));
    /* Bad arguments leave "ab". */
    fill();
    strcpy(buf, "ab");
    CHECK_EQ(StringCchCatNA(buf, 10, "cd", BIG), E_INV);
    CHECK_EQ(StringCchCatNA(buf, 0, "cd", 1), E_INV);
    CHECK_EQ(StringCchCatNA(buf, BIG, "cd", 1), E_INV);
    CHECK_EQ(StringCchCatNA(buf, 10, NULL, 1), E_INV);
    CHECK_EQ(StringCchCatNA(NULL, 10, "cd", 1), E_INV);
    CHECK_EQ(StringCchCatNA(buf, 2, "cd", 1), E_INV); /* no NUL within 2 */
    CHECK(strcmp(buf, "ab") == 0);
    CHECK(untouched_from(3));

    /* Cb. */
    CHECK_EQ(StringCbCatNA(buf, 10, cdef, 3), S_OK);
    CHECK(strcmp(buf, "abcde") == 0);
    CHECK_EQ(StringCbCatNA(buf, 7, cdef, 4), E_BUF);
    CHECK(strcmp(buf, "abcdec") == 0);
    CHECK(untouched_from(7));
    CHECK_EQ(StringCbCatNA(buf, 10, "x", BIG), E_INV);
    CHECK_EQ(StringCbCatNA(buf, 0, "x", 1), E_INV);
    CHECK_EQ(StringCbCatNA(NULL, 10, "x", 1), E_INV);
    CHECK_EQ(StringCbCatNA(buf, 10, NULL, 1), E_INV);
    CHECK(strcmp(buf, "abcdec") == 0);
}

static void length(void) {
    static const char abcd[4] = {'a', 'b', 'c', 'd'}; /* unterminated */
    size_t n = 99;
    CHECK_EQ(StringCchLengthA("hello", 6, &n), S_OK);
    CHECK_EQ(n, 5);
    n = 99;
    CHECK_EQ(StringCchLengthA("hello", 100, &n), S_OK);
    CHECK_EQ(n, 5);
    n = 99;
    CHECK_EQ(StringCchLengthA("", 1, &n), S_OK);
    CHECK_EQ(n, 0);
    n = 99;
    CHECK_EQ(StringCchLengthA("hello", STRSAFE_MAX_CCH, &n), S_OK);
    CHECK_EQ(n, 5);
    /* Longer than cchMax (the NUL counts): refused, length 0. */
    n = 99;
    CHECK_EQ(StringCchLengthA("hello", 5, &n), E_INV);
    CHECK_EQ(n, 0);
    n = 99;
    CHECK_EQ(StringCchLengthA(abcd, 4, &n), E_INV); /* reads 4, no more */
    CHECK_EQ(n, 0);
    n = 99;
    CHECK_EQ(StringCchLengthA(abcd, 0, &n), E_INV);
    CHECK_EQ(n, 0);
    n = 99;
    CHECK_EQ(StringCchLengthA("hello", BIG, &n), E_INV);
    CHECK_EQ(n, 0);
    n = 99;
    CHECK_EQ(StringCchLengthA(NULL, 10, &n), E_INV);
    CHECK_EQ(n, 0);
    /* No out pointer: only the answer. */
    CHECK_EQ(StringCchLengthA("hello", 6, NULL), S_OK);
    CHECK_EQ(StringCchLengthA("hello", 5, NULL), E_INV);
    CHECK_EQ(StringCchLengthA(NULL, 5, NULL), E_INV);

    /* Cb: bytes. */
    n = 99;
    CHECK_EQ(StringCbLengthA("hello", 6, &n), S_OK);
    CHECK_EQ(n, 5);
    n = 99;
    CHECK_EQ(StringCbLengthA("hello", 5, &n), E_INV);
    CHECK_EQ(n, 0);
    n = 99;
    CHECK_EQ(StringCbLengthA("hello", BIG * sizeof(char), &n), E_INV);
    CHECK_EQ(n, 0);
    n = 99;
    CHECK_EQ(StringCbLengthA(NULL, 6, &n), E_INV);
    CHECK_EQ(n, 0);
    n = 99;
    CHECK_EQ(StringCbLengthA(abcd, sizeof(abcd), &n), E_INV);
    CHECK_EQ(n, 0);
    CHECK_EQ(StringCbLengthA("hello", 6, NULL), S_OK);
    CHECK_EQ(StringCbLengthA(abcd, 4, NULL), E_INV);
}

static HRESULT vcch(char *d, size_t cch, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    HRESULT hr = StringCchVPrintfA(d, cch, fmt, ap);
    va_end(ap);
    return hr;
}

static HRESULT vcb(char *d, size_t cb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    HRESULT hr = StringCbVPrintfA(d, cb, fmt, ap);
    va_end(ap);
    return hr;
}

static HRESULT vgeneric(char *d, size_t n, int cb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    HRESULT hr = cb ? StringCbVPrintf(d, n, fmt, ap) : StringCchVPrintf(d, n, fmt, ap);
    va_end(ap);
    return hr;
}

static void printf_family(void) {
    /* Several arguments of several types. */
    fill();
    CHECK_EQ(StringCchPrintfA(buf, sizeof(buf), "%s=%d,%c%x%%", "ab", -12, 'Z', 255u), S_OK);
    CHECK(strcmp(buf, "ab=-12,Zff%") == 0);
    CHECK(untouched_from(12));
    char big[64];
    CHECK_EQ(StringCchPrintfA(big, 64, "%05.1f|%-4s|%lu|%lld|%p", 3.14159, "x", 7ul, -9000000000LL, (void *)0),
             S_OK);
    char want[64];
    snprintf(want, sizeof(want), "%05.1f|%-4s|%lu|%lld|%p", 3.14159, "x", 7ul, -9000000000LL, (void *)0);
    CHECK(strcmp(big, want) == 0);
    /* Exact fit: "123ab" in 6; one short: "123a" in 5, E_BUF. */
    fill();
    CHECK_EQ(StringCchPrintfA(buf, 6, "%d%s", 123, "ab"), S_OK);
    CHECK(strcmp(buf, "123ab") == 0);
    CHECK(untouched_from(6));
    fill();
    CHECK_EQ(StringCchPrintfA(buf, 5, "%d%s", 123, "ab"), E_BUF);
    CHECK(strcmp(buf, "123a") == 0);
    CHECK(untouched_from(5));
    fill();
    CHECK_EQ(StringCchPrintfA(buf, 1, "%d", 5), E_BUF);
    CHECK_EQ(buf[0], '\0');
    CHECK(untouched_from(1));
    fill();
    CHECK_EQ(StringCchPrintfA(buf, 1, "%s", ""), S_OK);
    CHECK_EQ(buf[0], '\0');
    /* Bad sizes and pointers. */
    fill();
    CHECK_EQ(StringCchPrintfA(buf, 0, "%d", 5), E_INV);
    CHECK(untouched_from(0));
    CHECK_EQ(StringCchPrintfA(buf, BIG, "%d", 5), E_INV);
    CHECK_EQ(buf[0], '\0');
    CHECK(untouched_from(1));
    fill();
    CHECK_EQ(StringCchPrintfA(buf, 10, NULL), E_INV);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(StringCchPrintfA(NULL, 10, "%d", 5), E_INV);

    /* VPrintf through a va_list. */
    fill();
    CHECK_EQ(vcch(buf, 10, "%s-%u-%s", "a", 42u, "bc"), S_OK);
    CHECK(strcmp(buf, "a-42-bc") == 0);
    fill();
    CHECK_EQ(vcch(buf, 7, "%s-%u-%s", "a", 42u, "bc"), E_BUF);
    CHECK(strcmp(buf, "a-42-b") == 0);
    CHECK(untouched_from(7));
    fill();
    CHECK_EQ(vcch(buf, 0, "%d", 1), E_INV);
    CHECK(untouched_from(0));
    CHECK_EQ(vcch(buf, BIG, "%d", 1), E_INV);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(vcch(NULL, 4, "%d", 1), E_INV);
    CHECK_EQ(vcch(buf, 4, NULL), E_INV);

    /* Cb. */
    fill();
    CHECK_EQ(StringCbPrintfA(buf, sizeof(buf), "[%3d|%-3s]", 7, "ab"), S_OK);
    CHECK(strcmp(buf, "[  7|ab ]") == 0);
    fill();
    CHECK_EQ(StringCbPrintfA(buf, 4, "%d-%d", 10, 20), E_BUF);
    CHECK(strcmp(buf, "10-") == 0);
    CHECK(untouched_from(4));
    fill();
    CHECK_EQ(StringCbPrintfA(buf, 0, "%d", 1), E_INV);
    CHECK(untouched_from(0));
    CHECK_EQ(StringCbPrintfA(buf, BIG, "%d", 1), E_INV);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(StringCbPrintfA(NULL, 4, "%d", 1), E_INV);
    fill();
    CHECK_EQ(vcb(buf, 6, "%s%s", "abc", "de"), S_OK);
    CHECK(strcmp(buf, "abcde") == 0);
    fill();
    CHECK_EQ(vcb(buf, 5, "%s%s", "abc", "de"), E_BUF);
    CHECK(strcmp(buf, "abcd") == 0);
    CHECK(untouched_from(5));
    CHECK_EQ(vcb(buf, 0, "%d", 1), E_INV);
    CHECK_EQ(vcb(buf, 5, NULL), E_INV);
    CHECK_EQ(buf[0], '\0');

    /* An output error (a wide character with no form in the C locale) is a failure,
     * but not E_BUF (callers grow the buffer and retry on that), and leaves "". */
    static const wchar_t bad[] = {0x20AC, 0};
    char probe[8];
    if (snprintf(probe, sizeof(probe), "%ls", bad) < 0) {
        fill();
        CHECK_EQ(StringCchPrintfA(buf, sizeof(buf), "a%lsb", bad), E_INV);
        CHECK_EQ(buf[0], '\0');
    }
}

/* The generic names: macros for the A functions, usable as values too. */
static void generic_names(void) {
#if !defined(StringCchPrintf) || !defined(StringCbPrintf) || !defined(StringCchVPrintf) ||                        \
    !defined(StringCbVPrintf) || !defined(StringCchCopy) || !defined(StringCbCopy) ||                             \
    !defined(StringCchCopyN) || !defined(StringCbCopyN) || !defined(StringCchCat) || !defined(StringCbCat) ||    \
    !defined(StringCchCatN) || !defined(StringCbCatN) || !defined(StringCchLength) || !defined(StringCbLength)
#error "a generic strsafe name is missing"
#endif
    TCHAR t[8];
    size_t n = 0;
    CHECK_EQ(StringCchPrintf(t, ARRAYSIZE(t), _T("%d:%s"), 12, _T("ab")), S_OK);
    CHECK(strcmp(t, "12:ab") == 0);
    CHECK_EQ(StringCbPrintf(t, sizeof(t), "%s", "0123456789"), E_BUF);
    CHECK(strcmp(t, "0123456") == 0);
    CHECK_EQ(vgeneric(t, ARRAYSIZE(t), 0, "%c%c", 'p', 'q'), S_OK);
    CHECK(strcmp(t, "pq") == 0);
    CHECK_EQ(vgeneric(t, 2, 1, "%c%c", 'p', 'q'), E_BUF);
    CHECK(strcmp(t, "p") == 0);
    CHECK_EQ(StringCchCopy(t, ARRAYSIZE(t), "abc"), S_OK);
    CHECK_EQ(StringCchCat(t, ARRAYSIZE(t), "def"), S_OK);
    CHECK(strcmp(t, "abcdef") == 0);
    CHECK_EQ(StringCbCat(t, sizeof(t), "gh"), E_BUF);
    CHECK(strcmp(t, "abcdefg") == 0);
    CHECK_EQ(StringCbCopy(t, sizeof(t), "x"), S_OK);
    CHECK_EQ(StringCchCatN(t, ARRAYSIZE(t), "yzw", 2), S_OK);
    CHECK(strcmp(t, "xyz") == 0);
    CHECK_EQ(StringCbCatN(t, sizeof(t), "12345", 3), S_OK);
    CHECK(strcmp(t, "xyz123") == 0);
    CHECK_EQ(StringCchCopyN(t, ARRAYSIZE(t), "hello", 4), S_OK);
    CHECK(strcmp(t, "hell") == 0);
    CHECK_EQ(StringCbCopyN(t, sizeof(t), "hello", 2), S_OK);
    CHECK(strcmp(t, "he") == 0);
    CHECK_EQ(StringCchLength(t, ARRAYSIZE(t), &n), S_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(StringCbLength(_T("four"), 5, &n), S_OK);
    CHECK_EQ(n, 4);

    HRESULT (*copy_fn)(STRSAFE_LPSTR, size_t, STRSAFE_LPCSTR) = StringCchCopy;
    HRESULT (*print_fn)(STRSAFE_LPSTR, size_t, STRSAFE_LPCSTR, ...) = StringCbPrintf;
    CHECK_EQ(copy_fn(t, 3, "xyz"), E_BUF);
    CHECK(strcmp(t, "xy") == 0);
    CHECK_EQ(print_fn(t, sizeof(t), "%d", 77), S_OK);
    CHECK(strcmp(t, "77") == 0);
    HRESULT hr = StringCchCopy(t, ARRAYSIZE(t), "too long for it");
    CHECK(FAILED(hr));
    CHECK(hr == STRSAFE_E_INSUFFICIENT_BUFFER);
}

int main(void) {
    constants();
    copy();
    copy_n();
    cat();
    cat_n();
    length();
    printf_family();
    generic_names();
    printf("ok\n");
    return 0;
}
