// libjpeg-turbo's TurboJPEG API: JPEG decoding that reports errors as return values
// (the classic libjpeg API exits or longjmps on a corrupt file, which Swift cannot catch).
#include <turbojpeg.h>
