// libyaml's event parser (Debian: libyaml-dev), read by LinxHost's YAMLEvents.
#include <yaml.h>
