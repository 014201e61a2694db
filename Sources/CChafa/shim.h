#include <chafa.h>

// GLib's GString, which chafa_canvas_print returns, read and freed without GLib macros.
static inline const char *fs_gstring_str(const GString *s) { return s->str; }
static inline gsize fs_gstring_len(const GString *s) { return s->len; }
static inline void fs_gstring_free(GString *s) { g_string_free(s, TRUE); }
