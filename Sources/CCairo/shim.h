// Debian puts the headers in a cairo/ subfolder; naming it here spares a pkg-config lookup.
#include <cairo/cairo.h>
#include <cairo/cairo-svg.h>
