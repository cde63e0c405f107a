// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mreg",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mreg", targets: ["mreg"]),
        .library(name: "MregCore", targets: ["MregCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // The dashboard's HTML markup and escaping (MregDashboard only).
        .package(url: "https://github.com/JohnSundell/Plot", exact: "0.14.0"),
        // Remotes (S3): the HTTP client, only in the MregRemote target.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // The system zlib, through a module map and a shim header (deflateInit/inflateInit are macros).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // Linux system calls that Glibc's Swift overlay does not import (renameat2).
        .systemLibrary(name: "CMregSys"),
        // The registry: store, refs, history, gates, metrics. Knows nothing of argument parsing.
        .target(
            name: "MregCore",
            dependencies: [
                "CZlib",
                "CMregSys",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The thin command-line front end.
        .executableTarget(
            name: "mreg",
            dependencies: [
                "MregCore",
                "MregDashboard",
                "MregRemote",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `mreg dashboard`: one self-contained HTML page per model (Plot for markup and escaping,
        // SVG charts of its own). Its own target so that only it brings Plot.
        .target(
            name: "MregDashboard",
            dependencies: ["MregCore", .product(name: "Plot", package: "Plot")]
        ),
        .testTarget(
            name: "MregDashboardTests",
            dependencies: ["MregDashboard", "mreg", "MregCore", "_MregTestSupport"]
        ),
        // Dashboard benchmark at 1,000 versions, 365 windows, 50 features (scripts/bench_dashboard.py).
        .executableTarget(
            name: "mreg-dashboard-bench",
            dependencies: ["MregCore", "MregDashboard"]
        ),
        // Remotes: S3 storage (Signature Version 4, conditional writes, multipart) on AsyncHTTPClient.
        .target(
            name: "MregRemote",
            dependencies: [
                "MregCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "MregRemoteTests",
            dependencies: ["mreg", "MregRemote", "MregCore", "_MregTestSupport"]
        ),
        // Benchmark data generator (scripts/benchmark.py): many versions in one process.
        .executableTarget(
            name: "mreg-populate",
            dependencies: ["MregCore"]
        ),
        // Test support: temporary registries, fixture trees, running the built binary.
        .target(
            name: "_MregTestSupport",
            dependencies: ["MregCore"],
            path: "Sources/_MregTestSupport"
        ),
        .testTarget(
            name: "MregCoreTests",
            dependencies: ["MregCore", "_MregTestSupport"]
        ),
        .testTarget(
            name: "MregEndToEndTests",
            dependencies: ["mreg", "MregCore", "_MregTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
