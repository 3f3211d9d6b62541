/*
 * strsafe.h: the safe string functions of the Windows SDK, ANSI build, for Linux
 * (libws2_32 headers, crates/ws2_32/include). Header only: every function is
 * `static inline`, so any number of translation units may include it.
 *
 * The non-suffixed names (StringCchCopy, StringCbPrintf, ...) are macros for the A
 * (char) versions, as on Windows when UNICODE is not defined; TCHAR is char here.
 *
 * Rules, as documented for Windows:
 *  - cchDest (cbDest) of 0 or above STRSAFE_MAX_CCH is STRSAFE_E_INVALID_PARAMETER;
 *  - when the destination is usable, it is NUL-terminated on every return;
 *  - a result that does not fit is truncated (and NUL-terminated) and the function
 *    returns STRSAFE_E_INSUFFICIENT_BUFFER;
 *  - the Cat functions need a destination that is NUL-terminated within cchDest,
 *    else STRSAFE_E_INVALID_PARAMETER and the destination is left as it was;
 *  - the Length functions report STRSAFE_E_INVALID_PARAMETER (and a length of 0) for a
 *    string not NUL-terminated within cchMax characters.
 * Where Windows' documentation says a pointer must not be NULL, a NULL pointer here is
 * STRSAFE_E_INVALID_PARAMETER (a usable destination is then set to ""), never a crash.
 */
#ifndef OVL_STRSAFE_H
#define OVL_STRSAFE_H

