#include "integration/sim/sim_fixture.hpp"
