#include "msrp-reassembly.h"
