/* tchar.h: the ANSI mapping of the generic-text names (libws2_32 headers). */
#ifndef OVL_TCHAR_H
#define OVL_TCHAR_H
#include "windows.h"
#define _tmain main
#define _T(x) x
#define _TEXT(x) x
#endif
