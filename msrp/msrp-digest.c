#include "msrp-digest.h"
