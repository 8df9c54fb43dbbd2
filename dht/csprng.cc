#include "dht/csprng.h"

#include <sodium.h>

namespace kad::dht {

Csprng::result_type Csprng::operator()() {
  result_type value = 0;
  randombytes_buf(&value, sizeof value);
  return value;
}

}  // namespace kad::dht
