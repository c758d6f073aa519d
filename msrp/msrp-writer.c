#include "msrp-writer.h"