#include "windows.h"
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- HRESULT (windows.h has it today; winnt.h's guard name keeps one definition) -- */
#ifndef _HRESULT_DEFINED
#define _HRESULT_DEFINED
typedef LONG HRESULT; /* the same type as windows.h's: a repeated typedef is allowed */
#endif
#ifndef S_OK
#define S_OK ((HRESULT)0L)
#endif
#ifndef S_FALSE
#define S_FALSE ((HRESULT)1L)
#endif
#ifndef SUCCEEDED
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#endif
#ifndef FAILED
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#endif

/* --- strsafe's own codes and limits ------------------------------------------------ */
#ifndef STRSAFE_E_INSUFFICIENT_BUFFER
#define STRSAFE_E_INSUFFICIENT_BUFFER ((HRESULT)0x8007007AL) /* HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER) */
#endif
#ifndef STRSAFE_E_INVALID_PARAMETER
#define STRSAFE_E_INVALID_PARAMETER ((HRESULT)0x80070057L) /* E_INVALIDARG */
#endif
#ifndef STRSAFE_E_END_OF_FILE
#define STRSAFE_E_END_OF_FILE ((HRESULT)0x80070026L) /* HRESULT_FROM_WIN32(ERROR_HANDLE_EOF) */
#endif
#ifndef STRSAFE_MAX_CCH
#define STRSAFE_MAX_CCH 2147483647 /* INT_MAX characters, NUL included */
#endif
#ifndef STRSAFE_MAX_LENGTH
#define STRSAFE_MAX_LENGTH (STRSAFE_MAX_CCH - 1)
#endif

typedef char *STRSAFE_LPSTR;
typedef const char *STRSAFE_LPCSTR;
typedef const char *STRSAFE_PCNZCH; /* may lack a NUL within the count that goes with it */

#ifndef STRSAFEAPI
#define STRSAFEAPI static inline HRESULT
#endif

/* --- helpers (not part of the Windows API) ------------------------------------------ */
#define OVL_STRSAFE_MAX ((size_t)STRSAFE_MAX_CCH)

/* Copies at most cchSrc characters of pszSrc, stopping at its NUL, into pszDest of
 * cchDest (1..STRSAFE_MAX_CCH) characters, and NUL-terminates. Reads pszSrc only up
 * to its NUL or cchSrc characters, whichever comes first. */
static inline HRESULT ovl_strsafe_copy(char *pszDest, size_t cchDest, const char *pszSrc, size_t cchSrc) {
    size_t i = 0;
    while (i + 1 < cchDest && i < cchSrc && pszSrc[i] != '\0') {
        pszDest[i] = pszSrc[i];
        i++;
    }
    pszDest[i] = '\0';
    if (i < cchSrc && pszSrc[i] != '\0')
        return STRSAFE_E_INSUFFICIENT_BUFFER; /* more source than room */
    return S_OK;
}

/* The length of psz if a NUL lies within its first cchMax characters, else cchMax. */
static inline size_t ovl_strsafe_len(const char *psz, size_t cchMax) {
    size_t n = 0;
    while (n < cchMax && psz[n] != '\0')
        n++;
    return n;
}

/* The destination checks of Copy/CopyN/Printf: NULL or 0 is refused untouched; an
 * oversized count (or bad source) is refused with pszDest[0] set to NUL. */
static inline HRESULT ovl_strsafe_copy_n(char *pszDest, size_t cchDest, const char *pszSrc, size_t cchSrc,
                                         int limited) {
    if (pszDest == NULL || cchDest == 0)
        return STRSAFE_E_INVALID_PARAMETER;
    if (cchDest > OVL_STRSAFE_MAX || pszSrc == NULL || (limited && cchSrc > OVL_STRSAFE_MAX)) {
        pszDest[0] = '\0';
        return STRSAFE_E_INVALID_PARAMETER;
    }
    return ovl_strsafe_copy(pszDest, cchDest, pszSrc, cchSrc);
}

/* Appends at most cchSrc characters of pszSrc to the string in pszDest. */
static inline HRESULT ovl_strsafe_cat_n(char *pszDest, size_t cchDest, const char *pszSrc, size_t cchSrc,
                                        int limited) {
    if (pszDest == NULL || cchDest == 0 || cchDest > OVL_STRSAFE_MAX)
        return STRSAFE_E_INVALID_PARAMETER;
    size_t used = ovl_strsafe_len(pszDest, cchDest);
    if (used == cchDest)
        return STRSAFE_E_INVALID_PARAMETER; /* no NUL within cchDest: "already full" */
    if (pszSrc == NULL || (limited && cchSrc > OVL_STRSAFE_MAX))
        return STRSAFE_E_INVALID_PARAMETER; /* the destination stays as it was */
    return ovl_strsafe_copy(pszDest + used, cchDest - used, pszSrc, cchSrc);
}

static inline HRESULT ovl_strsafe_length(const char *psz, size_t cchMax, size_t *pcchLength) {
    HRESULT hr = STRSAFE_E_INVALID_PARAMETER;
    size_t n = 0;
    if (psz != NULL && cchMax != 0 && cchMax <= OVL_STRSAFE_MAX) {
        n = ovl_strsafe_len(psz, cchMax);
        if (n < cchMax)
            hr = S_OK;
        else
            n = 0;
    }
    if (pcchLength != NULL)
        *pcchLength = n;
    return hr;
}

/* --- Printf -------------------------------------------------------------------------- */
STRSAFEAPI StringCchVPrintfA(STRSAFE_LPSTR pszDest, size_t cchDest, STRSAFE_LPCSTR pszFormat, va_list argList) {
    if (pszDest == NULL || cchDest == 0)
        return STRSAFE_E_INVALID_PARAMETER;
    if (cchDest > OVL_STRSAFE_MAX || pszFormat == NULL) {
        pszDest[0] = '\0';
        return STRSAFE_E_INVALID_PARAMETER;
    }
    int n = vsnprintf(pszDest, cchDest, pszFormat, argList);
    if (n < 0) {
        /* An output error (a character with no multibyte form, say): not a matter of
         * buffer size, so not STRSAFE_E_INSUFFICIENT_BUFFER, which callers retry on. */
        pszDest[0] = '\0';
        return STRSAFE_E_INVALID_PARAMETER;
    }
    if ((size_t)n >= cchDest) {
        pszDest[cchDest - 1] = '\0'; /* vsnprintf did; said again for certainty */
        return STRSAFE_E_INSUFFICIENT_BUFFER;
    }
    return S_OK;
}

static inline HRESULT StringCchPrintfA(STRSAFE_LPSTR pszDest, size_t cchDest, STRSAFE_LPCSTR pszFormat, ...) {
    va_list ap;
    va_start(ap, pszFormat);
    HRESULT hr = StringCchVPrintfA(pszDest, cchDest, pszFormat, ap);
    va_end(ap);
    return hr;
}

STRSAFEAPI StringCbVPrintfA(STRSAFE_LPSTR pszDest, size_t cbDest, STRSAFE_LPCSTR pszFormat, va_list argList) {
    return StringCchVPrintfA(pszDest, cbDest / sizeof(char), pszFormat, argList);
}

static inline HRESULT StringCbPrintfA(STRSAFE_LPSTR pszDest, size_t cbDest, STRSAFE_LPCSTR pszFormat, ...) {
    va_list ap;
    va_start(ap, pszFormat);
    HRESULT hr = StringCchVPrintfA(pszDest, cbDest / sizeof(char), pszFormat, ap);
    va_end(ap);
    return hr;
}

/* --- Copy ---------------------------------------------------------------------------- */
STRSAFEAPI StringCchCopyA(STRSAFE_LPSTR pszDest, size_t cchDest, STRSAFE_LPCSTR pszSrc) {
    return ovl_strsafe_copy_n(pszDest, cchDest, pszSrc, (size_t)-1, 0);
}

STRSAFEAPI StringCbCopyA(STRSAFE_LPSTR pszDest, size_t cbDest, STRSAFE_LPCSTR pszSrc) {
    return ovl_strsafe_copy_n(pszDest, cbDest / sizeof(char), pszSrc, (size_t)-1, 0);
}

STRSAFEAPI StringCchCopyNA(STRSAFE_LPSTR pszDest, size_t cchDest, STRSAFE_PCNZCH pszSrc, size_t cchToCopy) {
    return ovl_strsafe_copy_n(pszDest, cchDest, pszSrc, cchToCopy, 1);
}

STRSAFEAPI StringCbCopyNA(STRSAFE_LPSTR pszDest, size_t cbDest, STRSAFE_PCNZCH pszSrc, size_t cbToCopy) {
    return ovl_strsafe_copy_n(pszDest, cbDest / sizeof(char), pszSrc, cbToCopy / sizeof(char), 1);
}

/* --- Cat ----------------------------------------------------------------------------- */
STRSAFEAPI StringCchCatA(STRSAFE_LPSTR pszDest, size_t cchDest, STRSAFE_LPCSTR pszSrc) {
    return ovl_strsafe_cat_n(pszDest, cchDest, pszSrc, (size_t)-1, 0);
}

STRSAFEAPI StringCbCatA(STRSAFE_LPSTR pszDest, size_t cbDest, STRSAFE_LPCSTR pszSrc) {
    return ovl_strsafe_cat_n(pszDest, cbDest / sizeof(char), pszSrc, (size_t)-1, 0);
}

STRSAFEAPI StringCchCatNA(STRSAFE_LPSTR pszDest, size_t cchDest, STRSAFE_PCNZCH pszSrc, size_t cchToAppend) {
    return ovl_strsafe_cat_n(pszDest, cchDest, pszSrc, cchToAppend, 1);
}

STRSAFEAPI StringCbCatNA(STRSAFE_LPSTR pszDest, size_t cbDest, STRSAFE_PCNZCH pszSrc, size_t cbToAppend) {
    return ovl_strsafe_cat_n(pszDest, cbDest / sizeof(char), pszSrc, cbToAppend / sizeof(char), 1);
}

/* --- Length -------------------------------------------------------------------------- */
STRSAFEAPI StringCchLengthA(STRSAFE_PCNZCH psz, size_t cchMax, size_t *pcchLength) {
    return ovl_strsafe_length(psz, cchMax, pcchLength);
}

STRSAFEAPI StringCbLengthA(STRSAFE_PCNZCH psz, size_t cbMax, size_t *pcbLength) {
    HRESULT hr = ovl_strsafe_length(psz, cbMax / sizeof(char), pcbLength);
    if (pcbLength != NULL)
        *pcbLength *= sizeof(char);
    return hr;
}

/* --- the generic names: the ANSI build ------------------------------------------------ */
#define StringCchPrintf StringCchPrintfA
#define StringCchVPrintf StringCchVPrintfA
#define StringCbPrintf StringCbPrintfA
#define StringCbVPrintf StringCbVPrintfA
#define StringCchCopy StringCchCopyA
#define StringCbCopy StringCbCopyA
#define StringCchCopyN StringCchCopyNA
#define StringCbCopyN StringCbCopyNA
#define StringCchCat StringCchCatA
#define StringCbCat StringCbCatA
#define StringCchCatN StringCchCatNA
#define StringCbCatN StringCbCatNA
#define StringCchLength StringCchLengthA
#define StringCbLength StringCbLengthA

#ifdef __cplusplus
}
#endif

#endif /* OVL_STRSAFE_H */
