#include "msrp-parser.h"
