#!/bin/sh
# Prints its arguments, one a line, bracketed.
echo "$(basename "$0"): $# arguments"
for a in "$@"; do echo "  [$a]"; done
