// SwiftPM drops pkg-config's -D flags: ask for the wide-character API here.
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <curses.h>

// Attribute and mouse-mask macros Swift cannot import (they expand to shifted expressions).
static inline attr_t fs_a_bold(void) { return A_BOLD; }
static inline attr_t fs_a_reverse(void) { return A_REVERSE; }
static inline attr_t fs_a_dim(void) { return A_DIM; }
static inline attr_t fs_a_underline(void) { return A_UNDERLINE; }
static inline mmask_t fs_button1_pressed(void) { return BUTTON1_PRESSED | BUTTON1_CLICKED; }
static inline mmask_t fs_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t fs_button5_pressed(void) { return BUTTON5_PRESSED; }
