#!/bin/sh
# Builds scripts/bench-core (the core calls of init, register --reference, promote, observe,
# monitor) with the MregCore sources as ONE optimised module (swiftc -O, whole module), linked
# with the Crypto and Yams objects of an existing `swift build` (debug or release) in .build/.
# For benchmarks of the core when the release `mreg`, which also builds the S3 client, is not
# built: the figures it gives are those of optimised core code, which is what observe and
# profiling spend their time in. Output: .build/bench-core.
#
#   sh scripts/build-bench-core.sh [debug|release]    # whose dependency objects to link (debug)
set -e
cd "$(dirname "$0")/.."
conf=${1:-debug}
deps=.build/$conf
[ -d "$deps/Modules" ] || { echo "build the dependencies first: swift build${conf:+ -c $conf}" >&2; exit 2; }
objs=$(for d in Crypto CCryptoBoringSSL CCryptoBoringSSLShims CryptoBoringWrapper CXKCP CXKCPShims Yams CYaml; do
    find "$deps/$d.build" -name '*.o'; done)
swiftc -O -wmo -swift-version 6 -module-name MregCore \
    $(find Sources/MregCore -name '*.swift') scripts/bench-core/main.swift \
    -I "$deps/Modules" -Xcc -fmodule-map-file=Sources/CZlib/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CMregSys/module.modulemap \
    -Xcc -fmodule-map-file=.build/checkouts/Yams/Sources/CYaml/include/module.modulemap \
    $objs -lz -lstdc++ -o .build/bench-core
echo ".build/bench-core"
