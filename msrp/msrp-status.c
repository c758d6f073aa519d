#include "msrp-status.h"
