#include "msrp-uri.h"
