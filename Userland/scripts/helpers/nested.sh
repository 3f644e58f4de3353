#!/bin/sh
# A script that runs a script that runs a script.
dir=$(dirname "$0")
echo "nested: level 1"
sh -c "echo 'nested: level 2'; \"$dir/args.sh\" level 3"
