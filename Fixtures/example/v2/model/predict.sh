#!/bin/sh
# Scores transactions read from stdin with the weights beside this script.
exec python3 "$(dirname "$0")/score.py" "$@"
