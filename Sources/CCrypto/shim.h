// OpenSSL's libcrypto, for SHA-256 of image files (SHA-NI where the CPU has it).
#include <openssl/evp.h>
